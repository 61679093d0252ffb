#include <catch2/catch.hpp>
#include <imapkeep/util/types.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using imapkeep::Uid;
using imapkeep::UidSet;

namespace {
UidSet build(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& ranges) {
    UidSet s;
    for (auto [a, b] : ranges) s.add_range(Uid{a}, Uid{b});
    return s;
}
}  // namespace

TEST_CASE("UidSet add and add_range merge into sorted disjoint ranges", "[util][uidset]") {
    struct Case {
        std::vector<std::pair<std::uint32_t, std::uint32_t>> added;
        std::string rendered;
        std::uint64_t size;
    };
    const std::vector<Case> cases = {
        {{}, "", 0},
        {{{5, 5}}, "5", 1},
        {{{1, 3}, {4, 4}}, "1:4", 4},          // adjacent after
        {{{4, 6}, {1, 3}}, "1:6", 6},          // adjacent before
        {{{1, 2}, {5, 6}, {3, 4}}, "1:6", 6},  // bridges two ranges
        {{{1, 2}, {10, 12}, {5, 6}}, "1:2,5:6,10:12", 7},
        {{{10, 1}}, "1:10", 10},          // reversed
        {{{3, 8}, {1, 20}}, "1:20", 20},  // swallows
        {{{1, 1}, {3, 3}, {5, 5}, {2, 4}}, "1:5", 5},
        {{{7, 7}, {7, 7}}, "7", 1},
        {{{4294967295u, 4294967295u}, {4294967294u, 4294967294u}}, "4294967294:4294967295", 2},
        {{{1, 4294967295u}}, "1:4294967295", 4294967295ull},
    };
    for (const auto& c : cases) {
        INFO("expected " << c.rendered);
        UidSet s = build(c.added);
        CHECK(s.to_string() == c.rendered);
        CHECK(s.size() == c.size);
        CHECK(s.empty() == (c.size == 0));
    }
}

TEST_CASE("UidSet contains", "[util][uidset]") {
    UidSet s = build({{1, 3}, {7, 9}, {4294967295u, 4294967295u}});
    const std::vector<std::pair<std::uint32_t, bool>> cases = {
        {1, true}, {2, true}, {3, true},   {4, false},           {6, false},
        {7, true}, {9, true}, {10, false}, {4294967294u, false}, {4294967295u, true},
    };
    for (auto [uid, expected] : cases) {
        INFO("uid " << uid);
        CHECK(s.contains(Uid{uid}) == expected);
    }
    CHECK_FALSE(UidSet{}.contains(Uid{1}));
}

TEST_CASE("UidSet rejects UID 0", "[util][uidset]") {
    UidSet s;
    CHECK_THROWS_AS(s.add(Uid{0}), std::invalid_argument);
    CHECK_THROWS_AS(s.add_range(Uid{0}, Uid{5}), std::invalid_argument);
    CHECK(s.empty());
}

TEST_CASE("UidSet parse", "[util][uidset]") {
    const std::vector<std::pair<std::string, std::string>> ok = {
        {"", ""},
        {"1", "1"},
        {"1:3,5", "1:3,5"},
        {"5:1", "1:5"},
        {"3,1,2", "1:3"},
        {"10:12,1:2,11", "1:2,10:12"},
        {"4294967295", "4294967295"},
        {"2:2", "2"},
    };
    for (const auto& [text, rendered] : ok) {
        INFO(text);
        CHECK(UidSet::parse(text).to_string() == rendered);
    }
    const std::vector<std::string> bad = {
        "0",   "1:0",   "*",  "1:*", ",",  "1,", ",1", "1,,2",       "1:",
        ":1",  "1:2:3", "01", "a",   "1 ", " 1", "-1", "4294967296", "99999999999999999999",
        "1;2",
    };
    for (const auto& text : bad) {
        INFO(text);
        CHECK_THROWS_AS(UidSet::parse(text), std::invalid_argument);
    }
}

TEST_CASE("UidSet to_vector and equality", "[util][uidset]") {
    UidSet s = UidSet::parse("1:3,7");
    std::vector<Uid> expected = {Uid{1}, Uid{2}, Uid{3}, Uid{7}};
    CHECK(s.to_vector(4) == expected);
    CHECK_THROWS_AS(s.to_vector(3), std::length_error);
    CHECK(s.first(2) == std::vector<Uid>{Uid{1}, Uid{2}});
    CHECK(s.first(9) == expected);
    CHECK(UidSet::parse("1:4294967295").first(3) == std::vector<Uid>{Uid{1}, Uid{2}, Uid{3}});
    CHECK_THROWS_AS(UidSet::parse("1:4294967295").to_vector(1000), std::length_error);
    CHECK(s == UidSet::parse("7,3,2,1"));
    CHECK_FALSE(s == UidSet::parse("1:3"));
    REQUIRE(s.ranges().size() == 2);
    CHECK(s.ranges()[0] == UidSet::Range{1, 3});
}

TEST_CASE("UidSet chunked", "[util][uidset]") {
    struct Case {
        std::string set;
        std::uint64_t max;
        std::vector<std::string> chunks;
    };
    const std::vector<Case> cases = {
        {"", 3, {}},
        {"1:10", 3, {"1:3", "4:6", "7:9", "10"}},
        {"1:10", 10, {"1:10"}},
        {"1:10", 100, {"1:10"}},
        {"1:2,5,8:9", 2, {"1:2", "5,8", "9"}},
        {"1,3,5,7", 1, {"1", "3", "5", "7"}},
        {"4294967290:4294967295", 4, {"4294967290:4294967293", "4294967294:4294967295"}},
    };
    for (const auto& c : cases) {
        INFO(c.set << " by " << c.max);
        auto chunks = UidSet::parse(c.set).chunked(c.max);
        std::vector<std::string> rendered;
        UidSet rejoined;
        for (const auto& chunk : chunks) {
            CHECK(chunk.size() <= c.max);
            rendered.push_back(chunk.to_string());
            for (const auto& r : chunk.ranges()) rejoined.add_range(Uid{r.first}, Uid{r.last});
        }
        CHECK(rendered == c.chunks);
        CHECK(rejoined == UidSet::parse(c.set));
    }
    CHECK_THROWS_AS(UidSet::parse("1").chunked(0), std::invalid_argument);
}

TEST_CASE("UidSet parse merges items in any order", "[util][uidset]") {
    CHECK(UidSet::parse("9,7,5,3,1").to_string() == "1,3,5,7,9");
    CHECK(UidSet::parse("3,1,2,10:8,4:5").to_string() == "1:5,8:10");
    CHECK(UidSet::parse("5:1,2:3,4294967295").to_string() == "1:5,4294967295");
    // A server's descending list of 200k UIDs: sorted once, not inserted one by one.
    std::string text;
    for (std::uint32_t u = 400000; u > 0; u -= 2) text += std::to_string(u) + (u > 2 ? "," : "");
    auto set = UidSet::parse(text);
    CHECK(set.size() == 200000);
    CHECK(set.ranges().size() == 200000);
    CHECK(set.contains(Uid(2)));
    CHECK_FALSE(set.contains(Uid(3)));
    CHECK_THROWS_AS(UidSet::from_ranges({{0, 3}}), std::invalid_argument);
    CHECK(UidSet::from_ranges({{9, 7}, {1, 1}, {2, 6}}).to_string() == "1:9");
}

TEST_CASE("UidSet intersect and minus agree with the UIDs they stand for", "[util][uidset]") {
    const char* const sets[] = {"",     "1",       "1:10",       "3:5,8", "2,4,6,8,10",
                                "5:20", "9:12,15", "1:3,7:9,11", "10"};
    auto members = [](const UidSet& s) {
        std::set<std::uint32_t> out;
        for (auto u : s.to_vector(1000)) out.insert(u.value);
        return out;
    };
    for (const char* a_text : sets) {
        for (const char* b_text : sets) {
            INFO(a_text << " and " << b_text);
            const auto a = UidSet::parse(a_text);
            const auto b = UidSet::parse(b_text);
            std::set<std::uint32_t> both, only_a;
            for (auto u : members(a)) (members(b).count(u) ? both : only_a).insert(u);
            const auto i = a.intersect(b);
            const auto m = a.minus(b);
            CHECK(members(i) == both);
            CHECK(members(m) == only_a);
            // Canonical: equal to the same UIDs added one by one.
            UidSet rebuilt;
            for (auto u : both) rebuilt.add(Uid(u));
            CHECK(i == rebuilt);
        }
    }
    // Ranges, not UIDs: the whole UID space costs nothing.
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    CHECK(all.minus(UidSet::parse("5:9")).to_string() == "1:4,10:4294967295");
    CHECK(all.intersect(UidSet::parse("4294967295")).to_string() == "4294967295");
    CHECK(all.minus(all).empty());
}
