#include <imapkeep/util/imap_date.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

using imapkeep::util::format_imap_datetime;
using imapkeep::util::local_zone_offset;
using imapkeep::util::parse_imap_datetime;

TEST_CASE("parse_imap_datetime accepts RFC 3501 date-time", "[util][date]") {
    struct Case {
        std::string text;
        std::int64_t epoch;
        int offset;
    };
    const std::vector<Case> cases = {
        {"17-Jul-1996 02:44:25 -0700", 837596665, -25200},  // RFC 3501 §6.3.11 example
        {"\"17-Jul-1996 02:44:25 -0700\"", 837596665, -25200},
        {" 1-Jan-2000 00:00:00 +0000", 946684800, 0},
        {"1-Jan-2000 00:00:00 +0000", 946684800, 0},
        {"01-Jan-2000 00:00:00 +0000", 946684800, 0},
        {"01-jan-2000 00:00:00 +0000", 946684800, 0},
        {"01-JAN-2000 00:00:00 +0000", 946684800, 0},
        {"\" 1-Jan-2000 05:30:00 +0530\"", 946684800, 19800},
        {"29-Feb-2024 12:00:00 +0530", 1709188200, 19800},
        {"31-Dec-1969 23:59:59 +0000", -1, 0},
        {"01-Jan-1970 00:00:00 -0930", 34200, -34200},
        {"31-Dec-9999 23:59:59 +0000", 253402300799, 0},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto parsed = parse_imap_datetime(c.text);
        REQUIRE(parsed.has_value());
        CHECK(parsed->epoch == c.epoch);
        CHECK(parsed->zone_offset_seconds == c.offset);
    }
}

TEST_CASE("parse_imap_datetime rejects malformed date-time", "[util][date]") {
    const std::vector<std::string> bad = {
        "",
        "\"",
        "\"17-Jul-1996 02:44:25 -0700",   // unbalanced quote
        "32-Jan-2000 00:00:00 +0000",
        "00-Jan-2000 00:00:00 +0000",
        "29-Feb-2023 00:00:00 +0000",     // not a leap year
        "31-Apr-2000 00:00:00 +0000",
        "01-Foo-2000 00:00:00 +0000",
        "01-Ja-2000 00:00:00 +0000",
        "01-Jan-00 00:00:00 +0000",
        "01-Jan-2000 24:00:00 +0000",
        "01-Jan-2000 00:60:00 +0000",
        "01-Jan-2000 00:00:61 +0000",
        "01-Jan-2000 0:00:00 +0000",
        "01-Jan-2000 00:00:00 0000",
        "01-Jan-2000 00:00:00 +00",
        "01-Jan-2000 00:00:00 +0060",
        "01-Jan-2000 00:00:00 +0000 ",
        "01-Jan-2000 00:00:00 GMT",
        "001-Jan-2000 00:00:00 +0000",
        "01-Jan-2000  00:00:00 +0000",
        "01 Jan 2000 00:00:00 +0000",
    };
    for (const auto& text : bad) {
        INFO(text);
        CHECK_FALSE(parse_imap_datetime(text).has_value());
    }
}

TEST_CASE("format_imap_datetime", "[util][date]") {
    struct Case {
        std::int64_t epoch;
        int offset;
        std::string text;
    };
    const std::vector<Case> cases = {
        {837596665, -25200, "17-Jul-1996 02:44:25 -0700"},
        {0, 0, "01-Jan-1970 00:00:00 +0000"},
        {-1, 0, "31-Dec-1969 23:59:59 +0000"},
        {946684800, 19800, "01-Jan-2000 05:30:00 +0530"},
        {946684800, -34200, "31-Dec-1999 14:30:00 -0930"},
        {1709188200, 0, "29-Feb-2024 06:30:00 +0000"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(format_imap_datetime(c.epoch, c.offset) == c.text);
    }
}

TEST_CASE("format then parse round trips", "[util][date]") {
    const std::vector<int> offsets = {0, 3600, -3600, 19800, -34200, 50400, -43200};
    for (std::int64_t epoch = -86400LL * 365 * 3; epoch < 86400LL * 365 * 80; epoch += 86400 * 37 + 3671) {
        for (int offset : offsets) {
            std::string text = format_imap_datetime(epoch, offset);
            auto parsed = parse_imap_datetime(text);
            INFO(text);
            REQUIRE(parsed.has_value());
            REQUIRE(parsed->epoch == epoch);
            REQUIRE(parsed->zone_offset_seconds == offset);
        }
    }
}

TEST_CASE("local_zone_offset follows TZ", "[util][date]") {
    const char* old = std::getenv("TZ");
    std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
    // POSIX TZ strings need no tzdata; the sign is inverted ("-3" is UTC+3).
    struct Case {
        const char* tz;
        int offset;
    };
    const std::vector<Case> cases = {{"UTC0", 0}, {"XXX-3", 10800}, {"YYY+5:30", -19800}};
    for (const auto& c : cases) {
        ::setenv("TZ", c.tz, 1);
        ::tzset();
        CHECK(local_zone_offset(946684800) == c.offset);
    }
    if (saved) {
        ::setenv("TZ", saved->c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();
}
