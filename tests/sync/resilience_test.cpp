// Invariant 7: a failure while reconciling a mailbox's known messages (flags,
// expunges) is reported, and new mail for that mailbox is still fetched. The
// flag high-water mark stays, so the next run tries the reconcile again.
#include <catch2/catch.hpp>

#include <map>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct ReconcileFailure {
    const char* name;
    const char* sync_path;
    // Breaks the reconcile of INBOX's known messages (UID 2 changed on the server).
    std::function<void(ModelFixture&, bool& broken)> arm;
};

std::string live_file(ModelFixture& f, std::uint32_t uid) {
    auto r = f.record("INBOX");
    for (const auto& m : f.store.catalog->messages(r->id))
        if (m.uid == uid) return m.file;
    return "";
}

const ReconcileFailure kFailures[] = {
    {"server refuses the FLAGS fetch (plain)", "plain",
     [](ModelFixture& f, bool& broken) {
         f.server.on_reply = [&f, &broken](const ModelCommand& c, std::string& reply, bool&) {
             if (broken && c.name == "UID FETCH" && c.text.find("(FLAGS)") != std::string::npos)
                 reply = c.tag + " NO [SERVERBUG] flags unavailable\r\n";
             (void)f;
         };
         f.server.set_flags("INBOX", 2, {"\\Flagged"});
     }},
    {"server refuses the expunge UID SEARCH (condstore)", "condstore",
     [](ModelFixture& f, bool& broken) {
         f.server.on_reply = [&broken](const ModelCommand& c, std::string& reply, bool&) {
             if (broken && c.name == "UID SEARCH")
                 reply = c.tag + " NO [SERVERBUG] search unavailable\r\n";
         };
         f.server.expunge("INBOX", 2);
     }},
};

}  // namespace

TEST_CASE("a failing reconcile of known mail never stops new mail", "[sync][invariant7]") {
    for (const auto& c : kFailures) {
        DYNAMIC_SECTION(c.name) {
            ModelFixture f;
            f.account.sync_path = c.sync_path;
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Other");
            for (int i = 1; i <= 3; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));
            auto modseq_before = f.record("INBOX")->highestmodseq;

            bool broken = true;
            c.arm(f, broken);
            f.server.append("INBOX", message("new"));
            f.server.append("Other", message("other"));
            auto report = f.backup();
            const auto* inbox = find_report(report, "INBOX");
            REQUIRE(inbox);
            INFO(errors_of(report));
            CHECK(inbox->failed());
            CHECK(f.stored("INBOX").count(4) == 1);  // the new mail arrived anyway
            CHECK(f.record("INBOX")->uidnext == 5);
            CHECK(f.stored("Other").size() == 1);
            if (modseq_before != 0) CHECK(f.record("INBOX")->highestmodseq == modseq_before);

            broken = false;
            auto again = f.backup();
            INFO(errors_of(again));
            CHECK(report_ok(again));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
        }
    }
}

TEST_CASE("expunge detection without ESEARCH asks UID SEARCH in ranges that fit the line limit",
          "[sync][invariant7]") {
    ModelFixture f;
    f.server.set_capabilities({"ENABLE", "CONDSTORE", "UNSELECT"});
    f.account.connect.client.limits.max_line = 2048;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 1000; ++i)
        f.server.append("INBOX", "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n");
    REQUIRE(report_ok(f.backup()));
    f.server.expunge("INBOX", 500);
    auto report = f.backup();
    INFO(errors_of(report));
    CHECK(report_ok(report));
    CHECK(f.stored("INBOX").size() == 999);
    CHECK(f.stored("INBOX").count(500) == 0);
    for (const auto& line : f.server.commands())
        if (line.find("UID SEARCH") != std::string::npos) CHECK(line.size() < 100);
}

TEST_CASE("one failing mailbox never stops the others, on any number of connections",
          "[sync][invariant7]") {
    for (int connections : {1, 3}) {
        DYNAMIC_SECTION("connections: " << connections) {
            ModelFixture f;
            f.account.connections = connections;
            for (const char* name : {"A", "B", "C", "D", "E"}) {
                f.server.add_mailbox(name);
                f.server.append(name, message(name));
            }
            auto examines = [](const ModelCommand& c, const std::string& name) {
                return c.name == "EXAMINE" &&
                       (c.text.find("EXAMINE " + name) != std::string::npos ||
                        c.text.find("EXAMINE \"" + name + "\"") != std::string::npos);
            };
            bool dropped = false;
            f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool& drop) {
                if (examines(c, "B")) reply = c.tag + " NO [SERVERBUG] B is broken\r\n";
                if (!dropped && examines(c, "D")) {
                    dropped = true;  // D's connection dies once: reconnect and retry
                    reply.clear();
                    drop = true;
                }
            };
            auto report = f.backup();
            for (const char* name : {"A", "C", "D", "E"}) CHECK(f.stored(name).size() == 1);
            CHECK_FALSE(f.record("B"));
            std::size_t failed = 0;
            for (const auto& m : report.mailboxes) failed += m.failed() ? 1 : 0;
            CHECK(failed == 1);
            CHECK(dropped);
        }
    }
}

// The CLI runs an account again when a mailbox failed because its connection
// died (cli/retry.hpp), and only then: it must be told which failure is which.
TEST_CASE("a mailbox whose connection keeps dying is marked connection_lost, a refused one is not",
          "[sync][retry]") {
    ModelFixture f;
    f.account.connections = 1;
    for (const char* name : {"A", "B", "D"}) {
        f.server.add_mailbox(name);
        f.server.append(name, message(name));
    }
    f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool& drop) {
        if (c.name != "EXAMINE") return;
        if (c.text.find("EXAMINE B") != std::string::npos) reply = c.tag + " NO [SERVERBUG] B is broken\r\n";
        if (c.text.find("EXAMINE D") != std::string::npos) {
            reply.clear();
            drop = true;  // every time, also after the engine's own reconnect
        }
    };
    auto report = f.backup();
    std::map<std::string, const sync::MailboxReport*> by_name;
    for (const auto& m : report.mailboxes) by_name[m.name] = &m;
    REQUIRE(by_name.count("A"));
    REQUIRE(by_name.count("B"));
    REQUIRE(by_name.count("D"));
    CHECK_FALSE(by_name["A"]->failed());
    CHECK(by_name["B"]->failed());
    CHECK_FALSE(by_name["B"]->connection_lost);
    CHECK(by_name["D"]->failed());
    CHECK(by_name["D"]->connection_lost);
}

// Invariant 3: a step that finds its work already done records it and goes on.
TEST_CASE("a known message a killed run already moved to the attic is recorded, not an error",
          "[sync][invariant3]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 3; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));
            // What a kill between move_to_attic and its catalog commit leaves.
            auto attic = f.store.messages->move_to_attic(live_file(f, 2));
            f.server.expunge("INBOX", 2);
            f.server.append("INBOX", message("new"));
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            auto inbox = *f.record("INBOX");
            bool recorded = false;
            for (const auto& m : f.store.catalog->all_messages(inbox.id))
                if (m.uid == 2) recorded = m.expunged_at.has_value() && m.file == attic;
            CHECK(recorded);
        }
    }
}

// Issue 12 "Mid-run expiry": a long mailbox outlives its OAuth2 token more
// than once, and each expiry cuts the connection. Each cut comes after
// chunks were committed (the third body FETCH of a connection: the commit
// queue holds at most one chunk waiting, so the first is durable by then),
// so every new connection goes on where the last one stopped: the mailbox
// finishes, each message stored once.
TEST_CASE("a long mailbox whose connection is cut again after progress still finishes",
          "[sync][retry]") {
    for (int cuts : {2, 3}) {
        DYNAMIC_SECTION("cuts: " << cuts) {
            ModelFixture f;
            f.account.connections = 1;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 2000; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            std::map<std::size_t, int> body_fetches;  // by connection
            int cut = 0;
            f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool& drop) {
                if (c.name != "UID FETCH" || c.text.find("BODY.PEEK[]") == std::string::npos) return;
                if (++body_fetches[c.connection] == 3 && cut < cuts) {
                    ++cut;
                    reply.clear();
                    drop = true;
                }
            };
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(cut == cuts);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(snapshot(f.store, f.account.name).files.size() == 2000);
        }
    }
}
