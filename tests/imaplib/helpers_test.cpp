// The four imaplib helpers against the table CPython produced
// (tests/imaplib/gen_helpers_table.py -> tests/fixtures/imaplib_helpers.json).
#include <imapkeep/imaplib.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace {

using nlohmann::json;

const json& table() {
    static const json t = [] {
        std::ifstream in(IMAPKEEP_SOURCE_DIR "/tests/fixtures/imaplib_helpers.json");
        REQUIRE(in);
        return json::parse(in);
    }();
    return t;
}

// JSON strings hold bytes as latin-1 code points.
std::string bytes(const json& j) {
    std::string out;
    std::string utf8 = j.get<std::string>();
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        auto c = static_cast<unsigned char>(utf8[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3f));
        }
    }
    return out;
}

struct Zone {
    explicit Zone(const std::string& tz) {
        const char* old = std::getenv("TZ");
        if (old) m_old = old;
        m_had = old != nullptr;
        setenv("TZ", tz.c_str(), 1);
        tzset();
    }
    ~Zone() {
        if (m_had) setenv("TZ", m_old.c_str(), 1);
        else unsetenv("TZ");
        tzset();
    }
    std::string m_old;
    bool m_had = false;
};

// Runs `f` and checks it against a row: {"value": v} or {"raises": kind}.
template <class F, class Check>
void expect_row(const json& row, F f, Check check) {
    if (row.contains("raises")) {
        if (row["raises"] == "ValueError")
            CHECK_THROWS_AS(f(), std::invalid_argument);
        else
            CHECK_THROWS_AS(f(), std::out_of_range);
    } else {
        check(f(), row["value"]);
    }
}

std::tm tuple_tm(const json& t) {
    std::tm tm{};
    tm.tm_year = t[0].get<int>() - 1900;
    tm.tm_mon = t[1].get<int>() - 1;
    tm.tm_mday = t[2].get<int>();
    tm.tm_hour = t[3].get<int>();
    tm.tm_min = t[4].get<int>();
    tm.tm_sec = t[5].get<int>();
    tm.tm_wday = (t[6].get<int>() + 1) % 7;
    tm.tm_yday = t[7].get<int>() - 1;
    tm.tm_isdst = t[8].get<int>();
    return tm;  // tm_zone stays null: a plain 9-tuple, not a struct_time
}

}  // namespace

TEST_CASE("Int2AP matches CPython", "[imaplib][helpers]") {
    for (const auto& row : table()["int2ap"]) {
        INFO(row.dump());
        CHECK(imaplib::Int2AP(row["in"].get<long long>()) == row["out"].get<std::string>());
    }
}

TEST_CASE("ParseFlags matches CPython", "[imaplib][helpers]") {
    for (const auto& row : table()["parseflags"]) {
        INFO(row.dump());
        std::vector<std::string> want;
        for (const auto& f : row["out"]) want.push_back(bytes(f));
        CHECK(imaplib::ParseFlags(bytes(row["in"])) == want);
    }
}

TEST_CASE("Time2Internaldate matches CPython in every zone", "[imaplib][helpers]") {
    for (const auto& zone : table()["zones"]) {
        Zone tz(zone["tz"].get<std::string>());
        auto same = [](const std::string& got, const json& want) { CHECK(got == want.get<std::string>()); };
        for (const auto& row : zone["epoch"]) {
            INFO(zone["tz"] << " epoch " << row.dump());
            auto e = row["in"].get<long long>();
            expect_row(row, [&] { return imaplib::Time2Internaldate(e); }, same);
            // A time_point is the same instant (CPython: an aware datetime
            // converted with astimezone()), where its nanoseconds reach.
            if (e > -9000000000LL && e < 9000000000LL) {
                std::chrono::system_clock::time_point tp{std::chrono::seconds(e)};
                expect_row(row, [&] { return imaplib::Time2Internaldate(tp); }, same);
            }
        }
        for (const auto& row : zone["float"]) {
            INFO(zone["tz"] << " float " << row.dump());
            auto f = row["in"].get<double>();
            expect_row(row, [&] { return imaplib::Time2Internaldate(f); }, same);
        }
        for (const auto& row : zone["tuple"]) {
            INFO(zone["tz"] << " tuple " << row.dump());
            std::tm tm = tuple_tm(row["in"]);
            expect_row(row, [&] { return imaplib::Time2Internaldate(tm); }, same);
        }
        for (const auto& row : zone["struct"]) {
            INFO(zone["tz"] << " struct_time " << row.dump());
            std::time_t t = row["in"].get<long long>();
            std::tm tm{};
            REQUIRE(localtime_r(&t, &tm));
            expect_row(row, [&] { return imaplib::Time2Internaldate(tm); }, same);
        }
        for (const auto& row : zone["string"]) {
            INFO(zone["tz"] << " string " << row.dump());
            std::string s = bytes(row["in"]);
            expect_row(row, [&] { return imaplib::Time2Internaldate(std::string_view(s)); }, same);
        }
    }
}

TEST_CASE("Internaldate2tuple matches CPython in every zone", "[imaplib][helpers]") {
    for (const auto& zone : table()["zones"]) {
        Zone tz(zone["tz"].get<std::string>());
        for (const auto& row : zone["internaldate"]) {
            INFO(zone["tz"] << " " << row.dump());
            std::string in = bytes(row["in"]);
            expect_row(row, [&] { return imaplib::Internaldate2tuple(in); },
                       [](const std::optional<std::tm>& got, const json& want) {
                           if (want.is_null()) {
                               CHECK_FALSE(got.has_value());
                               return;
                           }
                           REQUIRE(got.has_value());
                           // Python's struct_time fields in C's conventions.
                           CHECK(got->tm_year + 1900 == want[0].get<int>());
                           CHECK(got->tm_mon + 1 == want[1].get<int>());
                           CHECK(got->tm_mday == want[2].get<int>());
                           CHECK(got->tm_hour == want[3].get<int>());
                           CHECK(got->tm_min == want[4].get<int>());
                           CHECK(got->tm_sec == want[5].get<int>());
                           CHECK((got->tm_wday + 6) % 7 == want[6].get<int>());
                           CHECK(got->tm_yday + 1 == want[7].get<int>());
                           CHECK(got->tm_isdst == want[8].get<int>());
                           CHECK(got->tm_gmtoff == want[9].get<long>());
                       });
        }
    }
}

TEST_CASE("Time2Internaldate overloads accept the seed's input kinds", "[imaplib][helpers]") {
    Zone tz("CET-1CEST,M3.5.0,M10.5.0/3");
    // test_imaplib's expected value: 18-May-2033 05:33:20 +0200.
    const std::string want = "\"18-May-2033 05:33:20 +0200\"";
    CHECK(imaplib::Time2Internaldate(2000000000) == want);
    CHECK(imaplib::Time2Internaldate(2000000000LL) == want);
    CHECK(imaplib::Time2Internaldate(2000000000.0) == want);
    CHECK(imaplib::Time2Internaldate(std::chrono::system_clock::from_time_t(2000000000)) == want);
    CHECK(imaplib::Time2Internaldate(want.c_str()) == want);
    CHECK(imaplib::Time2Internaldate(want) == want);
}
