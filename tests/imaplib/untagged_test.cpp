// CPython's line patterns (tagre, Untagged_response, Untagged_status,
// Continuation, Response_code), with the results python3's imaplib gives for
// the same lines, and the seed's quoting rule.
#include <catch2/catch.hpp>

#include "imaplib/untagged.hpp"

using imaplib::detail::LineKind;
using Kind = LineKind::Kind;

TEST_CASE("classify_line matches CPython's regexes", "[imaplib][untagged]") {
    struct Row {
        const char* line;
        Kind kind;
        const char* tag;
        const char* type;
        std::optional<std::string> data;
    };
    const Row rows[] = {
        {"ABCD12 OK [READ-WRITE] done", Kind::Tagged, "ABCD12", "OK", "[READ-WRITE] done"},
        {"ABCD12 OK ", Kind::Tagged, "ABCD12", "OK", ""},
        {"ABCD12 OK", Kind::Unexpected, "", "", std::nullopt},
        {"ABCD12 ok x", Kind::Unexpected, "", "", std::nullopt},
        {"ABCDE1 OK x", Kind::Unexpected, "", "", std::nullopt},
        {"ABCD OK x", Kind::Unexpected, "", "", std::nullopt},
        {"* OK", Kind::Untagged, "", "OK", std::nullopt},
        {"* Ok x", Kind::Untagged, "", "O", std::nullopt},
        {"* 3 EXISTS", Kind::Untagged, "", "EXISTS", "3"},
        {"* 3 EXISTS ", Kind::Untagged, "", "EXISTS", "3"},
        {"* 1 FETCH (FLAGS ())", Kind::Untagged, "", "FETCH", "1 (FLAGS ())"},
        {"* 3 exists", Kind::Unexpected, "", "", std::nullopt},
        {"*", Kind::Unexpected, "", "", std::nullopt},
        {"+", Kind::Continuation, "", "", std::nullopt},
        {"+ abc", Kind::Continuation, "", "", "abc"},
        {"+abc", Kind::Continuation, "", "", std::nullopt},
        {"garbage", Kind::Unexpected, "", "", std::nullopt},
        {"* LIST () \"/\" INBOX", Kind::Untagged, "", "LIST", "() \"/\" INBOX"},
        {"* -X- y", Kind::Untagged, "", "-X-", "y"},
    };
    for (const auto& r : rows) {
        INFO(r.line);
        auto k = imaplib::detail::classify_line(r.line, "ABCD");
        CHECK(k.kind == r.kind);
        if (k.kind == Kind::Unexpected) continue;
        CHECK(k.tag == r.tag);
        CHECK(k.type == r.type);
        CHECK(k.data == r.data);
    }
}

TEST_CASE("match_response_code matches CPython's Response_code", "[imaplib][untagged]") {
    struct Row {
        const char* dat;
        bool matches;
        const char* type;
        std::optional<std::string> data;
    };
    const Row rows[] = {
        {"[READ-WRITE] ok", true, "READ-WRITE", std::nullopt},
        {"[PERMANENTFLAGS (\\Seen \\*)] Flags permitted.", true, "PERMANENTFLAGS", "(\\Seen \\*)"},
        {"[A] x ] y", true, "A", std::nullopt},
        {"[A-B c]d]", true, "A-B", "c]d"},  // issue 21815: up to the last "]"
        {"[ABC ]", true, "ABC", ""},
        {"[A x", false, "", std::nullopt},
        {"[a] x", false, "", std::nullopt},
        {" [A] x", false, "", std::nullopt},
        {"[]", false, "", std::nullopt},
        {"[ABC", false, "", std::nullopt},
        {"", false, "", std::nullopt},
    };
    for (const auto& r : rows) {
        INFO(r.dat);
        auto m = imaplib::detail::match_response_code(r.dat);
        REQUIRE(m.has_value() == r.matches);
        if (!m) continue;
        CHECK(m->type == r.type);
        CHECK(m->data == r.data);
    }
}

TEST_CASE("the seed's quoting rule", "[imaplib][untagged]") {
    struct Row {
        const char* arg;
        bool quote;
    };
    const Row rows[] = {
        {"INBOX", false},          {"User quota", true},       {"", true},
        {"(\\Deleted)", false},    {"\"pre quoted\"", false},  {"\\Seen", false},
        {"a\\b", true},            {"1:3,6:9", false},         {"3:*", false},
        {"%", false},              {"BODY[TEXT]", false},      {"a(b", true},
        {"{5}", true},             {"say \"hi\"", true},       {"tab\there", true},
        {"\xc3\xa9t\xc3\xa9", true}, {"(unbalanced", true},    {"\"", true},
        {"/comment", false},       {"value.priv", false},
    };
    for (const auto& r : rows) {
        INFO(r.arg);
        CHECK(imaplib::detail::needs_quoting(r.arg) == r.quote);
    }
    CHECK(imaplib::detail::has_nul_cr_lf(std::string("a\0b", 3)));
    CHECK(imaplib::detail::has_nul_cr_lf("a\rb"));
    CHECK(imaplib::detail::has_nul_cr_lf("a\nb"));
    CHECK_FALSE(imaplib::detail::has_nul_cr_lf("a\tb"));
}
