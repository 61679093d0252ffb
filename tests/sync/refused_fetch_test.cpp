// A server that refuses the body FETCH of one message (Gmail's "NO Some
// messages could not be FETCHed", a corrupt file on Dovecot) must not hold the
// rest of the mailbox hostage: every other message is stored in the same run,
// the refused one is reported and asked for again, alone, on the next run.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

constexpr std::uint32_t kBad = 150;
constexpr int kMessages = 450;  // three chunks of the default 200 messages

bool is_body_fetch(const ModelCommand& c) {
    return c.name == "UID FETCH" && c.text.find("BODY.PEEK[]") != std::string::npos;
}

// ModelCommand::text is the whole line: "TAG UID FETCH <set> <items>".
bool names_bad_uid(const ModelCommand& c) {
    const auto at = c.text.find("FETCH ") + 6;
    const auto set = UidSet::parse(c.text.substr(at, c.text.find(' ', at) - at));
    return set.contains(Uid(kBad));
}

void replace_tagged_line(std::string& reply, const std::string& tag, const std::string& status) {
    const auto at = reply.rfind("\r\n" + tag + " ");
    const auto start = at == std::string::npos ? 0 : at + 2;
    reply = reply.substr(0, start) + tag + " " + status + "\r\n";
}

struct Refusal {
    const char* name;
    // Rewrites the reply to a body FETCH that names the bad UID (its body
    // item is already left out).
    std::function<void(const ModelCommand& c, std::string& reply)> rewrite;
};

const Refusal kRefusals[] = {
    {"Gmail: the others, then NO",
     [](const ModelCommand& c, std::string& reply) {
         replace_tagged_line(reply, c.tag, "NO Some messages could not be FETCHed (Failure)");
     }},
    {"the whole chunk refused",
     [](const ModelCommand& c, std::string& reply) {
         reply.clear();
         replace_tagged_line(reply, c.tag, "NO [SERVERBUG] Internal error occurred");
     }},
    {"NO without a response code, nothing sent",
     [](const ModelCommand& c, std::string& reply) {
         reply.clear();
         replace_tagged_line(reply, c.tag, "NO Message is corrupted");
     }},
    {"OK, with that message's response garbled",
     [](const ModelCommand&, std::string& reply) {
         const auto at = reply.find("UID " + std::to_string(kBad) + " ");
         if (at != std::string::npos) reply.replace(at, 4 + std::to_string(kBad).size(), "UID x1");
     }},
};

}  // namespace

TEST_CASE("a FETCH refused for one message stores every other message and asks again for that one",
          "[sync][invariant1]") {
    for (const auto& r : kRefusals) {
        DYNAMIC_SECTION(r.name) {
            ModelFixture f;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= kMessages; ++i)
                f.server.append("INBOX", message("m" + std::to_string(i)));
            bool refusing = true;
            f.server.on_fetch_item = [&](const std::string&, std::uint32_t uid,
                                         const std::string& item, std::string& rendered) {
                if (refusing && uid == kBad && item == "BODY[]") rendered.clear();
            };
            f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool&) {
                if (!refusing || !is_body_fetch(c) || !names_bad_uid(c)) return;
                r.rewrite(c, reply);
            };

            auto first = f.backup();
            CHECK_FALSE(report_ok(first));
            const auto* inbox = find_report(first, "INBOX");
            REQUIRE(inbox);
            bool named = false;
            for (const auto& e : inbox->errors)
                named = named || e.find("UID " + std::to_string(kBad) + ":") != std::string::npos;
            INFO(errors_of(first));
            CHECK(named);
            auto expected = f.on_server("INBOX");
            expected.erase(kBad);
            CHECK(f.stored("INBOX") == expected);
            REQUIRE(f.record("INBOX"));
            CHECK(f.record("INBOX")->uidnext <= kBad);

            // Still refused: only the refused message is asked for again.
            f.server.clear_log();
            auto second = f.backup();
            CHECK_FALSE(report_ok(second));
            CHECK(f.stored("INBOX") == expected);
            for (const auto& line : f.server.commands())
                if (line.find("BODY.PEEK[]") != std::string::npos)
                    CHECK(line.find(" UID FETCH " + std::to_string(kBad) + " ") !=
                          std::string::npos);

            refusing = false;
            auto third = f.backup();
            INFO(errors_of(third));
            CHECK(report_ok(third));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.record("INBOX")->uidnext == kMessages + 1);
        }
    }
}
