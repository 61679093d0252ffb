// Garbage from the server never corrupts the store (issue 9, case A.4): a whole
// backup runs with garbage injected into the body FETCH of one mailbox; after
// it every catalog row has its file with the server's exact bytes, the
// high-water mark has not passed a UID that is not stored (invariant 1), the
// other mailbox is untouched, and the next clean run completes the job.
#include <catch2/catch.hpp>
#include <filesystem>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

bool is_body_fetch(const ModelCommand& c) {
    return c.name == "UID FETCH" && c.text.find("BODY.PEEK[]") != std::string::npos;
}

// Where the second untagged response of a reply begins.
std::size_t second_response(const std::string& reply) {
    auto at = reply.find("\r\n* ");
    return at == std::string::npos ? 0 : at + 2;
}

struct Garbage {
    const char* name;
    bool run_fails;  // the mailbox reports an error (else the run is clean)
    std::function<void(std::string& reply, bool& drop)> inject;
};

const Garbage kGarbage[] = {
    {"unknown untagged responses", false,
     [](std::string& reply, bool&) {
         reply.insert(second_response(reply),
                      "* XYZZY foo (bar)\r\n* 5 WHATEVER\r\n* 3 WHATEVER {3}\r\nabc\r\n");
     }},
    {"a tagged reply for a tag never sent", true,
     [](std::string& reply, bool&) { reply.insert(second_response(reply), "ZZ9 OK bogus\r\n"); }},
    {"a literal cut short by EOF", true,
     [](std::string& reply, bool& drop) {
         auto second = reply.find("BODY[] {", second_response(reply));
         reply.resize(reply.find("\r\n", second) + 2 + 10);
         drop = true;
     }},
    {"a UID that is not a number", true,
     [](std::string& reply, bool&) {
         auto at = second_response(reply);
         auto uid = reply.find("UID ", at);
         reply.replace(uid, reply.find(' ', uid + 4) - uid, "UID abc");
     }},
};

// Every catalog row of `mailbox` has its file, holding the server's bytes, and
// the mark has not passed a UID that is not stored.
void check_store(ModelFixture& f, const std::string& mailbox) {
    auto record = f.record(mailbox);
    if (!record) return;
    for (const auto& m : f.store.catalog->messages(record->id))
        CHECK(std::filesystem::exists(f.store.messages->absolute(m.file)));
    auto stored = f.stored(mailbox);
    auto server = f.on_server(mailbox);
    for (const auto& [uid, bytes] : stored) {
        INFO("UID " << uid);
        REQUIRE(server.count(uid));
        CHECK(bytes == server.at(uid));
    }
    for (const auto& [uid, bytes] : server)
        if (uid < record->uidnext) CHECK(stored.count(uid) == 1);
}

}  // namespace

TEST_CASE("garbage in a body FETCH never corrupts the store; the next clean run completes",
          "[sync][garbage]") {
    for (const auto& g : kGarbage) {
        for (const char* path : {"qresync", "plain"}) {
            DYNAMIC_SECTION(g.name << " / " << path) {
                ModelFixture f;
                f.account.sync_path = path;
                f.server.add_mailbox("INBOX");
                f.server.add_mailbox("Other");
                for (int i = 1; i <= 5; ++i)
                    f.server.append("INBOX",
                                    message("m" + std::to_string(i), std::string(100 * i, 'x')));
                f.server.append("Other", message("o1"));
                bool broken = true;
                f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool& drop) {
                    // Every body FETCH of INBOX, the retries of a part too.
                    if (broken && is_body_fetch(c) && c.mailbox == "INBOX") g.inject(reply, drop);
                };

                auto first = f.backup();
                INFO(errors_of(first));
                CHECK(report_ok(first) == !g.run_fails);
                const auto* other = find_report(first, "Other");
                REQUIRE(other);
                CHECK_FALSE(other->failed());
                check_store(f, "INBOX");
                check_store(f, "Other");
                CHECK(f.stored("Other") == f.on_server("Other"));

                broken = false;
                auto second = f.backup();
                INFO(errors_of(second));
                CHECK(report_ok(second));
                check_store(f, "INBOX");
                CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            }
        }
    }
}

// Issue 9, case D: one mailbox's STATUS in LIST-STATUS (and in a STATUS of
// its own) comes malformed. Only that mailbox loses the shortcut: it is
// examined instead; the account and the other mailboxes sync as usual.
TEST_CASE("a malformed STATUS for one mailbox fails neither the account nor the others",
          "[sync][garbage]") {
    const struct {
        const char* name;
        std::function<std::string(const std::string& items)>
            rewrite;  // "(UIDVALIDITY 1 UIDNEXT 3 ...)"
    } variants[] = {
        {"a word for a number",
         [](const std::string& items) {
             auto at = items.find("UIDNEXT ") + 8;
             return items.substr(0, at) + "abc" + items.substr(items.find_first_of(" )", at));
         }},
        {"an unterminated list",
         [](const std::string& items) { return items.substr(0, items.size() - 1); }},
        {"an item without a value",
         [](const std::string& items) { return "(UIDNEXT " + items.substr(1); }},
    };
    for (const auto& v : variants) {
        for (const char* path : {"qresync", "condstore", "plain"}) {
            DYNAMIC_SECTION(v.name << " / " << path) {
                ModelFixture f;
                f.account.sync_path = path;
                for (const char* box : {"A", "B", "INBOX"}) {
                    f.server.add_mailbox(box);
                    f.server.append(box, message(std::string(box) + "1"));
                }
                REQUIRE(report_ok(f.backup()));
                for (const char* box : {"A", "B", "INBOX"})
                    f.server.append(box, message(std::string(box) + "2"));
                f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool&) {
                    if (c.name != "LIST" && c.name != "STATUS") return;
                    const std::string head = "* STATUS \"A\" ";
                    auto at = reply.find(head);
                    if (at == std::string::npos) return;
                    auto start = at + head.size();
                    auto end = reply.find("\r\n", start);
                    reply.replace(start, end - start, v.rewrite(reply.substr(start, end - start)));
                };
                auto report = f.backup();
                INFO(errors_of(report));
                CHECK_FALSE(report.connect_failed);
                CHECK(report_ok(report));
                for (const char* box : {"A", "B", "INBOX"})
                    CHECK(f.stored(box) == f.on_server(box));
            }
        }
    }
}
