// The STARTTLS dodges of the "NO STARTTLS" study (EAST cases) as scripted
// servers, shared by the imap::Client tests (tests/imap/starttls_test.cpp) and
// the imaplib façade's (tests/imaplib/starttls_test.cpp).
#pragma once

#include <imapkeep/transport/fault.hpp>
#include <imapkeep/util/base64.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "imap/scripted_server.hpp"

namespace imapkeep::testing::starttls {

inline const std::string kUser = "me";
inline const std::string kPassword = "s3cret-pw";

// One hostile or broken server. Its answers to CAPABILITY and STARTTLS may be
// anything; LOGIN and AUTHENTICATE it accepts, so a client that went on
// would really send its credentials.
struct StartTlsCase {
    const char* name;
    std::string greeting;
    std::function<std::string(const std::string& tag)> on_capability;
    std::function<std::string(const std::string& tag)> on_starttls;
    std::string next_packet = {};      // sent on the first read after STARTTLS's answer
    bool handshake_may_start = false;  // the defence is the handshake failing on it
};

inline std::string offers_starttls(const std::string& tag) {
    return "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n" + tag + " OK done\r\n";
}

inline std::vector<StartTlsCase> cases() {
    const std::string caps_greeting = "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n";
    return {
        {"PREAUTH greeting", "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", offers_starttls,
         [](const std::string& t) { return t + " OK Begin TLS\r\n"; }},
        {"no STARTTLS capability", "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
         [](const std::string& t) { return "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + t + " OK done\r\n"; },
         [](const std::string& t) { return t + " OK Begin TLS\r\n"; }},
        {"NO to STARTTLS", caps_greeting, offers_starttls,
         [](const std::string& t) { return t + " NO not today\r\n"; }},
        {"BAD to STARTTLS", caps_greeting, offers_starttls,
         [](const std::string& t) { return t + " BAD unknown command\r\n"; }},
        {"plaintext injected after the OK, same packet", caps_greeting, offers_starttls,
         [](const std::string& t) {
             return t + " OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n";
         }},
        {"extra tagged data after the OK", caps_greeting, offers_starttls,
         [](const std::string& t) { return t + " OK Begin TLS\r\n" + next_tag(t) + " OK LOGIN done\r\n"; }},
        {"plaintext injected after the OK, next packet", caps_greeting, offers_starttls,
         [](const std::string& t) { return t + " OK Begin TLS\r\n"; },
         "* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n", true},
        {"tagged OK before STARTTLS was sent, after the CAPABILITY reply", "* OK ready\r\n",
         [](const std::string& t) {
             return "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n" + t + " OK done\r\n" + next_tag(t) +
                    " OK Begin TLS\r\n";
         },
         [](const std::string&) { return std::string(); }},
    };
}

// imap::Client numbers its tags K1, K2, ...: an early OK can ride on the greeting.
inline StartTlsCase early_ok_in_greeting() {
    return {"tagged OK before STARTTLS was sent, in the greeting's packet",
            "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\nK1 OK Begin TLS\r\n",
            offers_starttls, [](const std::string&) { return std::string(); }};
}

// The server side of one case, recording every byte the client wrote.
inline transport::StreamPtr serve(const StartTlsCase& c, std::shared_ptr<std::string> written) {
    auto buffer = std::make_shared<std::string>();
    auto upgraded = std::make_shared<bool>(false);
    auto queued = std::make_shared<std::string>(c.next_packet);
    return std::make_unique<transport::ScriptedStream>(
        c.greeting, [c, written, buffer, upgraded, queued](const std::string& in) -> std::string {
            *written += in;
            if (*upgraded) {
                // The client is (or should be) talking TLS now: give it the
                // clear text an attacker queued, once, then hang up.
                return std::exchange(*queued, std::string());
            }
            *buffer += in;
            std::string out;
            std::size_t eol;
            while ((eol = buffer->find("\r\n")) != std::string::npos) {
                std::string line = buffer->substr(0, eol);
                buffer->erase(0, eol + 2);
                auto sp = line.find(' ');
                std::string tag = line.substr(0, sp);
                std::string command = sp == std::string::npos ? "" : line.substr(sp + 1);
                if (command.starts_with("CAPABILITY")) {
                    out += c.on_capability(tag);
                } else if (command.starts_with("STARTTLS")) {
                    out += c.on_starttls(tag);
                    *upgraded = true;
                } else if (command.starts_with("AUTHENTICATE") && command.find(' ', 13) == std::string::npos) {
                    out += "+ \r\n";
                } else {
                    out += tag + " OK done\r\n";
                }
            }
            return out;
        });
}

// The wire never carried a credential.
inline void check_no_credentials(const std::string& written) {
    CHECK(written.find("LOGIN") == std::string::npos);
    CHECK(written.find("AUTHENTICATE") == std::string::npos);
    CHECK(written.find(kPassword) == std::string::npos);
    CHECK(written.find(util::base64_encode(std::string("\0", 1) + kUser + std::string("\0", 1) + kPassword)) ==
          std::string::npos);
}

// A TLS record header (handshake, TLS 1.x): the client began a handshake.
inline bool handshake_started(const std::string& written) {
    return written.find("\x16\x03") != std::string::npos;
}

}  // namespace imapkeep::testing::starttls
