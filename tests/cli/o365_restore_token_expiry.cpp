// Quirk(O365): a restore into Exchange Online outlives its OAuth2 access
// token ("* BYE Session invalidated - AccessTokenExpired"). The restore
// renews the token at once through the backup's path (sync::
// renew_expired_token: the token named refused, so the next AUTHENTICATE
// carries a fresh one), connects again and goes on: no message lost,
// appended twice or failed. A second expiry right after a fresh token is an
// authentication error (exit 3), never a loop. The model server's O365 mode
// with XOAUTH2, the real TokenSource against the in-memory token endpoint.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/archive/restore.hpp>
#include <set>
#include <sstream>

#include "cli/archive_commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_restore.hpp"
#include "cli/oauth2_token.hpp"
#include "oauth2_fake_endpoint.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using cli_test::FakeEndpoint;
using cli_test::token_json;

namespace {

constexpr int kMessages = 6;

// A backup of an ordinary account ("acct", 6 messages in INBOX), restored
// into an O365 target ("dst") that logs in with XOAUTH2.
struct RestoreExpiryFixture : ModelFixture {
    ModelServer target;
    sync::AccountConfig dst;

    RestoreExpiryFixture() {
        server.add_mailbox("INBOX");
        for (int i = 1; i <= kMessages; ++i)
            server.append("INBOX", message("r" + std::to_string(i)));
        account.connections = 1;
        auto b = backup();
        REQUIRE(report_ok(b));
        target.make_o365({}, /*files_items=*/0);
        target.oauth2_valid = [this](const std::string& token) { return valid.count(token) > 0; };
        dst.name = "dst";
        dst.connect = target.connect_options();
        dst.connect.auth = "oauth2";
        dst.connections = 1;
        cli::OAuth2Settings s;
        s.account = dst.name;
        s.token_url = "https://auth.example/token";
        s.client_id = "client-1";
        s.cache_file = (dir.path / "dst.oauth2.json").string();
        cli::TokenCache cache;
        cache.refresh_token = "refresh-1";
        cli::write_token_cache(s.cache_file, cache);
        endpoint->reply(200, token_json("tok-1", 3600));
        endpoint->reply(200, token_json("tok-2", 3600));
        endpoint->reply(200, token_json("tok-3", 3600));
        cli::use_token_source(
            dst.connect, std::make_shared<cli::TokenSource>(s, FakeEndpoint::poster(endpoint)));
    }

    archive::RestoreReport restore() {
        archive::RestoreOptions o;
        o.source_account = account.name;
        o.settle_quiet = std::chrono::milliseconds(10);
        return archive::restore_account(dst, *store.catalog, *store.messages, o);
    }

    std::multiset<std::string> target_bodies() {
        std::multiset<std::string> out;
        for (const auto& [uid, m] : target.mailbox("INBOX").messages) out.insert(m.body);
        return out;
    }
    std::multiset<std::string> source_bodies() {
        std::multiset<std::string> out;
        for (const auto& [uid, body] : on_server("INBOX")) out.insert(body);
        return out;
    }

    std::set<std::string> valid;
    std::shared_ptr<FakeEndpoint> endpoint = std::make_shared<FakeEndpoint>();
};

std::string errors_of(const archive::RestoreReport& r) {
    std::string out = r.error + "\n";
    for (const auto& m : r.mailboxes) {
        out += m.source + ": " + m.error + "\n";
        for (const auto& f : m.failures)
            out += "  uid " + std::to_string(f.uid) + ": " + f.reason + "\n";
    }
    return out;
}

bool is_append(const ModelCommand& c) { return c.name == "APPEND"; }

// What the user sees of a restore: stderr and stdout of the summary, the JSON
// report and the run log.
struct Shown {
    std::string err, out, json, log;
};

Shown shown(const archive::RestoreReport& report, const std::filesystem::path& dir) {
    std::ostringstream out, err;
    cli::Io io{out, err, false};
    cli::RestoreArgs args;
    args.account = report.source_account;
    args.to = report.target_account;
    cli::print_restore_report(io, report, args);
    const auto log_path = dir / "restore.log";
    {
        cli::Logger log;
        log.open_file(log_path.string());
        cli::log_restore_report(log, report, false);
    }
    std::ifstream in(log_path);
    std::stringstream log;
    log << in.rdbuf();
    cli::RunInfo run;
    run.command = "restore";
    return {err.str(), out.str(), cli::restore_report_json(run, report, std::nullopt).dump(),
            log.str()};
}

}  // namespace

TEST_CASE("o365 restore: AccessTokenExpired renews the token at once, every message lands once",
          "[o365][oauth2][restore]") {
    // The command whose session outlived its token: the mailbox's SELECT
    // (nothing appended yet on that connection), the first APPEND, or an
    // APPEND in the middle of the mailbox.
    const std::string at = GENERATE("SELECT", "APPEND 1", "APPEND 4");
    RestoreExpiryFixture f;
    f.valid = {"tok-1", "tok-2"};
    bool expired = false;
    int appends = 0;
    f.target.on_command = [&](const ModelCommand& c) {
        if (is_append(c)) ++appends;
        const bool here = at == "SELECT"
                              ? c.name == "SELECT"
                              : is_append(c) && "APPEND " + std::to_string(appends) == at;
        if (!expired && here) {
            expired = true;
            f.valid.erase("tok-1");
        }
    };
    auto report = f.restore();
    INFO(at << "\n" << errors_of(report));
    CHECK(report.error.empty());
    CHECK_FALSE(report.failed());
    CHECK(f.target.oauth2_expired_byes() == 1);
    // Renewed at once: the refused token is never offered again.
    CHECK(f.target.oauth2_tried() == std::vector<std::string>{"tok-1", "tok-2"});
    CHECK(f.endpoint->requests.size() == 2);
    // Every message once: none lost, none appended twice.
    CHECK(f.target_bodies() == f.source_bodies());
    CHECK(f.target.mailbox("INBOX").messages.size() == static_cast<std::size_t>(kMessages));
    // The APPEND the BYE cut was never executed: one more APPEND command at most.
    CHECK(f.target.count_commands("APPEND") <= static_cast<std::size_t>(kMessages) + 1);
    CHECK(cli::exit_code_for(report) == cli::kExitOk);
    // The user learns of the renewal, as after a backup: a note on stderr,
    // in the JSON report and in the run log (a warning). Never a token.
    const auto seen = shown(report, f.dir.path);
    INFO(seen.err << seen.log);
    // The renewal's note: after `lead` in each.
    const auto has_note = [](const std::string& text, const std::string& lead) {
        const auto at = text.find(lead + "dst: the server ended the session (");
        if (at == std::string::npos) return false;
        const auto line = text.substr(at, text.find('\n', at) - at);
        return line.find("AccessTokenExpired") != std::string::npos &&
               line.find("renewing the OAuth2 access token and connecting again") !=
                   std::string::npos;
    };
    CHECK(has_note(seen.err, "imapkeep: "));
    CHECK(has_note(seen.json, "\"notes\":[\""));
    CHECK(has_note(seen.log, " warning account=\"dst\" "));
    for (const auto& text : {seen.err, seen.out, seen.json, seen.log})
        CHECK_THAT(text, !Catch::Contains("tok-") && !Catch::Contains("refresh-1"));
}

TEST_CASE(
    "o365 restore: AccessTokenExpired right after a fresh token is an auth error, exit 3, no loop",
    "[o365][oauth2][restore]") {
    RestoreExpiryFixture f;
    // Every token is taken at AUTHENTICATE, and has expired by the first APPEND.
    std::set<std::string> used;
    f.target.oauth2_valid = [&](const std::string& token) { return !used.count(token); };
    f.target.on_command = [&](const ModelCommand& c) {
        if (is_append(c))
            for (const auto& t : f.target.oauth2_tried()) used.insert(t);
    };
    auto report = f.restore();
    INFO(errors_of(report));
    CHECK(f.target.oauth2_expired_byes() == 2);
    CHECK(f.endpoint->requests.size() == 2);
    CHECK(f.target.mailbox("INBOX").messages.empty());
    CHECK(report.connect_failed);
    CHECK(report.error_kind == imap::ConnectError::Kind::Auth);
    CHECK_THAT(report.error, Catch::Contains("AccessTokenExpired") && Catch::Contains("renewed"));
    CHECK(cli::exit_code_for(report) == cli::kExitConnect);
}
