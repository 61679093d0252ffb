#include <imapkeep/archive/csv.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep::archive;

TEST_CASE("CSV fields are quoted only when RFC 4180 requires it", "[archive][csv]") {
    struct Case {
        const char* in;
        const char* out;
    };
    const Case cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"two\r\nlines", "\"two\r\nlines\""},
        {"lf\nonly", "\"lf\nonly\""},
        {" padded", "\" padded\""},
        {"padded ", "\"padded \""},
        {"Jörg <j@x.de>", "Jörg <j@x.de>"},
        {"semi;colon", "semi;colon"},
    };
    for (const auto& c : cases) {
        INFO(c.in);
        CHECK(csv_field(c.in) == c.out);
    }
}

TEST_CASE("CSV rows join fields with commas and end in CRLF", "[archive][csv]") {
    CHECK(csv_row({"a", "b,c", ""}) == "a,\"b,c\",\r\n");
    CHECK(csv_row({}) == "\r\n");
    CHECK(csv_row({"x"}) == "x\r\n");
}
