// CRLF injection through the imaplib façade (issue 9, case E; CVE-2025-15366,
// imapclient #657, aioimaplib #139): CR or LF in any argument is refused with
// `error` before anything is written, and the connection goes on.
#include <imapkeep/imaplib.hpp>

#include <catch2/catch.hpp>

#include <functional>

#include "imap/scripted_server.hpp"
#include "imaplib/stream_imap4.hpp"

using imaplib::IMAP4;
using imapkeep::testing::command_lines;
using imapkeep::testing::scripted;

namespace {

const std::string kInjected = "K99 DELETE INBOX";
const std::string kEvil = "x\r\n" + kInjected;

struct InjectionCase {
    const char* name;
    const char* greeting;  // decides the state the call is made in
    std::function<void(IMAP4&)> call;
};

const char* const kNonAuth = "* OK hi\r\n";
const char* const kAuth = "* PREAUTH hi\r\n";

std::vector<InjectionCase> cases() {
    return {
        {"login user", kNonAuth, [](IMAP4& M) { M.login(kEvil, "pw"); }},
        {"login password", kNonAuth, [](IMAP4& M) { M.login("me", kEvil); }},
        {"authenticate mechanism", kNonAuth,
         [](IMAP4& M) { M.authenticate(kEvil, [](std::string_view) { return std::optional<std::string>(""); }); }},
        {"create", kAuth, [](IMAP4& M) { M.create(kEvil); }},
        {"delete", kAuth, [](IMAP4& M) { M.delete_(kEvil); }},
        {"rename", kAuth, [](IMAP4& M) { M.rename("a", kEvil); }},
        {"subscribe", kAuth, [](IMAP4& M) { M.subscribe(kEvil); }},
        {"select", kAuth, [](IMAP4& M) { M.select(kEvil); }},
        {"status mailbox", kAuth, [](IMAP4& M) { M.status(kEvil, "(UIDNEXT)"); }},
        {"status names", kAuth, [](IMAP4& M) { M.status("INBOX", "(UIDNEXT" + kEvil + ")"); }},
        {"list pattern", kAuth, [](IMAP4& M) { M.list("\"\"", kEvil); }},
        {"append flags", kAuth, [](IMAP4& M) { M.append("INBOX", "\\Seen" + kEvil, std::nullopt, "m\r\n"); }},
        {"append mailbox", kAuth, [](IMAP4& M) { M.append(kEvil, std::nullopt, std::nullopt, "m\r\n"); }},
        {"getacl", kAuth, [](IMAP4& M) { M.getacl(kEvil); }},
        {"setquota", kAuth, [](IMAP4& M) { M.setquota("", "(STORAGE 1" + kEvil + ")"); }},
        {"xatom argument", kAuth, [](IMAP4& M) { M.xatom("XFOO", kEvil); }},
        {"xatom name", kAuth, [](IMAP4& M) { M.xatom("XFOO" + kEvil); }},
    };
}

// Commands of state SELECTED, made after a successful SELECT.
std::vector<std::function<void(IMAP4&)>> selected_cases() {
    return {
        [](IMAP4& M) { M.search(std::nullopt, "HEADER", "Message-ID", "<" + kEvil + ">"); },
        [](IMAP4& M) { M.search(std::string_view("UTF-8" + kEvil), "ALL"); },
        [](IMAP4& M) { M.fetch("1", "(FLAGS" + kEvil + ")"); },
        [](IMAP4& M) { M.store("1", "+FLAGS", "\\Seen" + kEvil); },
        [](IMAP4& M) { M.copy("1", kEvil); },
        [](IMAP4& M) { M.uid("FETCH", "1", "(FLAGS" + kEvil + ")"); },
        [](IMAP4& M) { M.uid("SEARCH", "TEXT", kEvil); },
        [](IMAP4& M) { M.sort("(DATE)", "UTF-8", "TEXT", kEvil); },
    };
}

void check_refused(IMAP4& M, const std::function<void(IMAP4&)>& call, const std::string& written) {
    try {
        call(M);
        FAIL("sent");
    } catch (const IMAP4::abort& e) {
        FAIL("connection lost: " << e.what());
    } catch (const IMAP4::error&) {
    }
    for (const auto& line : command_lines(written)) {
        INFO(line);
        CHECK_FALSE(line.starts_with(kInjected));
        CHECK(line.find("\r") == std::string::npos);
    }
    CHECK(written.find(kInjected) == std::string::npos);
    CHECK_NOTHROW(M.noop());
}

}  // namespace

TEST_CASE("CR or LF in an imaplib argument is refused before anything is sent", "[imaplib][injection]") {
    const std::vector<imapkeep::testing::Rule> rules{
        {"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$T OK done\r\n"},
        {"SELECT", "* 1 EXISTS\r\n$T OK [READ-WRITE] done\r\n"},
        {"", "$T OK done\r\n"}};
    for (const auto& c : cases()) {
        INFO(c.name);
        auto log = std::make_shared<std::string>();
        imaplib_test::StreamIMAP4 M(scripted(c.greeting, rules, log));
        check_refused(M, c.call, *log);
    }
    auto log = std::make_shared<std::string>();
    imaplib_test::StreamIMAP4 M(scripted(kAuth, rules, log));
    M.select("INBOX");
    int i = 0;
    for (const auto& call : selected_cases()) {
        INFO("selected case " << i++);
        check_refused(M, call, *log);
    }
}
