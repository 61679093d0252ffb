#include <imapkeep/store/flags.hpp>

#include <catch2/catch.hpp>
#include <imapkeep/store/message_store.hpp>

using namespace imapkeep::store;
using Flags = std::vector<std::string>;

TEST_CASE("normalize_flags", "[store][flags]") {
    struct Case {
        Flags in, out;
    };
    const std::vector<Case> cases = {
        {{}, {}},
        {{"\\Seen"}, {"\\Seen"}},
        {{"\\SEEN", "\\seen"}, {"\\Seen"}},
        {{"\\Recent", "\\recent"}, {}},
        {{"$Work", "\\Answered", "", "\\Draft"}, {"$Work", "\\Answered", "\\Draft"}},
        {{"zeta", "alpha", "zeta"}, {"alpha", "zeta"}},
        {{"\\deleted", "\\FLAGGED"}, {"\\Deleted", "\\Flagged"}},
    };
    for (const auto& c : cases) {
        INFO(join_flags(c.in));
        CHECK(normalize_flags(c.in) == c.out);
    }
}

TEST_CASE("join_flags and split_flags are inverses", "[store][flags]") {
    const std::vector<Flags> cases = {{}, {"\\Seen"}, {"$A", "\\Answered", "\\Seen"}};
    for (const auto& flags : cases) CHECK(split_flags(join_flags(flags)) == flags);
    CHECK(join_flags({"$A", "\\Seen"}) == "$A \\Seen");
    CHECK(split_flags("  a  b ") == Flags{"a", "b"});
}

TEST_CASE("maildir_flag_suffix", "[store][flags]") {
    struct Case {
        Flags flags;
        std::string letters;
    };
    const std::vector<Case> cases = {
        {{}, ""},
        {{"\\Seen"}, "S"},
        {{"\\Seen", "\\Draft", "$Work"}, "DS"},
        {{"\\Deleted", "\\Answered", "\\Flagged", "\\Draft", "\\Seen"}, "DFRST"},
        {{"\\seen", "\\recent", "Seen"}, "S"},
        {{"$Label1", "\\Recent"}, ""},
    };
    for (const auto& c : cases) {
        INFO(join_flags(c.flags));
        CHECK(maildir_flag_suffix(c.flags) == c.letters);
    }
}
