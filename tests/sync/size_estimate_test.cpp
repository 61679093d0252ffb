// Quirk(OVH Hosted Exchange): an RFC822.SIZE far above the bytes of the
// BODY[] the server sends, for every message and every time
// (stalwartlabs/vandelay#12: "BODY[] 6298 bytes vs RFC822.SIZE 19189", 160
// of 160 messages skipped; imap_tools#60 shows 10,442 for 10,297 bytes).
// RFC 3501 §6.4.5 makes RFC822.SIZE the size of BODY[], so such a body looks
// truncated; taken for one, no message of that server is ever stored and each
// run downloads them all again. A body that really was cut short is still
// never stored (incomplete_body_test.cpp): one octet asked past its end
// (partial fetch) tells the two apart.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

// RFC822.SIZE as an estimating server gives it: three times the body, plus some.
void inflate_sizes(ModelFixture& f, std::set<std::uint32_t> uids = {}) {
    f.server.on_fetch_item = [&f, uids](const std::string& mailbox, std::uint32_t uid,
                                        const std::string& item, std::string& rendered) {
        if (mailbox != "INBOX" || item != "RFC822.SIZE" || (!uids.empty() && !uids.count(uid))) return;
        const auto size = f.server.mailbox("INBOX").messages.at(uid).body.size();
        rendered = "RFC822.SIZE " + std::to_string(3 * size + 17);
    };
}

std::size_t partial_fetches(const ModelServer& server) {
    std::size_t n = 0;
    for (const auto& c : server.commands())
        if (c.find("UID FETCH") != std::string::npos && c.find("BODY.PEEK[]<") != std::string::npos) ++n;
    return n;
}

}  // namespace

TEST_CASE("a whole body below an inflated RFC822.SIZE is stored once, as sent",
          "[sync][quirk][invariant1]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 5; ++i)
                f.server.append("INBOX", message("m" + std::to_string(i), std::string(100 * i, 'x')));
            inflate_sizes(f);

            auto first = f.backup();
            INFO(errors_of(first));
            CHECK(report_ok(first));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            REQUIRE(f.record("INBOX"));
            CHECK(f.record("INBOX")->uidnext == 6);
            CHECK(f.server.body_fetches("INBOX") == 5);
            // Said once, in the mailbox's report, as a warning (not an error).
            const auto* inbox = find_report(first, "INBOX");
            REQUIRE(inbox);
            CHECK(inbox->warnings == std::vector<std::string>{
                                         "5 bodies were shorter than the server's RFC822.SIZE and kept as sent "
                                         "(the server says it ends there)"});

            f.server.append("INBOX", message("m6"));
            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.server.body_fetches("INBOX") == 6);  // only the new one
            const auto* again = find_report(second, "INBOX");
            REQUIRE(again);
            CHECK(again->warnings == std::vector<std::string>{
                                         "1 body was shorter than the server's RFC822.SIZE and kept as sent "
                                         "(the server says it ends there)"});
        }
    }
}

TEST_CASE("an inflated RFC822.SIZE next to a body cut short: the whole one is stored, the cut one "
          "is not",
          "[sync][quirk][invariant1]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 5; ++i)
        f.server.append("INBOX", message("m" + std::to_string(i), std::string(100 * i, 'x')));
    bool cut = true;
    f.server.on_fetch_item = [&](const std::string& mailbox, std::uint32_t uid, const std::string& item,
                                 std::string& rendered) {
        if (mailbox != "INBOX") return;
        const auto& body = f.server.mailbox("INBOX").messages.at(uid).body;
        if (uid == 2 && item == "RFC822.SIZE") rendered = "RFC822.SIZE " + std::to_string(2 * body.size());
        if (uid == 4 && item == "BODY[]" && cut) {
            const auto half = body.substr(0, body.size() / 2);
            rendered = "BODY[] {" + std::to_string(half.size()) + "}\r\n" + half;
        }
    };

    auto first = f.backup();
    CHECK_FALSE(report_ok(first));
    const auto* inbox = find_report(first, "INBOX");
    REQUIRE(inbox);
    REQUIRE(inbox->errors.size() == 1);
    CHECK(inbox->errors[0].find("UID 4:") != std::string::npos);
    auto stored = f.stored("INBOX");
    CHECK(stored.count(2) == 1);
    CHECK(stored.count(4) == 0);  // never a truncated copy
    CHECK(stored.at(2) == f.on_server("INBOX").at(2));
    CHECK(f.record("INBOX")->uidnext <= 4);

    cut = false;
    auto second = f.backup();
    INFO(errors_of(second));
    CHECK(report_ok(second));
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    CHECK(f.record("INBOX")->uidnext == 6);
}

TEST_CASE("a server that refuses the partial fetch keeps a short body reported, asked once",
          "[sync][quirk][invariant1]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    inflate_sizes(f);
    f.server.on_reply = [](const ModelCommand& c, std::string& reply, bool&) {
        if (c.name == "UID FETCH" && c.text.find("BODY.PEEK[]<") != std::string::npos)
            reply = c.tag + " BAD Command Argument Error. 11\r\n";
    };
    auto report = f.backup();
    CHECK_FALSE(report_ok(report));
    const auto* inbox = find_report(report, "INBOX");
    REQUIRE(inbox);
    CHECK(inbox->errors.size() == 5);
    CHECK(f.stored("INBOX").empty());
    CHECK(f.record("INBOX")->uidnext == 1);
    CHECK(partial_fetches(f.server) == 1);  // not once per message
}
