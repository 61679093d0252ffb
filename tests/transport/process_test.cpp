#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <functional>
#include <imapkeep/transport/process.hpp>
#include <string>
#include <vector>

#include "transport/child_process.hpp"
#include "transport/openssh.hpp"

using imapkeep::transport::spawn_process;
using imapkeep::transport::Stream;
using imapkeep::transport::StreamPtr;
using imapkeep::transport::TransportError;
using Kind = TransportError::Kind;
using namespace std::chrono_literals;

namespace {
std::string read_to_eof(Stream& s) {
    std::string out;
    char buf[1024];
    while (std::size_t n = s.read_some(buf)) out.append(buf, n);
    return out;
}

std::string read_exactly(Stream& s, std::size_t size) {
    std::string out;
    char buf[1024];
    while (out.size() < size) {
        std::size_t n = s.read_some(std::span<char>(buf, std::min(sizeof buf, size - out.size())));
        if (n == 0) break;
        out.append(buf, n);
    }
    return out;
}

Kind kind_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const TransportError& e) {
        return e.kind();
    }
    FAIL("no TransportError thrown");
    return Kind::Io;
}
}  // namespace

TEST_CASE("process output is read to EOF", "[transport][process]") {
    struct Case {
        std::string command;
        std::string output;
    };
    const std::vector<Case> cases = {
        {"printf '* PREAUTH ready\\r\\n'", "* PREAUTH ready\r\n"},
        {"printf 'a\\0b'", std::string("a\0b", 3)},
        {"true", ""},
        {"echo one; echo two >&1", "one\ntwo\n"},
    };
    for (const auto& c : cases) {
        INFO(c.command);
        StreamPtr s = spawn_process(c.command, 5s);
        CHECK(read_to_eof(*s) == c.output);
    }
}

TEST_CASE("process echo round trip through cat", "[transport][process]") {
    StreamPtr s = spawn_process("cat", 5s);
    CHECK(s->describe() == "process: cat");
    CHECK(s->native_handle() >= 0);
    for (std::string line : {"a001 NOOP\r\n", "a002 LOGOUT\r\n"}) {
        s->write_all(line);
        CHECK(read_exactly(*s, line.size()) == line);
    }
    // Larger than a pipe buffer in both directions, interleaved.
    std::string big(256 * 1024, 'x');
    for (std::size_t i = 0; i < big.size(); i += 1000) big[i] = static_cast<char>('a' + i % 26);
    std::string echoed;
    for (std::size_t pos = 0; pos < big.size(); pos += 16384) {
        s->write_all(std::string_view(big).substr(pos, 16384));
        echoed += read_exactly(*s, std::min<std::size_t>(16384, big.size() - pos));
    }
    CHECK(echoed == big);
    s->close();
}

TEST_CASE("process whose command does not exist reads EOF quickly", "[transport][process]") {
    auto start = std::chrono::steady_clock::now();
    StreamPtr s = spawn_process("imapkeep-no-such-command-3f9a 2>/dev/null", 10s);
    char buf[64];
    CHECK(s->read_some(buf) == 0);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("process read timeout throws Timeout; close stops the child", "[transport][process]") {
    StreamPtr s = spawn_process("sleep 30", 100ms);
    char buf[64];
    auto start = std::chrono::steady_clock::now();
    CHECK(kind_of([&] { s->read_some(buf); }) == Kind::Timeout);
    CHECK(std::chrono::steady_clock::now() - start >= 100ms);
    start = std::chrono::steady_clock::now();
    s->close();
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("process close escalates to SIGKILL for a child ignoring SIGTERM", "[transport][process]") {
    StreamPtr s = spawn_process("trap '' TERM; printf 'up\\n'; while :; do sleep 0.1; done", 5s);
    CHECK(read_exactly(*s, 3) == "up\n");
    auto start = std::chrono::steady_clock::now();
    s->close();
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= 900ms);  // two grace periods passed before SIGKILL
    CHECK(elapsed < 5s);
    s->close();  // idempotent
}

TEST_CASE("process write to an exited child is an Io error, not SIGPIPE", "[transport][process]") {
    StreamPtr s = spawn_process("exec 0<&-; printf bye", 5s);
    CHECK(read_to_eof(*s) == "bye");
    std::string chunk(1 << 20, 'z');
    CHECK(kind_of([&] { s->write_all(chunk); }) == Kind::Io);
    // The SIGPIPE was consumed, not left pending for the process.
    sigset_t pending;
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGPIPE) == 0);
}

TEST_CASE("process use after close throws Closed", "[transport][process]") {
    StreamPtr s = spawn_process("cat", 5s);
    s->close();
    char buf[4];
    CHECK(kind_of([&] { s->read_some(buf); }) == Kind::Closed);
    CHECK(kind_of([&] { s->write_all("x"); }) == Kind::Closed);
}

TEST_CASE("a child's environment: this process's, with the spec's added or replacing",
          "[transport][process]") {
    using imapkeep::transport::detail::child_environment;
    struct Case {
        const char* what;
        std::vector<const char*> inherited;
        std::vector<std::string> added;
        std::vector<std::string> expected;
    };
    const std::vector<Case> cases = {
        {"nothing added", {"A=1", "B=2"}, {}, {"A=1", "B=2"}},
        {"one added", {"A=1"}, {"C=3"}, {"A=1", "C=3"}},
        {"one replaced, by name only", {"A=1", "AB=2", "B=2"}, {"A=9"}, {"AB=2", "B=2", "A=9"}},
        {"an empty value replaces too", {"A=1"}, {"A="}, {"A="}},
        {"an entry without '='", {"ODD", "A=1"}, {"A=2"}, {"ODD", "A=2"}},
    };
    for (const auto& c : cases) {
        std::vector<const char*> inherited = c.inherited;
        inherited.push_back(nullptr);
        INFO(c.what);
        CHECK(child_environment(inherited.data(), c.added) == c.expected);
    }
}

TEST_CASE("a child started with an added variable sees it", "[transport][process]") {
    imapkeep::transport::detail::ChildSpec spec;
    spec.argv = {"sh", "-c", "printf '%s|%s' \"$IMAPKEEP_TEST_ADDED\" \"${PATH:+path}\""};
    spec.description = "sh";
    spec.environment = {"IMAPKEEP_TEST_ADDED=a b"};
    imapkeep::transport::detail::ChildStream child(std::move(spec));
    CHECK(read_to_eof(child) == "a b|path");
}

TEST_CASE("openssh: ssh gets a malloc threshold above its buffers, unless the user set tunables",
          "[transport][ssh]") {
    using imapkeep::transport::openssh::ssh_environment;
    const auto set = ssh_environment(nullptr);
    REQUIRE(set.size() == 1);
    CHECK(set[0].starts_with("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:"));
    CHECK(ssh_environment("glibc.malloc.arena_max=1").empty());
    CHECK(ssh_environment("").empty());
}
