// Invariant 5 (DESIGN.md): a connection with commands in flight is abandoned on
// any error, so no later reply can reach a handler whose caller has gone.
#include <array>
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;
using imapkeep::testing::scripted;

namespace {

// One FETCH line longer than the default line limit (1 MiB).
std::string overlong_fetch_line() {
    return "* 1 FETCH (UID 1 FLAGS ($" + std::string((1 << 20) + 10, 'k') + "))\r\n";
}

UidSet uids(std::uint32_t first, std::uint32_t last) {
    UidSet set;
    set.add_range(Uid(first), Uid(last));
    return set;
}

}  // namespace

// The audit's repro: the caller of uid_fetch catches the error and returns; its
// handler pointed at its locals. Reusing the connection must not reach it.
TEST_CASE("an over-long line in a UID FETCH answer abandons the connection", "[imap][invariant5]") {
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"UID FETCH", overlong_fetch_line() +
                                              "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n$T OK done\r\n"},
                            {"NOOP", "$T OK\r\n"}}));
    client.read_greeting();
    auto calls_after_return = std::make_shared<int>(0);
    auto returned = std::make_shared<bool>(false);
    auto fetch_flags = [&] {
        std::array<int, 4> seen{};  // the caller's state the handler points at
        try {
            client.uid_fetch(uids(1, 2), imap::FetchItems().flags(),
                             [&seen, returned, calls_after_return](imap::FetchData& d) {
                                 if (*returned) {
                                     ++*calls_after_return;
                                     return;  // never touch `seen`: it is gone
                                 }
                                 seen[d.uid->value % seen.size()] = 1;
                             });
            FAIL("no exception");
        } catch (const imap::Abort&) {
        } catch (const imap::Error& e) {
            FAIL("plain Error, connection kept: " << e.what());
        }
        *returned = true;
    };
    fetch_flags();
    CHECK_THROWS_AS(client.noop(), imap::Abort);
    CHECK(*calls_after_return == 0);
}

TEST_CASE("an over-long line with nothing in flight is an Error and the connection goes on",
          "[imap][invariant5]") {
    Client client(scripted("* PREAUTH hi\r\n" + overlong_fetch_line() + "* 3 EXISTS\r\n",
                           {{"NOOP", "$T OK\r\n"}}));
    client.read_greeting();
    CHECK_THROWS_AS(client.read_one(), imap::Error);
    REQUIRE_NOTHROW(client.read_one());
    CHECK_NOTHROW(client.noop());
}

// Each way a read or a callback can fail while a second, pipelined command is in
// flight: after the error, that command's handler is never called again and the
// connection refuses every further use.
TEST_CASE("any error with commands in flight leaves no handler reachable", "[imap][invariant5]") {
    struct ThrowingSink : wire::LiteralSink {
        void write(std::string_view) override { throw std::runtime_error("disk full"); }
        void finish() override {}
    };
    // Malformed data in a whole frame (a FETCH that does not parse, a UID
    // that is no number) fails only its command: tests/imap/malformed_test.cpp.
    enum class Failure { LongLine, Handler, Sink, Continuation, Observer };
    const std::string later = "* 9 FETCH (UID 9 FLAGS ())\r\n";
    struct Case {
        Failure failure;
        std::string first_reply;  // to the first command, before `later`
    } cases[] = {
        {Failure::LongLine, overlong_fetch_line()},
        {Failure::Handler, "* 1 FETCH (UID 1 FLAGS ())\r\n"},
        {Failure::Sink, "* 1 FETCH (UID 1 BODY[] {5}\r\nhello)\r\n"},
        {Failure::Continuation, "+ go on\r\n"},
        {Failure::Observer, "* 1 FETCH (UID 1 FLAGS ())\r\n"},
    };
    for (const auto& c : cases) {
        INFO("case " << static_cast<int>(c.failure));
        std::string script;
        // Both commands are on the wire before any answer arrives.
        auto stream = std::make_unique<transport::ScriptedStream>(
            "* PREAUTH hi\r\n",
            [&, sent = std::string()](const std::string& in) mutable -> std::string {
                sent += in;
                if (std::count(sent.begin(), sent.end(), '\n') < 2) return "";
                if (!script.empty()) return std::exchange(script, "");
                return "";
            });
        Client client(std::move(stream));
        client.read_greeting();
        ThrowingSink sink;
        if (c.failure == Failure::Sink)
            client.set_body_sink_factory([&](std::string_view, std::uint64_t) { return &sink; });
        if (c.failure == Failure::Observer)
            client.set_frame_observer([](wire::Frame& f) {
                if (f.lines.front().starts_with("* 1 FETCH")) throw std::runtime_error("observer");
            });
        Client::Tag first;
        if (c.failure == Failure::Continuation) {
            first = client.submit("AUTHENTICATE", {wire::Arg::atom("X")}, {},
                                  [](const wire::Response&) -> std::optional<std::string> {
                                      throw std::runtime_error("mechanism failed");
                                  });
        } else {
            first =
                client.submit_uid_fetch(uids(1, 1), imap::FetchItems().flags().body_peek(), [&](imap::FetchData&) {
                    if (c.failure == Failure::Handler) throw std::runtime_error("handler");
                });
        }
        auto late_calls = std::make_shared<int>(0);
        auto second = client.submit_uid_fetch(uids(9, 9), imap::FetchItems().flags(),
                                              [late_calls](imap::FetchData&) { ++*late_calls; });
        script = c.first_reply + later + "K1 OK\r\nK2 OK\r\n";
        CHECK_THROWS(client.wait(first));
        CHECK_THROWS_AS(client.wait(second), imap::Abort);
        CHECK_THROWS_AS(client.noop(), imap::Abort);
        CHECK_THROWS_AS(client.read_one(), imap::Abort);
        CHECK(*late_calls == 0);
    }
}
