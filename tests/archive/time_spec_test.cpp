#include <imapkeep/archive/time_spec.hpp>

#include <catch2/catch.hpp>

#include <ctime>
#include <string>

using imapkeep::archive::parse_point_in_time;

namespace {
std::int64_t local(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    return std::mktime(&tm);
}
}  // namespace

TEST_CASE("--at with an explicit zone is an exact instant", "[archive][time]") {
    struct Case {
        const char* text;
        std::int64_t epoch;
    };
    // 2024-05-01T10:00:00Z = 1714557600
    const Case cases[] = {
        {"2024-05-01T10:00:00Z", 1714557600},
        {"2024-05-01t10:00:00z", 1714557600},
        {"2024-05-01 10:00:00Z", 1714557600},
        {"2024-05-01T10:00Z", 1714557600},
        {"2024-05-01T10:00:00.750Z", 1714557600},
        {"2024-05-01T12:00:00+02:00", 1714557600},
        {"2024-05-01T12:00:00+0200", 1714557600},
        {"2024-05-01T12:00:00+02", 1714557600},
        {"2024-05-01T05:30:00-04:30", 1714557600},
        {"1970-01-01T00:00:00Z", 0},
        {"2024-02-29T00:00:00Z", 1709164800},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(parse_point_in_time(c.text) == c.epoch);
    }
}

TEST_CASE("--at without a zone is local time; a bare date is local midnight", "[archive][time]") {
    CHECK(parse_point_in_time("2024-05-01") == local(2024, 5, 1));
    CHECK(parse_point_in_time("2023-12-31") == local(2023, 12, 31));
    CHECK(parse_point_in_time("2024-05-01T10:20:30") == local(2024, 5, 1, 10, 20, 30));
    CHECK(parse_point_in_time("2024-05-01 10:20") == local(2024, 5, 1, 10, 20, 0));
}

TEST_CASE("--at rejects what is not a valid time", "[archive][time]") {
    for (const char* bad : {"", "yesterday", "2024", "2024-5-1", "2024-05", "2024-13-01", "2024-00-10", "2023-02-29",
                            "2024-04-31", "2024-05-01T24:00:00Z", "2024-05-01T10:60Z", "2024-05-01T10:00:61Z",
                            "2024-05-01T10", "2024-05-01T10:00:00+2400", "2024-05-01T10:00:00 Z", "2024-05-01Z",
                            "2024-05-01T10:00:00Zjunk", "2024-05-01T10:00:00.Z", " 2024-05-01", "2024-05-01 "}) {
        INFO(bad);
        CHECK_FALSE(parse_point_in_time(bad).has_value());
    }
}
