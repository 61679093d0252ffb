// Microsoft 365 quirks (issue 12), measured against the model server.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

// Quirk(O365): the server re-issues UIDVALIDITY with the same messages
// (imap-backup #234: whole mailboxes downloaded again). The re-match by
// Message-ID, INTERNALDATE and size must cost no message download at all.
TEST_CASE("Quirk(O365): a UIDVALIDITY change without content change downloads no body", "[sync][quirk][o365]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX", 100);
    for (int i = 1; i <= 40; ++i)
        f.server.append("INBOX", message("o365-" + std::to_string(i), std::string(1000 + i, 'm')),
                        i % 3 == 0 ? std::vector<std::string>{"\\Seen", "$MDNSent"} : std::vector<std::string>{});
    REQUIRE(report_ok(f.backup()));
    const auto files_before = f.files("INBOX");

    f.server.reset_uidvalidity("INBOX", 200);
    f.server.clear_log();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    const auto* inbox = find_report(report, "INBOX");
    REQUIRE(inbox);
    CHECK(inbox->uidvalidity_reset);
    // The measure: no BODY[] asked, nothing new, nothing retired.
    std::size_t body_fetches = 0;
    for (const auto& line : f.server.commands())
        if (line.find("BODY.PEEK[]") != std::string::npos) ++body_fetches;
    CHECK(body_fetches == 0);
    CHECK(inbox->new_messages == 0);
    CHECK(inbox->bytes == 0);
    CHECK(inbox->expunged == 0);
    auto record = f.record("INBOX");
    REQUIRE(record);
    CHECK(record->uidvalidity == 200);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    // The same bytes, in as many files; the keyword $MDNSent kept.
    CHECK(f.files("INBOX").size() == files_before.size());
    std::size_t mdn = 0;
    for (const auto& m : f.store.catalog->messages(record->id))
        for (const auto& flag : m.flags) mdn += flag == "$MDNSent";
    CHECK(mdn == 13);
}

// The same re-match measured by time, not only by counts: with a link on
// which each body costs 1 ms (a provider's bandwidth, slept by the model
// server), the first backup pays it for every message and the re-match after
// a UIDVALIDITY change for none. The numbers are printed (WARN); the check
// is only that the re-match costs less than the download did, which the
// slept time alone guarantees however slow the machine is.
TEST_CASE("Quirk(O365): the UIDVALIDITY re-match takes a fraction of the first download's time",
          "[sync][quirk][o365][timing]") {
    constexpr int kMessages = 2000;
    constexpr auto kPerBody = std::chrono::milliseconds(1);
    ModelFixture f;
    f.server.make_o365({}, 0);
    for (int i = 1; i <= kMessages; ++i)
        f.server.append(
            "INBOX", message("o365-t" + std::to_string(i), std::string(2000, char('a' + i % 26))));
    f.server.on_fetch_item = [&](const std::string&, std::uint32_t, const std::string& item,
                                 std::string&) {
        if (item == "BODY[]" || item == "RFC822") std::this_thread::sleep_for(kPerBody);
    };
    auto timed = [&](const char* what) {
        const auto start = std::chrono::steady_clock::now();
        auto report = f.backup();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        INFO(what << ": " << errors_of(report));
        REQUIRE(report_ok(report));
        return std::make_pair(report, seconds);
    };
    const auto [first, first_s] = timed("first backup");
    const auto [unchanged, unchanged_s] = timed("unchanged");
    f.server.reset_uidvalidity("INBOX", 4242);
    const auto [rematch, rematch_s] = timed("re-match");
    WARN("O365 UIDVALIDITY re-match of "
         << kMessages << " messages (1 ms a body on the link): first backup " << first_s
         << " s, unchanged run " << unchanged_s << " s, re-match " << rematch_s << " s");
    const auto* inbox = find_report(rematch, "INBOX");
    REQUIRE(inbox);
    CHECK(inbox->uidvalidity_reset);
    CHECK(inbox->new_messages == 0);
    CHECK(f.server.body_fetches("INBOX") ==
          static_cast<std::size_t>(kMessages));  // the first run's only
    CHECK(first_s >= kMessages * 0.001);
    CHECK(rematch_s < first_s);
}

// Quirk(O365): the system folder Files (attachment copies without headers) is
// listed but holds no mail. A backup skips it with a note: no error, no
// download, no folder in the store; the other mailboxes are backed up.
TEST_CASE("Quirk(O365): the reserved Files folder is skipped with a note, not backed up", "[sync][quirk][o365]") {
    ModelFixture f;
    f.server.make_o365();
    f.server.append("INBOX", message("a"));
    f.server.append("INBOX", message("b"));
    for (int run = 1; run <= 2; ++run) {
        INFO("run " << run);
        auto report = f.backup();
        INFO(errors_of(report));
        CHECK(report_ok(report));
        const auto* files = find_report(report, "Files");
        REQUIRE(files);
        CHECK(files->path == "skipped");
        CHECK(files->errors.empty());
        CHECK(files->skipped.find("Microsoft 365 reserves the folder Files") != std::string::npos);
        CHECK(files->new_messages == 0);
        CHECK_FALSE(f.record("Files"));
        CHECK(f.server.body_fetches("Files") == 0);
        CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    }
    CHECK_FALSE(std::filesystem::exists(f.dir.path / "mail" / "acct" / ".Files"));
}

// The name alone is no reason on another server: a Dovecot folder "Files"
// is mail like any other.
TEST_CASE("a folder named Files on a server that is not Exchange is backed up", "[sync][quirk][o365]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    f.server.add_mailbox("Files");
    f.server.append("Files", message("kept"));
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.stored("Files") == f.on_server("Files"));
}

// Quirk(O365): "Office365 closes the connection after 10 errors". A run whose
// mailboxes fail one after the other on one connection gets the BYE; the
// worker connects again and every other mailbox is backed up, each message
// downloaded once.
TEST_CASE("Quirk(O365): a backup goes on after the BYE that follows 10 failed commands", "[sync][quirk][o365]") {
    ModelFixture f;
    f.server.make_o365({}, 0);
    f.account.connections = 1;
    f.account.pacing.first_backoff = std::chrono::milliseconds(1);
    std::vector<std::string> good;
    for (int i = 1; i <= 12; ++i) f.server.add_mailbox("Broken" + std::to_string(100 + i));
    for (int i = 1; i <= 4; ++i) {
        good.push_back("Good" + std::to_string(i));
        f.server.add_mailbox(good.back());
        for (int m = 1; m <= 3; ++m) f.server.append(good.back(), message(good.back() + "-" + std::to_string(m)));
    }
    good.push_back("INBOX");
    f.server.append("INBOX", message("inbox-1"));
    // Exchange cannot open some folders ("NO Server Unavailable" and the like).
    f.server.on_reply = [](const ModelCommand& c, std::string& reply, bool&) {
        if ((c.name == "EXAMINE" || c.name == "SELECT") && c.text.find("Broken") != std::string::npos)
            reply = c.tag + " NO The requested folder could not be opened.\r\n";
    };
    auto report = f.backup();
    INFO(errors_of(report));
    CHECK(f.server.o365_errors() >= 10);  // the BYE was said
    CHECK(f.server.connections_opened() >= 2);
    for (const auto& name : good) {
        INFO(name);
        const auto* r = find_report(report, name);
        REQUIRE(r);
        CHECK(r->errors.empty());
        CHECK(f.stored(name) == f.on_server(name));
        CHECK(f.server.body_fetches(name) == f.server.mailbox(name).messages.size());
    }
    for (int i = 1; i <= 12; ++i) {
        const auto* r = find_report(report, "Broken" + std::to_string(100 + i));
        REQUIRE(r);
        CHECK(r->failed());
    }
}
