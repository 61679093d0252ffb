#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using imapkeep::transport::ScriptedStream;
using imapkeep::transport::TransportError;
using Kind = TransportError::Kind;

TEST_CASE("ScriptedStream replays initial bytes in chunks of at most max_chunk", "[transport][fault]") {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{100}}) {
        ScriptedStream s("* OK ready\r\n", {}, chunk);
        std::string got;
        char buf[8];
        while (std::size_t n = s.read_some(buf)) {
            CHECK(n <= std::min(chunk, sizeof buf));
            got.append(buf, n);
        }
        CHECK(got == "* OK ready\r\n");
        CHECK(s.read_some(buf) == 0);
    }
}

TEST_CASE("ScriptedStream asks the responder with what the client wrote", "[transport][fault]") {
    std::vector<std::string> seen;
    ScriptedStream s("* OK\r\n", [&](const std::string& client) {
        seen.push_back(client);
        if (client.find("LOGOUT") != std::string::npos) return std::string{};
        return "reply " + std::to_string(seen.size()) + "\r\n";
    });
    char buf[64];
    CHECK(std::string(buf, s.read_some(buf)) == "* OK\r\n");
    s.write_all("a1 ");
    s.write_all("NOOP\r\n");
    CHECK(std::string(buf, s.read_some(buf)) == "reply 1\r\n");
    CHECK(std::string(buf, s.read_some(buf)) == "reply 2\r\n");  // nothing new written
    s.write_all("a2 LOGOUT\r\n");
    CHECK(s.read_some(buf) == 0);
    CHECK(seen == std::vector<std::string>{"a1 NOOP\r\n", "", "a2 LOGOUT\r\n"});
    CHECK(s.written() == "a1 NOOP\r\na2 LOGOUT\r\n");
}

TEST_CASE("ScriptedStream failures: responder throws, use after close", "[transport][fault]") {
    ScriptedStream s("", [](const std::string&) -> std::string {
        throw TransportError(Kind::Io, "connection reset");
    });
    char buf[4];
    CHECK_THROWS_AS(s.read_some(buf), TransportError);
    s.close();
    try {
        s.write_all("x");
        FAIL("write after close succeeded");
    } catch (const TransportError& e) {
        CHECK(e.kind() == Kind::Closed);
    }
    CHECK(s.describe() == "scripted");
}
