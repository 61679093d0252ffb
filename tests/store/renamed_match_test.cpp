#include <catch2/catch.hpp>

#include "store/renamed_files.hpp"

using namespace imapkeep::store;

TEST_CASE("match_renamed pairs catalog names with what a mail reader left", "[store][renamed]") {
    const FolderListing listing{"mail/a/.F",
                                {"same,U=1:2,S", "read,U=2:2,S", "both,U=6:2,F"},
                                {"moved,U=3:2,", "both,U=6:2,"}};
    struct Case {
        std::string known;
        std::string actual;  // "" = not reported
    };
    const std::vector<Case> cases = {
        {"mail/a/.F/cur/same,U=1:2,S", ""},                            // under its own name
        {"mail/a/.F/cur/read,U=2:2,", "mail/a/.F/cur/read,U=2:2,S"},   // mutt: flags
        {"mail/a/.F/cur/moved,U=3:2,", "mail/a/.F/new/moved,U=3:2,"},  // cur/ -> new/
        {"mail/a/.F/new/both,U=6:2,S", "mail/a/.F/cur/both,U=6:2,F"},  // cur/ wins
        {"mail/a/.F/cur/read,U=9:2,", ""},   // another UID is another message's name
        {"mail/a/.F/cur/gone,U=4:2,", ""},   // nowhere: missing, not renamed
        {"mail/a/.G/cur/read,U=2:2,", ""},   // another folder
        {"mail/a/.F/tmp/read,U=2:2,", ""},   // not a message directory
        {"attic/a/.F/cur/read,U=2:2,", ""},  // another tree
        {"x", ""},
    };
    for (const auto& c : cases) {
        INFO(c.known);
        const auto found = match_renamed(listing, {c.known});
        if (c.actual.empty()) {
            CHECK(found.empty());
        } else {
            REQUIRE(found.size() == 1);
            CHECK(found[0] == std::make_pair(c.known, c.actual));
        }
    }
}
