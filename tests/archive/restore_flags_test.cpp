#include "archive/restore_flags.hpp"

#include <catch2/catch.hpp>

using namespace imapkeep::archive::detail;
using Flags = std::vector<std::string>;

TEST_CASE("restore sends only the flags the target can take", "[archive][restore]") {
    struct Case {
        const char* name;
        Flags flags;
        std::optional<Flags> permanent;
        Flags send;
        Flags dropped;
    };
    const Flags any = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\*"};
    const Case cases[] = {
        {"system flags and atoms, no PERMANENTFLAGS", {"\\Seen", "\\flagged", "$Work", "NonJunk"}, std::nullopt,
         {"\\Seen", "\\flagged", "$Work", "NonJunk"}, {}},
        {"\\Recent is never sent nor reported", {"\\Recent", "\\Seen"}, std::nullopt, {"\\Seen"}, {}},
        {"a Gmail label with ]", {"[Gmail]/Important", "\\Seen"}, any, {"\\Seen"}, {"[Gmail]/Important"}},
        {"8-bit, space, parentheses, quote, wildcard",
         {"\xc3\x9c" "ber", "two words", "a(b", "a\"b", "a*b", "a%b", "a{b"}, std::nullopt, {},
         {"\xc3\x9c" "ber", "two words", "a(b", "a\"b", "a*b", "a%b", "a{b"}},
        {"an empty keyword", {""}, std::nullopt, {}, {""}},
        {"an unknown \\Word is not sent", {"\\Junk", "\\Seen"}, std::nullopt, {"\\Seen"}, {"\\Junk"}},
        {"an unknown \\Word the target lists is sent", {"\\Junk"}, Flags{"\\Junk", "\\*"}, {"\\Junk"}, {}},
        {"PERMANENTFLAGS with \\*: any keyword", {"$Work", "\\Draft"}, any, {"$Work", "\\Draft"}, {}},
        {"PERMANENTFLAGS without \\*: only the listed ones",
         {"$Work", "$label1", "\\Seen", "\\Flagged"}, Flags{"\\Seen", "$LABEL1"}, {"$label1", "\\Seen"},
         {"$Work", "\\Flagged"}},
        {"empty PERMANENTFLAGS keeps nothing", {"\\Seen"}, Flags{}, {}, {"\\Seen"}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto r = flags_for_target(c.flags, c.permanent);
        CHECK(r.send == c.send);
        CHECK(r.dropped == c.dropped);
    }
}

TEST_CASE("missing flags are compared case-insensitively", "[archive][restore]") {
    CHECK(missing_flags({"\\Seen", "$Work", "\\Flagged"}, {"\\SEEN", "$work"}) == Flags{"\\Flagged"});
    CHECK(missing_flags({}, {"\\Seen"}).empty());
    CHECK(missing_flags({"\\Seen"}, {}) == Flags{"\\Seen"});
}
