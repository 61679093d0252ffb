// FlagChanges (src/sync/flag_changes.*): the server's reported flags, kept compact.
#include <catch2/catch.hpp>

#include "sync/flag_changes.hpp"

using imapkeep::sync::FlagChanges;
using Flags = std::vector<std::string>;

TEST_CASE("FlagChanges keeps the latest report of each UID, in any order of arrival", "[sync][flags]") {
    struct Case {
        const char* name;
        std::vector<std::pair<std::uint32_t, Flags>> reports;
        std::vector<std::pair<std::uint32_t, Flags>> expected;  // uid -> flags (normalized)
    };
    const std::vector<Case> cases = {
        {"ascending", {{1, {"\\Seen"}}, {5, {}}, {9, {"\\Flagged"}}}, {{1, {"\\Seen"}}, {5, {}}, {9, {"\\Flagged"}}}},
        {"descending", {{9, {"\\Seen"}}, {3, {"\\Draft"}}}, {{3, {"\\Draft"}}, {9, {"\\Seen"}}}},
        {"a UID twice: the later wins", {{4, {"\\Seen"}}, {2, {}}, {4, {"\\Flagged"}}}, {{2, {}}, {4, {"\\Flagged"}}}},
        {"twice after a lookup", {{4, {"\\Seen"}}, {4, {"\\Answered"}}}, {{4, {"\\Answered"}}}},
        {"normalized like the catalog", {{7, {"\\SEEN", "\\Recent"}}}, {{7, {"\\Seen"}}}},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            FlagChanges changes;
            for (std::size_t i = 0; i < c.reports.size(); ++i) {
                changes.set(c.reports[i].first, c.reports[i].second);
                // A lookup in between sorts what is there; later reports still win.
                if (i == 0) changes.find(c.reports[0].first);
            }
            std::vector<std::uint32_t> uids;
            for (const auto& [uid, flags] : c.expected) {
                uids.push_back(uid);
                const auto* found = changes.find(uid);
                REQUIRE(found);
                CHECK(*found == flags);
            }
            CHECK(changes.uids() == uids);
            CHECK(changes.size() == uids.size());
            CHECK(changes.find(1000) == nullptr);
        }
    }
}
