// Round trips on a run's critical path (issue 10). A connection's last
// mailbox needs no UNSELECT: LOGOUT ends the session, and an EXAMINEd
// mailbox has nothing to expunge. Between two mailboxes UNSELECT stays, so
// no response of the old mailbox can be taken for the new one's.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

// Each connection's commands, by name, in order.
struct CommandsByConnection {
    std::mutex mutex;
    std::map<std::size_t, std::vector<std::string>> names;

    void attach(ModelServer& server) {
        server.on_command = [this](const ModelCommand& c) {
            std::lock_guard lock(mutex);
            names[c.connection].push_back(c.name);
        };
    }
};

std::size_t count(const std::vector<std::string>& names, const std::string& name) {
    return static_cast<std::size_t>(std::count(names.begin(), names.end(), name));
}

}  // namespace

TEST_CASE("a connection's last mailbox is left by LOGOUT alone", "[sync]") {
    for (const int connections : {1, 2}) {
        DYNAMIC_SECTION(connections << " connection(s)") {
            ModelFixture f;
            f.account.connections = connections;
            for (const char* name : {"A", "B", "C"}) {
                f.server.add_mailbox(name);
                f.server.append(name, message(std::string(name) + "1"));
            }
            REQUIRE(report_ok(f.backup()));
            for (const char* name : {"A", "B", "C"}) {
                f.server.append(name, message(std::string(name) + "2"));
                f.server.set_flags(name, 1, {"\\Seen"});
            }
            CommandsByConnection seen;
            seen.attach(f.server);
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            for (const char* name : {"A", "B", "C"}) CHECK(f.stored(name) == f.on_server(name));

            std::size_t examined = 0;
            for (const auto& [connection, names] : seen.names) {
                INFO("connection " << connection);
                REQUIRE(names.size() >= 2);
                CHECK(names.back() == "LOGOUT");
                const std::size_t examines = count(names, "EXAMINE");
                // One UNSELECT between each two mailboxes, none after the last.
                CHECK(count(names, "UNSELECT") == (examines == 0 ? 0 : examines - 1));
                CHECK(names[names.size() - 2] != "UNSELECT");
                examined += examines;
            }
            CHECK(examined == 3);
        }
    }
}

// The plain path lists every known message's flags, a window of catalog rows
// at a time (5,000; 2 here). The next window's FETCH goes out before the
// previous window's answer is awaited: the server lists one window while the
// catalog reads the next, instead of each waiting for the other.
TEST_CASE("the plain path's flag listings are pipelined", "[sync]") {
    ModelFixture f;
    f.account.sync_path = "plain";
    f.account.connections = 1;
    f.server.add_mailbox("INBOX");
    constexpr int kMessages = 5;  // three windows of 2
    for (int i = 1; i <= kMessages; ++i) f.server.append("INBOX", message("m" + std::to_string(i), "x"));
    sync::BackupOptions options;
    options.known_window = 2;
    REQUIRE(report_ok(f.store.backup(f.account, options)));
    f.server.set_flags("INBOX", 2, {"\\Seen"});
    f.server.set_flags("INBOX", kMessages, {"\\Flagged"});

    std::mutex mutex;
    std::vector<std::size_t> reads;  // the read that brought each flag listing
    f.server.on_command = [&](const ModelCommand& c) {
        if (c.name != "UID FETCH" || c.text.find("(FLAGS)") == std::string::npos) return;
        std::lock_guard lock(mutex);
        reads.push_back(c.read);
    };
    auto report = f.store.backup(f.account, options);
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(find_report(report, "INBOX")->flag_changes == 2);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    // Each listing went out with the one before it: two in flight at most.
    REQUIRE(reads.size() == 3);
    CHECK(reads[0] == reads[1]);
    CHECK(reads[2] == reads[1] + 1);
}

// Without CONDSTORE, LIST-STATUS cannot prove a mailbox's flags unchanged,
// so each mailbox is examined and listed. An empty mailbox has no flags: the
// same UIDVALIDITY and UIDNEXT, MESSAGES 0 and no message in the catalog
// prove it unchanged, and it costs no command (servers without CONDSTORE
// usually hold several: Drafts, Junk, Trash).
TEST_CASE("the plain path settles an empty mailbox from LIST-STATUS", "[sync]") {
    ModelFixture f;
    f.account.sync_path = "plain";
    f.account.connections = 1;
    for (const char* name : {"INBOX", "Drafts", "Emptied"}) f.server.add_mailbox(name);
    f.server.append("INBOX", message("i1"));
    f.server.append("Emptied", message("e1"));
    REQUIRE(report_ok(f.backup()));
    f.server.expunge("Emptied", 1);  // empty now, but the catalog still has its message

    std::vector<std::string> examined;
    f.server.on_command = [&](const ModelCommand& c) {
        if (c.name == "EXAMINE" || c.name == "SELECT") examined.push_back(c.text);
    };
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(find_report(report, "Drafts")->path == "unchanged");
    CHECK(find_report(report, "Emptied")->expunged == 1);
    CHECK(f.stored("Emptied").empty());
    std::string all;
    for (const auto& e : examined) all += e + "\n";
    INFO(all);
    CHECK(examined.size() == 2);  // INBOX and Emptied, not Drafts
}

// With CONDSTORE the listed HIGHESTMODSEQ is the proof: an empty mailbox
// whose mod-sequence moved (a killed run saved an older one) is examined, so
// its record ends as a full sync leaves it. Found by the kill test on Cyrus.
TEST_CASE("an empty mailbox whose mod-sequence moved is examined rather than settled", "[sync]") {
    ModelFixture f;
    f.account.connections = 1;
    f.server.add_mailbox("INBOX");
    f.server.add_mailbox("Sent");
    f.server.append("INBOX", message("i1"));
    f.server.append("Sent", message("s1"));
    REQUIRE(report_ok(f.backup()));
    f.server.expunge("Sent", 1);
    REQUIRE(report_ok(f.backup()));
    auto record = f.record("Sent");
    REQUIRE(record);
    const auto synced = record->highestmodseq;
    REQUIRE(synced > 1);
    record->highestmodseq = synced - 1;  // as a run killed before its last commit left it
    f.store.catalog->save_mailbox(*record);

    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(find_report(report, "Sent")->path != "unchanged");
    CHECK(f.record("Sent")->highestmodseq == synced);
}

// Dovecot runs pipelined FETCHes at once: the next window's flags can come
// before the previous window's completion. Each flag still counts for its
// own message; before, the first window's listing took the second's, and a
// run that changed nothing moved the second window's messages to the attic
// (found by the 200k benchmark: 5,000 messages of Archive).
TEST_CASE("pipelined flag listings answered at once lose no message", "[sync]") {
    ModelFixture f;
    f.account.sync_path = "plain";
    f.account.connections = 1;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 7; ++i) f.server.append("INBOX", message("m" + std::to_string(i), "x"));
    sync::BackupOptions options;
    options.known_window = 2;
    REQUIRE(report_ok(f.store.backup(f.account, options)));
    f.server.set_flags("INBOX", 4, {"\\Seen"});
    f.server.interleave_fetches = true;

    auto report = f.store.backup(f.account, options);
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(find_report(report, "INBOX")->expunged == 0);
    CHECK(find_report(report, "INBOX")->flag_changes == 1);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    CHECK(f.stored("INBOX").size() == 7);
}
