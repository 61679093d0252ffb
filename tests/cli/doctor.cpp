// doctor's decisions, from tables: each check's status, detail and hint for
// the facts it is given, the line format, and the exit status. The checks that
// look at the world run against the test Dovecot in
// tests/integration/doctor_test.cpp.
#include "cli/doctor.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <map>

#include "cli/cli_fixture.hpp"
#include "cli/lock.hpp"

using namespace imapkeep::cli;

namespace {

const char* word(CheckStatus s) {
    return s == CheckStatus::Ok ? "OK" : s == CheckStatus::Warn ? "WARN" : "FAIL";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("doctor: a check is one line, with a hint only for WARN and FAIL", "[doctor]") {
    struct Row {
        CheckResult check;
        std::string expected;
    };
    const Row rows[] = {
        {ok("config", "/c.toml loads"), "OK   config                 /c.toml loads"},
        {warn("store: lock", "held by pid 7", "wait"),
         "WARN store: lock            held by pid 7 -- hint: wait"},
        {fail("work: login", "NO [AUTHENTICATIONFAILED]\r\nbye", "check it"),
         "FAIL work: login            NO [AUTHENTICATIONFAILED]  bye -- hint: check it"},
    };
    for (const auto& row : rows) {
        INFO(row.expected);
        CHECK(format_check(row.check) == row.expected);
    }
}

TEST_CASE("doctor: exit 0 with WARNs, 1 with any FAIL", "[doctor]") {
    CHECK(doctor_exit_code({}) == 0);
    CHECK(doctor_exit_code({ok("a", ""), warn("b", "", "h")}) == 0);
    CHECK(doctor_exit_code({ok("a", ""), fail("b", "", "h"), warn("c", "", "h")}) == 1);
}

TEST_CASE("doctor: free space warns below 1 GiB", "[doctor]") {
    struct Row {
        std::uint64_t bytes;
        CheckStatus status;
    };
    const Row rows[] = {{0, CheckStatus::Warn},
                        {kLowFreeSpaceBytes - 1, CheckStatus::Warn},
                        {kLowFreeSpaceBytes, CheckStatus::Ok},
                        {500ull << 30, CheckStatus::Ok}};
    for (const auto& row : rows) {
        auto c = free_space_check(row.bytes, "/srv");
        INFO(row.bytes << ": " << format_check(c));
        CHECK(word(c.status) == std::string(word(row.status)));
        CHECK(contains(c.detail, "free on /srv"));
        CHECK((c.status == CheckStatus::Ok || !c.hint.empty()));
    }
}

TEST_CASE("doctor: lock states: free, held by a pid, left by a run that died", "[doctor]") {
    struct Row {
        LockFacts facts;
        CheckStatus status;
        std::string detail;
    };
    const Row rows[] = {
        {{std::nullopt, false, ""}, CheckStatus::Ok, "free"},
        {{4242, false, ""}, CheckStatus::Warn, "held by pid 4242"},
        {{0, false, ""}, CheckStatus::Warn, "pid unknown"},
        {{std::nullopt, true, "2026-01-02T03:04:05Z"}, CheckStatus::Warn, "interrupted"},
        // A run in progress has no end yet either: the lock says which it is.
        {{99, true, "2026-01-02T03:04:05Z"}, CheckStatus::Warn, "held by pid 99"},
    };
    for (const auto& row : rows) {
        auto c = lock_check(row.facts);
        INFO(format_check(c));
        CHECK(word(c.status) == std::string(word(row.status)));
        CHECK(contains(c.detail, row.detail));
    }
}

TEST_CASE("doctor: catalog: none yet, a version, PostgreSQL, or the loader's refusal", "[doctor]") {
    struct Row {
        CatalogFacts facts;
        CheckStatus status;
        std::string detail;
    };
    const Row rows[] = {
        {{false, 0, 5, "", ""}, CheckStatus::Ok, "none yet"},
        {{true, 5, 5, "", ""}, CheckStatus::Ok, "schema version 5 (this imapkeep: 5)"},
        {{true, 9, 5, "catalog schema version 9 is newer", ""}, CheckStatus::Fail, "newer"},
        {{true, 5, 5, "", "PostgreSQL db/mail, schema imapkeep"}, CheckStatus::Ok,
         "PostgreSQL db/mail, schema imapkeep: connects, schema version 5"},
        {{false, 0, 5, "PostgreSQL db/mail, schema imapkeep: connection refused",
          "PostgreSQL db/mail, schema imapkeep"},
         CheckStatus::Fail, "connection refused"},
    };
    for (const auto& row : rows) {
        auto c = catalog_check(row.facts);
        INFO(format_check(c));
        CHECK(word(c.status) == std::string(word(row.status)));
        CHECK(contains(c.detail, row.detail));
    }
}

TEST_CASE("doctor: TLS verdicts: verified, expiring, expired, unverified, pinned", "[doctor]") {
    const std::int64_t day = 86400;
    auto facts = [&](std::int64_t left) {
        TlsFacts f;
        f.protocol = "TLSv1.3";
        f.subject = "/CN=imap.example.com";
        f.issuer = "/CN=Test CA";
        f.fingerprint = std::string(64, 'a');
        f.seconds_left = left;
        return f;
    };
    struct Row {
        std::string what;
        TlsFacts facts;
        CheckStatus status;
        std::string detail;
    };
    TlsFacts no_handshake;
    no_handshake.handshake_error = "wrong version number";
    TlsFacts bad_chain = facts(90 * day);
    bad_chain.verify_error = "unable to get local issuer certificate";
    TlsFacts unverified = bad_chain;
    unverified.verify = false;
    TlsFacts pinned_ok = bad_chain;
    pinned_ok.pinned = pinned_ok.pin_matched = true;
    TlsFacts pinned_other = pinned_ok;
    pinned_other.pin_matched = false;
    const Row rows[] = {
        {"verified", facts(90 * day), CheckStatus::Ok, "verified, expires in 90 days"},
        {"expires in 13 days", facts(13 * day), CheckStatus::Warn, "expires in 13 days"},
        {"expires in 14 days", facts(14 * day), CheckStatus::Ok, "expires in 14 days"},
        {"expired", facts(-3 * day), CheckStatus::Fail, "expired 3 days ago"},
        {"expires now", facts(0), CheckStatus::Fail, "expired"},
        {"no handshake", no_handshake, CheckStatus::Fail, "no TLS handshake: wrong version number"},
        {"chain", bad_chain, CheckStatus::Fail, "verify failed: unable to get local issuer"},
        {"tls_verify = false", unverified, CheckStatus::Warn, "NOT verified"},
        {"pinned", pinned_ok, CheckStatus::Ok, "pinned fingerprint matches"},
        {"pinned, other certificate", pinned_other, CheckStatus::Fail, "is not in tls_fingerprint"},
    };
    for (const auto& row : rows) {
        auto c = tls_check("work: tls", row.facts);
        INFO(row.what << ": " << format_check(c));
        CHECK(word(c.status) == std::string(word(row.status)));
        CHECK(contains(c.detail, row.detail));
        CHECK(c.name == "work: tls");
    }
}

TEST_CASE("doctor: the sync path backup will use", "[doctor]") {
    struct Row {
        std::vector<std::string> caps;
        std::string sync_path;
        std::string expected;
    };
    const Row rows[] = {
        {{"IMAP4REV1", "ENABLE", "QRESYNC", "CONDSTORE"}, "", "QRESYNC"},
        {{"IMAP4REV1", "QRESYNC", "CONDSTORE"}, "", "CONDSTORE"},  // QRESYNC needs ENABLE
        {{"IMAP4REV1", "ENABLE", "QRESYNC"}, "condstore", "CONDSTORE"},
        {{"IMAP4REV1", "ENABLE", "QRESYNC"}, "plain", "plain"},
        {{"IMAP4REV1", "CONDSTORE"}, "qresync", "CONDSTORE"},
        {{"IMAP4REV1"}, "", "plain"},
    };
    for (const auto& row : rows) {
        INFO(row.sync_path << " -> " << row.expected);
        CHECK(predicted_sync_path(row.caps, row.sync_path) == row.expected);
    }
    auto c = sync_path_check("work: sync path", {"IMAP4REV1", "CONDSTORE"}, "", {"QRESYNC"});
    CHECK(c.detail == "CONDSTORE (disable_extensions = QRESYNC)");
}

TEST_CASE("doctor: a failed login has a hint per kind", "[doctor]") {
    using K = imapkeep::imap::ConnectError::Kind;
    for (auto kind : {K::Auth, K::Tls, K::HostKey, K::Network, K::Protocol}) {
        auto c = connect_failure_check("work: login", kind, "why");
        CHECK(c.status == CheckStatus::Fail);
        CHECK(c.detail == "why");
        CHECK_FALSE(c.hint.empty());
    }
    CHECK(contains(connect_failure_check("x", K::Auth, "").hint, "password_command"));
}

TEST_CASE("doctor: store path: there, to be created, or impossible", "[doctor]") {
    cli_test::CliFixture fx;
    CHECK(store_path_check(fx.store).status == CheckStatus::Ok);  // not there yet, parent writable
    CHECK(contains(store_path_check(fx.store).detail, "the first backup creates it"));
    std::ofstream(fx.store) << "a file";
    CHECK(store_path_check(fx.store).status == CheckStatus::Fail);
    CHECK(store_path_check(fx.store + "/below").status == CheckStatus::Fail);
}

TEST_CASE("doctor: config and password file permissions", "[doctor]") {
    cli_test::CliFixture fx;  // work has an inline password, home a password_command
    auto names_of = [](const std::vector<CheckResult>& checks, CheckStatus status) {
        std::string out;
        for (const auto& c : checks)
            if (c.status == status) out += c.name + ";";
        return out;
    };
    auto config = load_config(fx.config);
    CHECK(names_of(check_config_files(config, false), CheckStatus::Fail).empty());
    CHECK(names_of(check_config_files(config, false), CheckStatus::Warn).empty());

    ::chmod(fx.config.c_str(), 0644);  // holds work's password: backup refuses it
    auto checks = check_config_files(config, false);
    CHECK(names_of(checks, CheckStatus::Warn) == "config permissions;");
    CHECK(names_of(checks, CheckStatus::Fail) == "secret permissions;");
    for (const auto& c : checks) CHECK_FALSE(contains(format_check(c), "hunter2"));

    fx.write_config("allow_readable_secrets = true");
    ::chmod(fx.config.c_str(), 0644);
    config = load_config(fx.config);
    CHECK(names_of(check_config_files(config, false), CheckStatus::Fail).empty());
}

TEST_CASE("doctor: password sources: a missing file, no source at all", "[doctor]") {
    cli_test::CliFixture fx;
    std::ofstream(fx.config) << "[store]\npath = \"" << fx.store
                             << "\"\n[[account]]\nname = \"a\"\nhost = \"h\"\n"
                             << "user = \"u\"\npassword_file = \"nowhere.pw\"\n"
                             << "[[account]]\nname = \"b\"\nhost = \"h\"\nuser = \"u\"\n";
    ::chmod(fx.config.c_str(), 0600);
    auto config = load_config(fx.config);
    auto checks = check_config_files(config, false);
    int fails = 0;
    for (const auto& c : checks) fails += c.status == CheckStatus::Fail;
    CHECK(fails == 2);                          // a's file, b's source
    checks = check_config_files(config, true);  // IMAPKEEP_PASSWORD covers b
    fails = 0;
    for (const auto& c : checks) fails += c.status == CheckStatus::Fail;
    CHECK(fails == 1);
}

TEST_CASE("doctor command: a broken config FAILs with the loader's message, exit 1", "[doctor]") {
    cli_test::CliFixture fx;
    std::ofstream(fx.config) << "[store]\npath = 3\n";
    auto r = fx.run({"doctor", "--config", fx.config});
    CHECK(r.code == 1);
    CHECK(contains(r.out, "FAIL config"));
    CHECK(contains(r.out, "store.path"));
    CHECK_FALSE(contains(r.out, "store: "));  // stops there
}

TEST_CASE("doctor command: an unknown account is a usage error", "[doctor]") {
    cli_test::CliFixture fx;
    auto r = fx.run({"doctor", "--config", fx.config, "--account", "nope"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "no account named \"nope\""));
}

TEST_CASE("doctor command: unreachable accounts FAIL, the store is read, nothing is written",
          "[doctor]") {
    cli_test::CliFixture fx;
    auto r = fx.run({"--config", fx.config, "doctor", "--account", "work"});
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.out, "OK   config "));
    CHECK(contains(r.out, "FAIL work: dns"));
    CHECK_FALSE(contains(r.out, "home:"));
    CHECK(contains(r.out, "OK   store: lock"));
    CHECK(contains(r.out, "OK   store: catalog         none yet"));
    CHECK_FALSE(std::filesystem::exists(fx.store));
}

TEST_CASE("doctor command: a held lock is a WARN naming the pid", "[doctor]") {
    cli_test::CliFixture fx;
    StoreLock lock(fx.store);
    auto r = fx.run({"doctor", "--config", fx.config, "--account", "work"});
    CHECK(contains(r.out, "WARN store: lock            held by pid " + std::to_string(::getpid())));
}

TEST_CASE("doctor --help is doctor's", "[doctor]") {
    cli_test::CliFixture fx;
    auto r = fx.run({"doctor", "--help"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "--account"));
    CHECK_FALSE(contains(r.out, "--dry-run"));
}

namespace {

// Every path under `dir` with its size and mtime: what "writes nothing" means.
std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> listing(
    const std::string& dir) {
    std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        out[e.path().string()] = {e.is_regular_file() ? e.file_size() : 0, e.last_write_time()};
    return out;
}

}  // namespace

TEST_CASE(
    "doctor on a real store: schema version, a backup that died is 'interrupted', nothing written",
    "[doctor]") {
    cli_test::CliFixture fx;
    {
        StoreLock lock(fx.store);
        auto catalog = imapkeep::store::open_sqlite_catalog(fx.store + "/catalog.sqlite");
        catalog->begin_run("backup", 1767225600);  // and never finished: killed
    }
    const auto before = listing(fx.store);
    auto r = fx.run({"doctor", "--config", fx.config, "--account", "work"});
    INFO(r.out << r.err);
    CHECK(contains(r.out, "OK   store: catalog         opens read-only, schema version " +
                              std::to_string(imapkeep::store::catalog_schema_version())));
    CHECK(contains(
        r.out,
        "WARN store: lock            free; the last backup (started 2026-01-01T00:00:00Z) was "
        "interrupted -- hint: run imapkeep backup"));
    CHECK(listing(fx.store) == before);
}
