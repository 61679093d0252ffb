#include <imapkeep/transport/tcp.hpp>

#include "transport/loopback.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

using imapkeep::test::Listener;
using imapkeep::transport::connect_tcp;
using imapkeep::transport::StreamPtr;
using imapkeep::transport::TcpOptions;
using imapkeep::transport::TransportError;
using Kind = TransportError::Kind;
using namespace std::chrono_literals;

namespace {
std::string read_to_eof(imapkeep::transport::Stream& s) {
    std::string out;
    char buf[1024];
    while (std::size_t n = s.read_some(buf)) out.append(buf, n);
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

TEST_CASE("tcp round trip, describe and native handle", "[transport][tcp]") {
    Listener server([](int fd) {
        std::string line = imapkeep::test::read_fd_until(fd, "\r\n");
        imapkeep::test::write_fd(fd, "echo " + line);
    });
    StreamPtr s = connect_tcp("127.0.0.1", server.port());
    CHECK(s->describe() == "tcp 127.0.0.1:" + std::to_string(server.port()));
    CHECK(s->native_handle() >= 0);
    CHECK(s->pending() == 0);
    s->write_all("a001 NOOP\r\n");
    CHECK(read_to_eof(*s) == "echo a001 NOOP\r\n");
}

TEST_CASE("tcp empty host means localhost", "[transport][tcp]") {
    Listener server([](int fd) { imapkeep::test::write_fd(fd, "* OK\r\n"); });
    StreamPtr s = connect_tcp("", server.port());
    CHECK(s->describe() == "tcp localhost:" + std::to_string(server.port()));
    CHECK(read_to_eof(*s) == "* OK\r\n");
}

TEST_CASE("tcp EOF reads as 0, repeatedly", "[transport][tcp]") {
    Listener server([](int fd) { imapkeep::test::write_fd(fd, "* BYE\r\n"); });
    StreamPtr s = connect_tcp("127.0.0.1", server.port());
    CHECK(read_to_eof(*s) == "* BYE\r\n");
    char buf[16];
    CHECK(s->read_some(buf) == 0);
}

TEST_CASE("tcp read timeout throws Timeout and the stream stays usable", "[transport][tcp]") {
    Listener server([](int fd) {
        // Answer only after the client spoke, i.e. after its timed-out read.
        std::string got = imapkeep::test::read_fd_until(fd, "\n");
        imapkeep::test::write_fd(fd, "late " + got);
    });
    TcpOptions options;
    options.read_timeout = 100ms;
    StreamPtr s = connect_tcp("127.0.0.1", server.port(), options);
    char buf[64];
    auto start = std::chrono::steady_clock::now();
    CHECK(kind_of([&] { s->read_some(buf); }) == Kind::Timeout);
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= 100ms);
    CHECK(elapsed < 3s);
    s->set_read_timeout(5s);
    s->write_all("x\n");
    CHECK(read_to_eof(*s) == "late x\n");
}

TEST_CASE("tcp connection errors", "[transport][tcp]") {
    struct Case {
        std::string host;
        int port;
        Kind kind;
    };
    const std::vector<Case> cases = {
        {"127.0.0.1", imapkeep::test::unused_port(), Kind::Io},  // refused
        {"127.0.0.1", 0, Kind::Io},
        {"127.0.0.1", 65536, Kind::Io},
        {"nonexistent.invalid", 143, Kind::Resolve},  // RFC 6761 §6.4
    };
    for (const auto& c : cases) {
        INFO(c.host << ":" << c.port);
        CHECK(kind_of([&] { connect_tcp(c.host, c.port); }) == c.kind);
    }
    std::string message;
    try {
        connect_tcp("127.0.0.1", imapkeep::test::unused_port());
    } catch (const TransportError& e) {
        message = e.what();
    }
    CHECK(message.find("refused") != std::string::npos);
}

TEST_CASE("tcp connect timeout when the listen queue is full", "[transport][tcp]") {
    // Linux drops SYNs to a listener whose accept queue is full, so a
    // connect there hangs until our deadline.
    int port = 0;
    int lfd = imapkeep::test::listen_loopback(0, port);
    TcpOptions options;
    options.connect_timeout = 200ms;
    std::vector<StreamPtr> filled;
    bool timed_out = false;
    for (int i = 0; i < 8 && !timed_out; ++i) {
        try {
            filled.push_back(connect_tcp("127.0.0.1", port, options));
        } catch (const TransportError& e) {
            CHECK(e.kind() == Kind::Timeout);
            timed_out = e.kind() == Kind::Timeout;
        }
    }
    ::close(lfd);
    CHECK(timed_out);
}

TEST_CASE("tcp large write goes through flow control", "[transport][tcp]") {
    std::atomic<std::size_t> received{0};
    Listener server([&](int fd) {
        char buf[65536];
        while (true) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            received += static_cast<std::size_t>(n);
        }
    });
    StreamPtr s = connect_tcp("127.0.0.1", server.port());
    std::string big(8 << 20, 'm');
    s->write_all(big);
    s->close();
    server.join();
    CHECK(received == big.size());
}

TEST_CASE("tcp use after close throws Closed; close is idempotent", "[transport][tcp]") {
    Listener server([](int) {});
    StreamPtr s = connect_tcp("127.0.0.1", server.port());
    s->close();
    s->close();
    char buf[4];
    CHECK(kind_of([&] { s->read_some(buf); }) == Kind::Closed);
    CHECK(kind_of([&] { s->write_all("x"); }) == Kind::Closed);
    CHECK(s->native_handle() == -1);
}
