// Invariant 6 (DESIGN.md): mailbox names go back to the server as the exact
// bytes it listed, whatever form it listed them in.
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>
#include <optional>

using namespace imapkeep;
using imap::Client;

namespace {

// The names a server may list in a form that does not survive decoding and
// encoding again; each listed as the wire text after `* LIST () "/" `.
struct Listed {
    std::string wire;   // as the server sends it
    std::string bytes;  // the name it denotes
} const kListed[] = {
    {"\"a\x01"
     "b\"",
     "a\x01"
     "b"},                               // a raw control character, quoted
    {"\"K\xc3\xa4se\"", "K\xc3\xa4se"},  // 8-bit without UTF8=ACCEPT
    {"\"Caf\xe9\"", "Caf\xe9"},          // Latin-1, not even UTF-8
    {"&AGEAYgBj-", "&AGEAYgBj-"},        // modified UTF-7 of "abc": not canonical
    {"{4}\r\na\r\nb", "a\r\nb"},         // CR LF, in a literal
    {"\"q\\\"\\\\\"", "q\"\\"},          // quoted-specials
    {"Entw&APw-rfe", "Entw&APw-rfe"},    // canonical: still the same bytes
};

// astring = 1*ASTRING-CHAR / quoted / literal, read from `in` at `pos`; nullopt
// while incomplete. The server side of the test: it knows no client code.
std::optional<std::string> read_astring(const std::string& in, std::size_t& pos) {
    if (pos >= in.size()) return std::nullopt;
    if (in[pos] == '"') {
        std::string out;
        for (std::size_t i = pos + 1; i < in.size(); ++i) {
            if (in[i] == '\\' && i + 1 < in.size()) {
                out += in[++i];
            } else if (in[i] == '"') {
                pos = i + 1;
                return out;
            } else {
                out += in[i];
            }
        }
        return std::nullopt;
    }
    if (in[pos] == '{') {
        auto close = in.find('}', pos);
        if (close == std::string::npos || close + 2 >= in.size() + 1) return std::nullopt;
        auto size = std::stoul(in.substr(pos + 1, close - pos - 1));  // "{n+}" parses too
        auto start = close + 3;
        if (in.size() < start + size) return std::nullopt;
        pos = start + size;
        return in.substr(start, size);
    }
    auto end = in.find_first_of(" \r", pos);
    if (end == std::string::npos) return std::nullopt;
    auto out = in.substr(pos, end - pos);
    pos = end;
    return out;
}

// A server that lists kListed, then answers each "tag VERB mailbox ..." with OK
// when the mailbox's bytes are exactly one it listed, else NO.
transport::StreamPtr listing_server(std::vector<std::string>& received) {
    auto buffer = std::make_shared<std::string>();
    return std::make_unique<transport::ScriptedStream>(
        "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n",
        [buffer, &received](const std::string& in) {
            *buffer += in;
            std::string out;
            for (;;) {
                auto sp1 = buffer->find(' ');
                auto sp2 = sp1 == std::string::npos ? sp1 : buffer->find(' ', sp1 + 1);
                auto first_eol = buffer->find("\r\n");
                if (first_eol != std::string::npos && first_eol < sp2) {  // NOOP
                    out += buffer->substr(0, sp1) + " OK\r\n";
                    buffer->erase(0, first_eol + 2);
                    continue;
                }
                if (sp2 == std::string::npos) break;
                std::string tag = buffer->substr(0, sp1);
                std::string verb = buffer->substr(sp1 + 1, sp2 - sp1 - 1);
                std::size_t pos = sp2 + 1;
                auto name = read_astring(*buffer, pos);
                if (!name) break;
                if (verb == "APPEND") {  // skip the message literal
                    pos = buffer->find('{', pos);
                    if (pos == std::string::npos || !read_astring(*buffer, pos)) break;
                }
                auto eol = buffer->find("\r\n", pos);
                if (eol == std::string::npos) break;
                buffer->erase(0, eol + 2);
                if (verb == "LIST") {
                    for (const auto& l : kListed) out += "* LIST () \"/\" " + l.wire + "\r\n";
                    out += tag + " OK\r\n";
                    continue;
                }
                received.push_back(*name);
                bool known = std::any_of(std::begin(kListed), std::end(kListed),
                                         [&](const Listed& l) { return l.bytes == *name; });
                if (!known) {
                    out += tag + " NO [NONEXISTENT] no such mailbox\r\n";
                } else if (verb == "STATUS") {
                    out += "* STATUS x (MESSAGES 1)\r\n" + tag + " OK\r\n";
                } else if (verb == "APPEND") {
                    out += tag + " OK [APPENDUID 1 5] done\r\n";
                } else {
                    out += tag + " OK [READ-ONLY] done\r\n";
                }
            }
            return out;
        });
}

}  // namespace

TEST_CASE("a listed mailbox is addressed by the exact bytes the server listed",
          "[imap][invariant6]") {
    std::vector<std::string> received;
    Client client(listing_server(received));
    client.read_greeting();
    auto entries = client.list("", "*");
    REQUIRE(entries.size() == std::size(kListed));
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        INFO(kListed[i].wire);
        CHECK(e.raw_name == kListed[i].bytes);
        received.clear();
        CHECK_NOTHROW(client.select(e.mailbox(), true));
        CHECK(client.status(e.mailbox(), {imap::StatusItem::Messages}).messages == 1u);
        CHECK_NOTHROW(client.append(e.mailbox(), {}, std::nullopt, "x\r\n"));
        CHECK_NOTHROW(client.create(e.mailbox()));
        CHECK_NOTHROW(client.delete_mailbox(e.mailbox()));
        CHECK_NOTHROW(client.finish_multiappend(
            client.submit_multiappend(e.mailbox(), {{{}, std::nullopt, "y\r\n"}}), 1));
        CHECK(received == std::vector<std::string>(6, kListed[i].bytes));
    }
}

TEST_CASE("a UTF-8 name is still encoded as modified UTF-7", "[imap][invariant6]") {
    std::vector<std::string> received;
    Client client(listing_server(received));
    client.read_greeting();
    CHECK_NOTHROW(client.select("Entwürfe", true));
    CHECK(received == std::vector<std::string>{"Entw&APw-rfe"});
    CHECK(client.mailbox_name("Entwürfe") == imap::MailboxName::from_wire("Entw&APw-rfe"));
}

TEST_CASE("a mailbox name with NUL is refused before anything is sent", "[imap][invariant6]") {
    std::vector<std::string> received;
    Client client(listing_server(received));
    client.read_greeting();
    CHECK_THROWS_AS(client.select(imap::MailboxName::from_wire(std::string("a\0b", 3))),
                    imap::Error);
    CHECK(received.empty());
    CHECK_NOTHROW(client.noop());
}
