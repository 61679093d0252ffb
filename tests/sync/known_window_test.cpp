// Issue 10, "Memory grows with the mailbox": flags and expunges of known
// messages are reconciled in windows of catalog rows (known_mail.cpp), so a
// plain-path run holds one window, not the whole mailbox. A change in every
// window is found, and the plain path asks the server once per window.
#include <catch2/catch.hpp>

#include "heap_counters.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

// The UID sets of the flag listings, in the order sent.
std::vector<std::string> flag_fetches(const ModelServer& server) {
    std::vector<std::string> sets;
    for (const auto& c : server.commands()) {
        const auto at = c.find("UID FETCH ");
        const auto end = c.find(" (FLAGS)");
        if (at != std::string::npos && end != std::string::npos)
            sets.push_back(c.substr(at + 10, end - at - 10));
    }
    return sets;
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
            const int n = 5010;  // two windows: the first of 500 rows, then 4510
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
            // One UID FETCH (FLAGS) per window, each bounded by its rows. The
            // first is small, so the server answers it while the next window
            // is read (issue 10).
            CHECK(flag_fetches(f.server) == std::vector<std::string>{"1:500", "501:5010"});
        }
    }
}

TEST_CASE("a server that reports every message changed costs a few bytes per message",
          "[sync][bounded]") {
    // A rebuilt index (Dovecot after a resync, or a Maildir restored under it)
    // gives every message a new mod-sequence: QRESYNC's EXAMINE, or CONDSTORE's
    // CHANGEDSINCE, then names the whole mailbox. Each FetchData held for
    // them cost about 550 bytes: 145 MB at 200k messages (issue 10's bench).
    const std::vector<std::pair<const char*, std::set<std::string>>> paths = {
        {"QRESYNC", {"ENABLE", "CONDSTORE", "QRESYNC", "ESEARCH", "UNSELECT"}},
        {"CONDSTORE", {"ENABLE", "CONDSTORE", "ESEARCH", "UNSELECT"}},
    };
    for (const auto& [name, caps] : paths) {
        DYNAMIC_SECTION(name) {
            ModelFixture f;
            f.server.set_capabilities(caps);
            f.server.add_mailbox("INBOX");
            const std::uint32_t n = 12000;
            for (std::uint32_t i = 0; i < n; ++i)
                f.server.append("INBOX", message("m" + std::to_string(i), ""), {"\\Seen"});
            REQUIRE(report_ok(f.backup()));

            // Every message's modseq moves; three really change.
            for (std::uint32_t uid = 1; uid <= n; ++uid)
                f.server.set_flags("INBOX", uid, uid % 5000 == 7 ? std::vector<std::string>{"\\Flagged"}
                                                                : std::vector<std::string>{"\\Seen"});
            const std::size_t before = reset_peak_heap();
            auto report = f.backup();
            const std::size_t held = g_peak_bytes.load() - before;
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            const auto* inbox = find_report(report, "INBOX");
            REQUIRE(inbox);
            CHECK(inbox->flag_changes == 3);
            CHECK(inbox->expunged == 0);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            // What may be held at once: one window of catalog rows (5000,
            // about 3 MB here), the in-process model server's reply (about
            // 50 bytes a message, copied), and a few bytes a message of ours.
            // Holding each reported FetchData came to about 10.5 MB.
            INFO("peak heap above the start: " << held << " bytes, " << held / n << " a message");
            if (kCountsAllocations) CHECK(held < (6u << 20));
        }
    }
}
