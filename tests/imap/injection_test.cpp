// CRLF injection (issue 9, case E; CVE-2025-15366 and kin): a mailbox name,
// flag, search string, user name, ... holding CR or LF is sent inside a
// literal (or encoded away) or refused before anything is written; it never
// becomes a line break of the command stream.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

#include <functional>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;
using imapkeep::testing::command_lines;
using imapkeep::testing::scripted;

namespace {

// What an attacker hides in a value: a second command.
const std::string kInjected = "K99 DELETE INBOX";
const std::string kEvil = "x\r\n" + kInjected + "\r\n";

struct InjectionCase {
    const char* name;
    bool refused;  // else sent, as a literal or encoded
    std::function<void(Client&)> call;
};

std::vector<InjectionCase> cases() {
    return {
        {"LOGIN user name", true, [](Client& c) { c.login(kEvil, "pw"); }},
        {"LOGIN password", true, [](Client& c) { c.login("me", kEvil); }},
        {"mailbox name (modified UTF-7)", false, [](Client& c) { c.create(kEvil); }},
        {"listed mailbox bytes", false, [](Client& c) { c.create(imap::MailboxName::from_wire(kEvil)); }},
        {"mailbox name under UTF8=ACCEPT", false,
         [](Client& c) {
             c.enable({"UTF8=ACCEPT"});
             c.select(kEvil);
         }},
        {"RENAME target", false, [](Client& c) { c.rename_mailbox("a", kEvil); }},
        {"LIST pattern", false, [](Client& c) { c.list("", kEvil); }},
        // STATUS items are a StatusItem enum now: no text to inject.
        {"APPEND flag", true, [](Client& c) { c.append("INBOX", {"\\Seen" + kEvil}, std::nullopt, "m\r\n"); }},
        {"APPEND date", true, [](Client& c) { c.append("INBOX", {}, kEvil, "m\r\n"); }},
        {"APPEND message (a literal by nature)", false, [](Client& c) { c.append("INBOX", {}, std::nullopt, kEvil); }},
        {"search string", true,
         [](Client& c) { c.uid_search(imap::SearchKey::header("Message-ID", "<" + kEvil + ">")); }},
        {"search header name", true, [](Client& c) { c.uid_search(imap::SearchKey::header("X" + kEvil, "v")); }},
        {"search keyword", true, [](Client& c) { c.uid_search(imap::SearchKey::flag("$x" + kEvil)); }},
        {"FETCH header field name", true,
         [](Client& c) {
             c.uid_fetch(UidSet::parse("1"), imap::FetchItems().header_fields_peek({"X" + kEvil}),
                         [](imap::FetchData&) {});
         }},
        {"STORE flag", true,
         [](Client& c) { c.uid_store(UidSet::parse("1"), imap::StoreFlags::add({"\\Seen" + kEvil})); }},
        {"STORE Gmail label", true,
         [](Client& c) { c.uid_store(UidSet::parse("1"), imap::StoreFlags::add_gmail_labels({kEvil})); }},
        {"ENABLE atom", true, [](Client& c) { c.enable({kEvil}); }},
        {"raw argument", true, [](Client& c) { c.run("NOOP", {wire::Arg::raw(kEvil)}); }},
        {"command name", true, [](Client& c) { c.run("NOOP" + kEvil, {}); }},
        {"SASL mechanism name", true,
         [](Client& c) {
             auto m = imap::sasl_callback(kEvil, [](std::string_view) { return std::optional<std::string>(""); });
             c.authenticate(*m);
         }},
        {"raw line", true, [](Client& c) { c.send_line(kEvil); }},
    };
}

}  // namespace

TEST_CASE("CR and LF in a value never break a command line", "[imap][injection]") {
    for (const auto& c : cases()) {
        INFO(c.name);
        auto log = std::make_shared<std::string>();
        Client client(scripted("* PREAUTH [CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT] hi\r\n",
                               {{"ENABLE", "* ENABLED UTF8=ACCEPT\r\n$T OK\r\n"},
                                {"", "$T OK done\r\n"}},
                               log));
        client.read_greeting();
        bool threw = false;
        try {
            c.call(client);
        } catch (const imap::Abort& e) {
            FAIL("connection lost: " << e.what());
        } catch (const imap::Error&) {
            threw = true;
        } catch (const std::invalid_argument&) {  // a typed value refused as it was made
            threw = true;
        }
        CHECK(threw == c.refused);
        for (const auto& line : command_lines(*log)) {
            INFO(line);
            CHECK_FALSE(line.starts_with(kInjected));
        }
        if (c.refused) CHECK(log->find(kEvil) == std::string::npos);
        CHECK_NOTHROW(client.noop());  // a refusal costs nothing on the wire
    }
}
