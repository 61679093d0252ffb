// imaplib's debug trace (debug >= 4) with a user name that goes as a literal:
// the password after it must not appear, nor its length.
// imaplib.hpp first: it declares IMAP4::CHECK(), which Catch's macro would replace.
#include <imapkeep/imaplib.hpp>
// clang-format off
#include <catch2/catch.hpp>
// clang-format on
#include <unistd.h>

#include <cstdio>

#include "imaplib/fake_server.hpp"

namespace {

// Runs `body` with stderr redirected; returns what was written to it.
template <class F>
std::string capture_stderr(F body) {
    std::FILE* capture = std::tmpfile();
    REQUIRE(capture);
    std::fflush(stderr);
    int saved = ::dup(2);
    ::dup2(::fileno(capture), 2);
    body();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::string text;
    std::rewind(capture);
    for (int c; (c = std::fgetc(capture)) != EOF;) text += static_cast<char>(c);
    std::fclose(capture);
    return text;
}

}  // namespace

TEST_CASE("imaplib debug 4: a literal user name does not expose the password",
          "[imaplib][fake][secrets]") {
    imaplib_test::FakeServer server(
        "S: * OK IMAP4rev1 hi\nC: {TAG} CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS: {TAG} OK done\n"
        "C: {TAG} LOGIN \\{5\\}\nS: + go on\nC-BYTES: 5\nC: .*\nS: {TAG} OK in\n"
        "C: {TAG} LOGOUT\nS: * BYE bye\nS: {TAG} OK done\n");
    imaplib::IMAP4 M("127.0.0.1", server.port(), 5.0);
    std::string trace = capture_stderr([&] {
        M.debug = 5;
        M.login("\xC3\xBCser", "Sk-4hTn8w");
        M.logout();
    });
    INFO(trace);
    CHECK(trace.find(" LOGIN \"\\xc3\\xbcser\" <password>") != std::string::npos);
    CHECK(trace.find("4hTn") == std::string::npos);
    CHECK(server.finish() == "");
    bool sent = false;
    for (const auto& line : server.received())
        sent = sent || line.find("Sk-4hTn8w") != std::string::npos;
    CHECK(sent);  // it did go out, so its absence from the trace means something
}
