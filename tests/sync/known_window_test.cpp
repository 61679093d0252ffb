// Issue 10, "Memory grows with the mailbox": flags and expunges of known
// messages are reconciled in windows of catalog rows (known_mail.cpp), so a
// plain-path run holds one window, not the whole mailbox. A change in every
// window is found, and the plain path asks the server once per window.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::size_t flag_fetches(const ModelServer& server) {
    std::size_t n = 0;
    for (const auto& c : server.commands())
        if (c.find("UID FETCH") != std::string::npos && c.find("(FLAGS)") != std::string::npos) ++n;
    return n;
}

}  // namespace

TEST_CASE("known messages are reconciled window by window, every window's changes found",
          "[sync][bounded]") {
    // Plain only: the other paths share the windows (model_server_test covers
    // their results), and a cold backup of this size is slow.
    const std::vector<std::pair<const char*, std::set<std::string>>> paths = {
        {"plain", {"UNSELECT"}},
    };
    for (const auto& [name, caps] : paths) {
        DYNAMIC_SECTION(name) {
            ModelFixture f;
            f.server.set_capabilities(caps);
            f.server.add_mailbox("INBOX");
            const int n = 5010;  // two windows: 5000 rows, then 10
            for (int i = 0; i < n; ++i) f.server.append("INBOX", message("m" + std::to_string(i), ""));
            REQUIRE(report_ok(f.backup()));

            for (std::uint32_t uid : {7u, 5003u}) f.server.set_flags("INBOX", uid, {"\\Flagged"});
            for (std::uint32_t uid : {9u, 5010u}) f.server.expunge("INBOX", uid);
            f.server.clear_log();
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            const auto* inbox = find_report(report, "INBOX");
            REQUIRE(inbox);
            CHECK(inbox->flag_changes == 2);
            CHECK(inbox->expunged == 2);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            // One UID FETCH (FLAGS) per window, each bounded by its rows.
            CHECK(flag_fetches(f.server) == 2);
        }
    }
}
