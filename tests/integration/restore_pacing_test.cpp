// Issue 12, restore side of "Throttling and pacing", through the imapkeep
// binary against the test Dovecot: `imapkeep restore` obeys the target's
// max_messages_per_second (seen in the elapsed time: a lower bound only, so
// a slow machine cannot make it fail) and its daily upload budget
// (daily_upload_mb): the run stops with exit 75 once the budget is spent,
// says how much was uploaded and when to resume, a second run the same day
// sends nothing more, and a run with a larger budget finishes the restore
// without a duplicate.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "integration/imapkeep_process.hpp"
#include "integration/restore_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

// user1's mailbox `p` backed up by the binary, then restored by it into
// user2's root `r`; both are deleted at the end.
struct PacingFixture {
    std::unique_ptr<imap::Client> c1 =
        imap::connect_and_login(server_options(ServerKind::Dovecot, 1));
    std::unique_ptr<imap::Client> c2 =
        imap::connect_and_login(server_options(ServerKind::Dovecot, 2));
    std::string p = unique_name("ikpace");
    std::string r = unique_name("ikpacer");
    TempDir dir;

    ~PacingFixture() {
        try {
            delete_tree(*c1, p);
            delete_tree(*c2, r);
        } catch (const std::exception&) {
        }
    }

    void fill(int messages, std::size_t body_bytes) {
        c1->create(p);
        for (int i = 0; i < messages; ++i) {
            std::string body = "From: a@example.org\r\nSubject: pace " + std::to_string(i) +
                               "\r\nMessage-ID: <pace" + std::to_string(i) +
                               "@example.org>\r\n\r\n";
            while (body.size() < body_bytes) body += std::string(70, char('a' + i % 26)) + "\r\n";
            c1->append(p, {}, std::nullopt, body);
        }
    }

    // The config: account "src" (user1, mailbox p) and "dst" (user2) with
    // `dst_pacing` lines.
    std::string config(const std::string& dst_pacing) {
        const auto path = dir.path / "config.toml";
        auto account = [&](const char* name, int user, const std::string& extra) {
            const auto o = server_options(ServerKind::Dovecot, user);
            std::ostringstream a;
            a << "[[account]]\nname = \"" << name << "\"\nhost = \"" << o.host
              << "\"\nport = " << o.port
              << "\ntls = \"none\"\nallow_plaintext_auth = true\nuser = \"" << test_user(user)
              << "\"\npassword = \"" << test_password(user) << "\"\nconnections = 1\n"
              << extra;
            return a.str();
        };
        std::ofstream(path) << "[store]\npath = \"" << (dir.path / "store").string() << "\"\n\n"
                            << account("src", 1, "mailboxes = [\"" + p + "\"]\n") << "\n"
                            << account("dst", 2, dst_pacing);
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
        return path.string();
    }

    ChildResult run(const std::vector<std::string>& args) {
        auto result = run_imapkeep_binary(args, dir.path);
        INFO("imapkeep " << args.front() << ": exit " << result.code << "\n"
                         << result.out << result.err);
        return result;
    }
    ChildResult restore(const std::string& config) {
        return run({"restore", "--config", config, "--account", "src", "--to", "dst", "--prefix",
                    r + "/"});
    }
    std::vector<TargetMessage> target() {
        return fetch_messages(*c2, r + hierarchy_delimiter(*c2) + p);
    }
};

}  // namespace

TEST_CASE("restore obeys the target's max_messages_per_second (elapsed time, a lower bound)",
          "[integration][restore][pacing]") {
    if (!have_dovecot_env()) return;
    PacingFixture f;
    constexpr int kMessages = 10;
    f.fill(kMessages, 200);
    const auto config = f.config("max_messages_per_second = 4\n");
    REQUIRE(f.run({"backup", "--config", config, "--account", "src"}).code == 0);
    auto restored = f.restore(config);
    INFO(restored.out << restored.err);
    REQUIRE(restored.code == 0);
    CHECK(f.target().size() == static_cast<std::size_t>(kMessages));
    // A burst of one second's worth (4), then 6 more at 4 a second: 1.5 s
    // at least, however fast the machine; without pacing this takes a
    // fraction of that.
    WARN("restore of " << kMessages << " messages at 4 a second: " << restored.seconds << " s");
    CHECK(restored.seconds >= 1.4);
}

TEST_CASE("restore stops at the daily upload budget with exit 75 and resumes without duplicates",
          "[integration][restore][pacing][budget]") {
    if (!have_dovecot_env()) return;
    PacingFixture f;
    constexpr int kMessages = 5;
    constexpr std::size_t kBody = 400 * 1024;  // 1 MB a day takes 2 of them
    f.fill(kMessages, kBody);
    auto config = f.config("daily_upload_mb = 1\n");
    REQUIRE(f.run({"backup", "--config", config, "--account", "src"}).code == 0);

    auto first = f.restore(config);
    INFO(first.out << first.err);
    CHECK(first.code == 75);
    CHECK_THAT(first.err, Catch::Contains("daily upload budget reached") &&
                              Catch::Contains("3 messages left") && Catch::Contains("00:00 UTC"));
    CHECK(f.target().size() == 2);

    // The same day: the first run's bytes count, nothing more is sent.
    auto second = f.restore(config);
    INFO(second.out << second.err);
    CHECK(second.code == 75);
    CHECK_THAT(second.err, Catch::Contains("3 messages left"));
    CHECK(f.target().size() == 2);

    // A larger budget (as tomorrow's would be): the rest, each message once.
    config = f.config("daily_upload_mb = 10\n");
    auto third = f.restore(config);
    INFO(third.out << third.err);
    CHECK(third.code == 0);
    auto copies = f.target();
    CHECK(copies.size() == static_cast<std::size_t>(kMessages));
    std::set<std::string> distinct;
    for (const auto& m : copies) distinct.insert(m.sha256);
    CHECK(distinct.size() == static_cast<std::size_t>(kMessages));
}
