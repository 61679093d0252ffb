// A UID SEARCH whose answer would not fit one line (about 95,000 UIDs with the
// default 1 MiB line limit) runs in pieces, each answered within the limit.
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>
#include <regex>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;

namespace {

constexpr std::uint32_t kMessages = 200000;
std::uint32_t uid_of(std::uint32_t seq) { return 2 * seq; }  // no two UIDs adjacent

// A server holding kMessages messages. It answers "UID SEARCH ... UID lo:hi ..."
// with the UIDs in lo:hi, a UID SEARCH without a UID range with all of them
// (one line of about 1.3 MB), and "FETCH s1,s2,... (UID)" with those messages'
// UIDs. `longest` is the longest line it sent.
struct BigMailbox {
    std::string buffer;
    std::vector<std::string> commands;
    std::size_t longest = 0;
    bool esearch = false;

    std::string answer(const std::string& line) {
        auto sp = line.find(' ');
        std::string tag = line.substr(0, sp), rest = line.substr(sp + 1);
        commands.push_back(rest);
        if (rest.starts_with("EXAMINE"))
            return "* " + std::to_string(kMessages) + " EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n" +
                   tag + " OK [READ-ONLY] done\r\n";
        if (rest.starts_with("FETCH ")) {
            std::string out;
            std::string set = rest.substr(6, rest.find(' ', 6) - 6);
            for (auto s : UidSet::parse(set).to_vector(kMessages))
                out += "* " + std::to_string(s.value) + " FETCH (UID " +
                       std::to_string(uid_of(s.value)) + ")\r\n";
            return out + tag + " OK\r\n";
        }
        if (rest.starts_with("UID SEARCH")) {
            std::uint64_t lo = 1, hi = 0xffffffffu;
            std::smatch m;
            if (std::regex_search(rest, m, std::regex(" UID (\\d+):(\\d+)"))) {
                lo = std::stoull(m[1]);
                hi = std::stoull(m[2]);
            }
            std::string out = esearch ? "* ESEARCH (TAG \"" + tag + "\") UID ALL " : "* SEARCH";
            bool first = true;
            for (std::uint32_t s = 1; s <= kMessages; ++s) {
                if (uid_of(s) < lo || uid_of(s) > hi) continue;
                out += (esearch ? (first ? "" : ",") : " ") + std::to_string(uid_of(s));
                first = false;
            }
            longest = std::max(longest, out.size());
            return out + "\r\n" + tag + " OK\r\n";
        }
        return tag + " OK\r\n";
    }

    bool acked = false;

    // One answer per whole command: a literal's bytes are no command.
    std::string respond(const std::string& in) {
        buffer += in;
        std::string out;
        std::size_t length;
        while ((length = testing::whole_command(buffer, acked, out)) != 0) {
            out += answer(buffer.substr(0, buffer.find("\r\n")));
            buffer.erase(0, length);
        }
        return out;
    }
};

}  // namespace

TEST_CASE("a UID SEARCH over 200,000 messages comes back whole", "[imap][search]") {
    for (bool esearch : {false, true}) {
        INFO("esearch " << esearch);
        BigMailbox server;
        server.esearch = esearch;
        Client client(std::make_unique<transport::ScriptedStream>(
            "* PREAUTH hi\r\n", [&](const std::string& in) { return server.respond(in); }));
        client.read_greeting();
        auto selected = client.select("INBOX", true);
        REQUIRE(selected.exists == kMessages);
        // 8-bit text in a string: the search names its charset, the string goes as a literal.
        auto key = imap::SearchKey::all_of({imap::SearchKey::not_(imap::SearchKey::flag("\\Deleted")),
                                            imap::SearchKey::header("Subject", "caf\xc3\xa9")});
        auto found = client.uid_search(key, esearch);
        CHECK(found.uids.size() == kMessages);
        CHECK(found.uids.contains(Uid(uid_of(1))));
        CHECK(found.uids.contains(Uid(uid_of(kMessages))));
        CHECK_FALSE(found.uids.contains(Uid(3)));
        CHECK(server.longest < client.options().limits.max_line);
        // CHARSET stays first; the UID range narrows the caller's criteria.
        for (const auto& c : server.commands) {
            if (!c.starts_with("UID SEARCH")) continue;
            INFO(c);
            CHECK(std::regex_search(c, std::regex("CHARSET UTF-8 UID \\d+:\\d+ NOT DELETED HEADER Subject \\{5\\}$")));
        }
        CHECK_NOTHROW(client.noop());
    }
}

TEST_CASE("a small mailbox is searched in one command", "[imap][search]") {
    BigMailbox server;
    Client client(
        std::make_unique<transport::ScriptedStream>("* PREAUTH hi\r\n", [&](const std::string& in) {
            auto out = server.respond(in);
            // EXAMINE says 3 messages: one UID SEARCH, no FETCH.
            return std::regex_replace(out, std::regex("\\* 200000 EXISTS"), "* 3 EXISTS");
        }));
    client.read_greeting();
    client.select("INBOX", true);
    client.uid_search(imap::SearchKey::uid(UidSet::parse("1:6")));
    CHECK(server.commands == std::vector<std::string>{"EXAMINE INBOX", "UID SEARCH UID 1:6"});
}
