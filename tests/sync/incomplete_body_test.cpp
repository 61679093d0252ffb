// Invariant 1: a mailbox's high-water mark never passes a UID whose bytes are
// not durable. A body that did not arrive whole is reported and fetched again
// on the next run; a message really expunged between listing and fetch is not.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

bool is_body_fetch(const ModelCommand& c) {
    return c.name == "UID FETCH" && c.text.find("BODY.PEEK[]") != std::string::npos;
}

struct BrokenBody {
    const char* name;
    std::uint32_t uid;  // which message's body comes broken
    // Rewrites the BODY[] item of that message ("" = omit it).
    std::function<std::string(const std::string& body)> rewrite;
};

const BrokenBody kBroken[] = {
    {"BODY[] NIL", 3, [](const std::string&) { return std::string("BODY[] NIL"); }},
    {"BODY[] \"\"", 3, [](const std::string&) { return std::string("BODY[] \"\""); }},
    {"no BODY[] at all", 3, [](const std::string&) { return std::string(); }},
    {"short body", 3,
     [](const std::string& b) {
         auto cut = b.substr(0, b.size() / 2);
         return "BODY[] {" + std::to_string(cut.size()) + "}\r\n" + cut;
     }},
    {"NIL for the last UID", 5, [](const std::string&) { return std::string("BODY[] NIL"); }},
    {"no body for the last UID", 5, [](const std::string&) { return std::string(); }},
};

}  // namespace

TEST_CASE("a body that does not arrive whole holds the high-water mark and is fetched next run",
          "[sync][invariant1]") {
    for (const auto& c : kBroken) {
        for (const char* path : {"qresync", "plain"}) {
            DYNAMIC_SECTION(c.name << " / " << path) {
                ModelFixture f;
                f.account.sync_path = path;
                f.server.add_mailbox("INBOX");
                f.server.add_mailbox("Other");
                for (int i = 1; i <= 5; ++i)
                    f.server.append("INBOX",
                                    message("m" + std::to_string(i), std::string(100 * i, 'x')));
                f.server.append("Other", message("o1"));
                bool broken = true;
                f.server.on_fetch_item = [&](const std::string& mailbox, std::uint32_t uid,
                                             const std::string& item, std::string& rendered) {
                    if (broken && mailbox == "INBOX" && uid == c.uid && item == "BODY[]")
                        rendered = c.rewrite(f.server.mailbox("INBOX").messages.at(uid).body);
                };

                auto first = f.backup();
                CHECK_FALSE(report_ok(first));
                const auto* inbox = find_report(first, "INBOX");
                REQUIRE(inbox);
                CHECK(inbox->failed());
                bool named = false;
                for (const auto& e : inbox->errors)
                    named =
                        named || e.find("UID " + std::to_string(c.uid) + ":") != std::string::npos;
                CHECK(named);
                const auto* other = find_report(first, "Other");
                REQUIRE(other);
                CHECK_FALSE(other->failed());
                auto record = f.record("INBOX");
                REQUIRE(record);
                CHECK(record->uidnext <= c.uid);
                CHECK(f.stored("INBOX").count(c.uid) == 0);  // never a truncated copy

                broken = false;
                auto second = f.backup();
                INFO(errors_of(second));
                CHECK(report_ok(second));
                CHECK(f.stored("INBOX") == f.on_server("INBOX"));
                CHECK(f.record("INBOX")->uidnext == 6);
            }
        }
    }
}

TEST_CASE("a message expunged between listing and body fetch is skipped, not an error",
          "[sync][invariant1]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    bool once = true;
    f.server.on_command = [&](const ModelCommand& c) {
        if (once && is_body_fetch(c)) {
            once = false;
            f.server.expunge("INBOX", 3);
        }
    };
    auto report = f.backup();
    INFO(errors_of(report));
    CHECK(report_ok(report));
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    CHECK(f.record("INBOX")->uidnext == 6);
}

TEST_CASE("a connection dropped during the body fetch leaves nothing half-stored",
          "[sync][invariant1]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    bool drop = true;
    f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool& cut) {
        if (!drop || !is_body_fetch(c)) return;
        reply = reply.substr(0, reply.size() / 2);
        cut = true;
    };
    auto first = f.backup();
    CHECK_FALSE(report_ok(first));
    for (const auto& [uid, body] : f.stored("INBOX")) CHECK(body == f.on_server("INBOX").at(uid));
    drop = false;
    auto second = f.backup();
    INFO(errors_of(second));
    CHECK(report_ok(second));
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
}

TEST_CASE("a connection dropped during the body fetch keeps every body that arrived whole",
          "[sync][invariant1]") {
    // Three chunks of 200 in flight; the reply to the second is cut in its
    // middle. The worker reconnects and finishes the mailbox in the same run,
    // but no body that had arrived whole is downloaded a second time.
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 450; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    std::map<std::uint32_t, int> served;
    f.server.on_fetch_item = [&](const std::string&, std::uint32_t uid, const std::string& item,
                                 std::string&) {
        if (item == "BODY[]") ++served[uid];
    };
    bool drop = true;
    f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool& cut) {
        if (!drop || !is_body_fetch(c) || c.text.find(" 201:400 ") == std::string::npos) return;
        drop = false;
        reply = reply.substr(0, reply.size() / 2);
        cut = true;
    };
    auto report = f.backup();
    INFO(errors_of(report));
    CHECK_FALSE(drop);  // the cut happened
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    for (std::uint32_t uid : {1u, 100u, 200u, 201u, 250u, 280u}) {
        INFO("UID " << uid);
        CHECK(served[uid] == 1);
    }
}
