// FlagSets: one copy of each flag list, the same index for equal lists.
#include <catch2/catch.hpp>

#include "sync/flag_sets.hpp"

using namespace imapkeep::sync;

TEST_CASE("FlagSets gives equal lists one index and gives each list back") {
    FlagSets sets;
    using Flags = std::vector<std::string>;
    CHECK(sets.at(0).empty());
    CHECK(sets.intern({}) == 0);
    const auto seen = sets.intern({"\\Seen"});
    const auto work = sets.intern({"$Work", "\\Seen"});
    CHECK(seen != work);
    CHECK(seen != 0);
    CHECK(sets.intern({"\\Seen"}) == seen);
    CHECK(sets.intern({"$Work", "\\Seen"}) == work);
    // Order counts: lists come normalised (sorted), this one is another list.
    CHECK(sets.intern({"\\Seen", "$Work"}) != work);
    CHECK(sets.at(seen) == Flags{"\\Seen"});
    CHECK(sets.at(work) == Flags{"$Work", "\\Seen"});
    CHECK_THROWS_AS(sets.at(99), std::out_of_range);
}
