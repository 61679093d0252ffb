// A LIST that fails after LOGIN succeeded: the account did connect, so the
// run is "partway" (exit 1), not "never connected" (exit 3). A server's NO is
// not retried (one that asks for a pause is waited for: throttle_test.cpp);
// a connection cut in the middle of the LIST is.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a LIST that fails after login is an account error, not a connect failure", "[sync][list]") {
    const struct {
        const char* name;
        std::function<void(std::string& reply, bool& drop)> fail;
        bool transient;
    } cases[] = {
        {"answered NO", [](std::string& reply, bool&) { reply = reply.substr(0, reply.find(' ')) + " NO [SERVERBUG] cannot list\r\n"; }, false},
        {"answered BAD", [](std::string& reply, bool&) { reply = reply.substr(0, reply.find(' ')) + " BAD no\r\n"; }, false},
        {"cut mid-reply", [](std::string& reply, bool& drop) { reply = reply.substr(0, reply.size() / 2); drop = true; }, true},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            ModelFixture f;
            f.server.add_mailbox("A");
            f.server.append("A", message("a1"));
            f.server.on_reply = [&](const ModelCommand& command, std::string& reply, bool& drop) {
                if (command.name != "LIST") return;
                // The tagged line is the last one; keep the tag, change the rest.
                auto last = reply.rfind("\r\n", reply.size() - 3);
                std::string tagged = reply.substr(last == std::string::npos ? 0 : last + 2);
                if (c.transient) {
                    c.fail(reply, drop);
                } else {
                    c.fail(tagged, drop);
                    reply = tagged;
                }
            };
            auto report = f.backup();
            INFO(report.error);
            CHECK_FALSE(report.connect_failed);
            CHECK_FALSE(report.error.empty());
            CHECK(report.transient == c.transient);
            CHECK(f.stored("A").empty());
        }
    }
}
