// `imapkeep export --url` as a user runs it, against the test Dovecot's
// implicit-TLS port: the server's certificate comes from the test CA, which
// only --ca-file makes trusted (issue 11: "export --url has no --ca-file").
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

TEST_CASE("export --url over TLS trusts the --ca-file it is given, and only that", "[integration][export]") {
    if (!test_env_has({"IMAPKEEP_TEST_IMAPS_PORT", "IMAPKEEP_TEST_CA_FILE"}, "the test Dovecot")) return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string mailbox = unique_name("ikurl");
    admin->create(mailbox);
    const std::string body = "Subject: over TLS\r\n\r\nexported with --ca-file\r\n";
    admin->append(mailbox, {}, std::nullopt, body);

    TempDir dir;
    ::chmod(dir.path.c_str(), 0700);
    const fs::path pw = dir.path / "pw";
    std::ofstream(pw) << test_password(1) << "\n";
    ::chmod(pw.c_str(), 0600);
    const std::string url =
        "imaps://" + test_user(1) + "@localhost:" + *env("IMAPKEEP_TEST_IMAPS_PORT") + "/" + mailbox;
    auto run = [&](const std::string& output, std::vector<std::string> extra) {
        std::vector<std::string> args{"export",        "--url",    url,   "--password-file", pw.string(),
                                      "--format",      "mbox",     "--output", (dir.path / output).string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_imapkeep_binary(args, dir.path);
    };

    SECTION("with the CA: the mailbox is exported, and --log-file gets the result") {
        const auto log = dir.path / "run.log";
        auto r = run("ok.mbox", {"--ca-file", *env("IMAPKEEP_TEST_CA_FILE"), "--log-file", log.string()});
        INFO(r.err);
        CHECK(r.code == 0);
        // One mailbox: the output is that one mbox file, not a directory.
        REQUIRE(fs::is_regular_file(dir.path / "ok.mbox"));
        CHECK(slurp_file(dir.path / "ok.mbox").find("exported with --ca-file") != std::string::npos);
        CHECK_THAT(slurp_file(log), Catch::Contains(" info export: 1 mailbox, 1 message (") &&
                                        Catch::Contains("ok.mbox (mbox)"));
    }
    SECTION("without it: the certificate is refused, nothing is written") {
        auto r = run("no.mbox", {});
        CHECK(r.code == 3);
        CHECK_THAT(r.err, Catch::Contains("certificate verify failed"));
        CHECK_FALSE(fs::exists(dir.path / "no.mbox"));
    }
    SECTION("a --ca-file that is not there is a usage error") {
        auto r = run("missing.mbox", {"--ca-file", (dir.path / "nope.pem").string()});
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Catch::Contains("--ca-file") && Catch::Contains("nope.pem"));
    }
    admin->delete_mailbox(mailbox);
}
