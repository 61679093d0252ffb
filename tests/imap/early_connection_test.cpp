// EarlyConnection: the first connection's stream opened ahead of time, taken
// once; a failed or stale one leaves the caller to open its own.
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/imap/early_connection.hpp>
#include <thread>

#include "support/model_listener.hpp"
#include "support/model_server.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using namespace std::chrono_literals;

namespace {

imap::ConnectOptions over_tcp(ModelServer& server, int port) {
    auto options = server.connect_options();
    options.stream_factory = nullptr;
    options.host = "127.0.0.1";
    options.port = port;
    return options;
}

// A port nothing listens on: one the kernel gave a listener that is gone.
int closed_port() {
    ModelServer server;
    return ModelListener(server).port();
}

}  // namespace

TEST_CASE("an early connection is the first connection's, once", "[imap][early]") {
    ModelServer server;
    ModelListener listener(server);
    auto options = over_tcp(server, listener.port());
    options.early = std::make_shared<imap::EarlyConnection>(options);

    auto first = imap::connect_and_login(options);
    CHECK(first->state() == imap::State::Authenticated);
    CHECK(server.connections_opened() == 1);
    // Taken: the next connection opens its own.
    auto second = imap::connect_and_login(options);
    CHECK(second->state() == imap::State::Authenticated);
    CHECK(server.connections_opened() == 2);
    CHECK(options.early->take() == nullptr);
}

TEST_CASE("an early connection that failed or went stale is not used", "[imap][early]") {
    struct Case {
        const char* name;
        bool listening;
        std::chrono::milliseconds fresh;
    };
    for (const Case c : {Case{"nothing listens", false, 5000ms}, Case{"stale", true, 0ms}}) {
        DYNAMIC_SECTION(c.name) {
            ModelServer server;
            ModelListener listener(server);
            auto options = over_tcp(server, c.listening ? listener.port() : closed_port());
            imap::EarlyConnection early(options, c.fresh);
            if (c.listening) {
                while (server.connections_opened() == 0) std::this_thread::sleep_for(1ms);
                std::this_thread::sleep_for(5ms);
            }
            // No exception: the caller's own connect meets the error, if any.
            CHECK(early.take() == nullptr);
            CHECK(early.take() == nullptr);
        }
    }
}

TEST_CASE("an early connection never taken is closed", "[imap][early]") {
    ModelServer server;
    ModelListener listener(server);
    {
        imap::EarlyConnection early(over_tcp(server, listener.port()));
        while (server.connections_opened() == 0) std::this_thread::sleep_for(1ms);
    }
    for (auto waited = 0ms; waited < 5s && server.connections_live() != 0; waited += 5ms)
        std::this_thread::sleep_for(5ms);
    CHECK(server.connections_live() == 0);
}
