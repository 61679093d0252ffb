#include "wire/replay.hpp"

#include <imapkeep/wire/encoder.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep::wire;
using namespace imapkeep::wire::test;
using namespace std::string_literals;

namespace {

constexpr const char* kError = "EncodeError";

struct EncodeCase {
    const char* name;
    std::vector<Arg> args;
    std::string expected;  // flatten() of "t1 CMD args...", or kError
    LiteralMode mode = LiteralMode::Synchronizing;
    bool utf8 = false;
    std::vector<bool> waits = {};  // wait_for_continuation of each literal
};

std::string encode_flat(const EncodeCase& c) {
    try {
        return encode_command("t1", "CMD", c.args, c.mode, c.utf8).flatten();
    } catch (const EncodeError&) {
        return kError;
    }
}

std::vector<EncodeCase> encode_cases() {
    using M = LiteralMode;
    const std::string k4096(4096, 'x');
    const std::string k4097(4097, 'x');
    return {
        {"no args", {}, "t1 CMD\r\n"},
        // AString: atom if it can be, else quoted, else literal
        {"astring atom", {Arg::astring("INBOX")}, "t1 CMD INBOX\r\n"},
        {"astring with resp-special", {Arg::astring("a]b")}, "t1 CMD a]b\r\n"},
        {"astring digits", {Arg::astring("123")}, "t1 CMD 123\r\n"},
        {"astring with SP", {Arg::astring("My Box")}, "t1 CMD \"My Box\"\r\n"},
        {"astring empty", {Arg::astring("")}, "t1 CMD \"\"\r\n"},
        {"astring NIL is quoted", {Arg::astring("NIL"), Arg::astring("nil")}, "t1 CMD \"NIL\" \"nil\"\r\n"},
        {"astring wildcards", {Arg::astring("%"), Arg::astring("a*")}, "t1 CMD \"%\" \"a*\"\r\n"},
        {"astring quoted-specials", {Arg::astring("a\"b\\c")}, "t1 CMD \"a\\\"b\\\\c\"\r\n"},
        {"astring braces", {Arg::astring("{5}")}, "t1 CMD \"{5}\"\r\n"},
        {"astring parens", {Arg::astring("(x)")}, "t1 CMD \"(x)\"\r\n"},
        {"astring tab is quotable", {Arg::astring("a\tb")}, "t1 CMD \"a\tb\"\r\n"},
        {"astring 8-bit becomes a literal", {Arg::astring("Entw\xc3\xbcrfe")}, "t1 CMD {9}\r\nEntw\xc3\xbcrfe\r\n",
         M::Synchronizing, false, {true}},
        {"astring 8-bit quoted under UTF8=ACCEPT", {Arg::astring("Entw\xc3\xbcrfe")},
         "t1 CMD \"Entw\xc3\xbcrfe\"\r\n", M::Synchronizing, true},
        // String: never an atom
        {"string", {Arg::string("INBOX")}, "t1 CMD \"INBOX\"\r\n"},
        {"string password", {Arg::astring("fred"), Arg::string("p a\"ss")}, "t1 CMD fred \"p a\\\"ss\"\r\n"},
        {"string 8-bit", {Arg::string("\xff")}, "t1 CMD {1}\r\n\xff\r\n", M::Synchronizing, false, {true}},
        // Atom and Raw are sent as they are
        {"atom flag", {Arg::atom("\\Seen")}, "t1 CMD \\Seen\r\n"},
        {"atom fetch att", {Arg::atom("BODY.PEEK[TEXT]<0.10>")}, "t1 CMD BODY.PEEK[TEXT]<0.10>\r\n"},
        {"raw", {Arg::raw("1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM)])")},
         "t1 CMD 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM)])\r\n"},
        {"atom with SP", {Arg::atom("a b")}, kError},
        {"atom with paren", {Arg::atom("a(b")}, kError},
        {"atom with brace", {Arg::atom("{5}")}, kError},
        {"atom with wildcard", {Arg::atom("\\*")}, kError},
        {"atom with quote", {Arg::atom("a\"")}, kError},
        {"atom 8-bit", {Arg::atom("\xc3\xbc")}, kError},
        {"atom empty", {Arg::atom("")}, kError},
        {"raw empty", {Arg::raw("")}, kError},
        // Literals and their markers (RFC 7888)
        {"append synchronizing", {Arg::astring("INBOX"), Arg::raw("(\\Seen)"), Arg::literal("hello")},
         "t1 CMD INBOX (\\Seen) {5}\r\nhello\r\n", M::Synchronizing, false, {true}},
        {"literal+", {Arg::literal("hello")}, "t1 CMD {5+}\r\nhello\r\n", M::LiteralPlus, false, {false}},
        {"literal- small", {Arg::literal("hello")}, "t1 CMD {5+}\r\nhello\r\n", M::LiteralMinus, false, {false}},
        {"literal- at 4096", {Arg::literal(k4096)}, "t1 CMD {4096+}\r\n" + k4096 + "\r\n", M::LiteralMinus, false,
         {false}},
        {"literal- over 4096", {Arg::literal(k4097)}, "t1 CMD {4097}\r\n" + k4097 + "\r\n", M::LiteralMinus, false,
         {true}},
        {"literal+ large", {Arg::literal(k4097)}, "t1 CMD {4097+}\r\n" + k4097 + "\r\n", M::LiteralPlus, false,
         {false}},
        {"literal8", {Arg::literal8("a\0b"s)}, "t1 CMD ~{3}\r\na\0b\r\n"s, M::Synchronizing, false, {true}},
        {"literal8 plus", {Arg::literal8("ab")}, "t1 CMD ~{2+}\r\nab\r\n", M::LiteralPlus, false, {false}},
        {"empty literal", {Arg::literal("")}, "t1 CMD {0}\r\n\r\n", M::Synchronizing, false, {true}},
        {"two literals", {Arg::literal("a"), Arg::astring("x y"), Arg::literal("bc")},
         "t1 CMD {1}\r\na \"x y\" {2}\r\nbc\r\n", M::Synchronizing, false, {true, true}},
        // A literal may carry anything
        {"literal with CRLF and NUL", {Arg::literal("a\r\n\0"s)}, "t1 CMD {4}\r\na\r\n\0\r\n"s, M::Synchronizing,
         false, {true}},
        // Lists: each item by its own kind, a literal item ends a chunk inside the parentheses
        {"empty list", {Arg::list({})}, "t1 CMD ()\r\n"},
        {"flag list", {Arg::atom("+FLAGS"), Arg::list({Arg::atom("\\Seen"), Arg::atom("$Work")})},
         "t1 CMD +FLAGS (\\Seen $Work)\r\n"},
        {"nested list with a quoted string",
         {Arg::list({Arg::atom("NOT"), Arg::list({Arg::atom("HEADER"), Arg::atom("Subject"), Arg::string("a \"b\"")})})},
         "t1 CMD (NOT (HEADER Subject \"a \\\"b\\\"\"))\r\n"},
        {"list with a literal item", {Arg::list({Arg::atom("HEADER"), Arg::string("caf\xc3\xa9")}), Arg::atom("ALL")},
         "t1 CMD (HEADER {5}\r\ncaf\xc3\xa9) ALL\r\n", M::Synchronizing, false, {true}},
        {"list item with CR LF", {Arg::list({Arg::atom("a"), Arg::raw("b\r\nt2 DELETE INBOX")})}, kError},
        {"list item bad atom", {Arg::list({Arg::atom("a)")})}, kError},
    };
}

}  // namespace

TEST_CASE("encode_command: atom, quoted or literal", "[encoder]") {
    for (const auto& c : encode_cases()) {
        INFO(c.name);
        CHECK(encode_flat(c) == c.expected);
        if (c.expected == kError) continue;
        const EncodedCommand cmd = encode_command("t1", "CMD", c.args, c.mode, c.utf8);
        REQUIRE(cmd.chunks.size() == cmd.literals.size() + 1);
        REQUIRE(cmd.literals.size() == c.waits.size());
        for (std::size_t i = 0; i < cmd.literals.size(); ++i) {
            CHECK(cmd.literals[i].wait_for_continuation == c.waits[i]);
            // Each chunk ends with its literal's marker and CRLF.
            const auto marker = find_literal_marker(std::string_view(cmd.chunks[i]).substr(0, cmd.chunks[i].size() - 2));
            REQUIRE(marker);
            CHECK(cmd.chunks[i].substr(cmd.chunks[i].size() - 2) == "\r\n");
            CHECK(marker->size == cmd.literals[i].data.size());
        }
        CHECK(cmd.chunks.back().size() >= 2);
        CHECK(cmd.chunks.back().substr(cmd.chunks.back().size() - 2) == "\r\n");
    }
}

TEST_CASE("encode_command: NUL, CR and LF never reach the wire outside a literal", "[encoder]") {
    const std::string injections[] = {"INBOX\r\nt2 DELETE INBOX", "a\rb", "a\nb", "a\0b"s, "\r\n"};
    using Factory = Arg (*)(std::string);
    const std::pair<const char*, Factory> refused[] = {
        {"atom", &Arg::atom}, {"raw", &Arg::raw}, {"astring", &Arg::astring}, {"string", &Arg::string}};
    for (const auto& bad : injections) {
        for (const auto& [kind, make] : refused) {
            for (bool utf8 : {false, true}) {
                for (auto mode : {LiteralMode::Synchronizing, LiteralMode::LiteralPlus}) {
                    INFO(kind << " " << escape(bad) << " utf8=" << utf8);
                    CHECK_THROWS_AS(encode_command("t1", "CMD", {make(bad)}, mode, utf8), EncodeError);
                }
            }
        }
        INFO(escape(bad));
        const auto literal = encode_command("t1", "CMD", {Arg::literal(bad)});
        CHECK(literal.literals.at(0).data == bad);
        const auto literal8 = encode_command("t1", "CMD", {Arg::literal8(bad)});
        CHECK(literal8.literals.at(0).data == bad);
        CHECK_THROWS_AS(encode_command("t1", "CMD " + bad, {}), EncodeError);
        CHECK_THROWS_AS(encode_command(bad, "CMD", {}), EncodeError);
    }
}

TEST_CASE("encode_command: tags and command names", "[encoder]") {
    const std::pair<const char*, bool> tags[] = {{"A0001", true}, {"a]1", true}, {"", false},   {"a+1", false},
                                                 {"a 1", false},  {"a{1", false}, {"*", false}, {"a\"", false}};
    for (const auto& [tag, ok] : tags) {
        INFO(tag);
        if (ok)
            CHECK(encode_command(tag, "NOOP", {}).flatten() == std::string(tag) + " NOOP\r\n");
        else
            CHECK_THROWS_AS(encode_command(tag, "NOOP", {}), EncodeError);
    }
    const std::pair<const char*, bool> names[] = {{"UID FETCH", true}, {"X-GM-EXT", true}, {"", false},
                                                  {"UID  FETCH", false}, {" NOOP", false}, {"NOOP ", false},
                                                  {"FE(TCH", false}, {"A%", false}};
    for (const auto& [name, ok] : names) {
        INFO(name);
        if (ok)
            CHECK(encode_command("a1", name, {}).flatten() == "a1 " + std::string(name) + "\r\n");
        else
            CHECK_THROWS_AS(encode_command("a1", name, {}), EncodeError);
    }
}

TEST_CASE("quote, is_atom, is_quotable", "[encoder]") {
    CHECK(quote("") == "\"\"");
    CHECK(quote("a b") == "\"a b\"");
    CHECK(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");

    const std::pair<std::string, bool> atoms[] = {
        {"INBOX", true}, {"a[b", true}, {"BODY.PEEK", true}, {"", false},  {"a]", false}, {"a b", false},
        {"(", false},    {")", false},  {"{", false},        {"%", false}, {"*", false},  {"\"", false},
        {"\\", false},   {"\x7f", false}, {"\x01", false},   {"\xc3\xbc", false}};
    for (const auto& [text, expected] : atoms) {
        INFO(escape(text));
        CHECK(is_atom(text) == expected);
    }

    const std::tuple<std::string, bool, bool> quotables[] = {
        {"", true, true},          {"a b \"\\", true, true}, {"a\tb", true, true},   {"\xc3\xbc", false, true},
        {"a\rb", false, false},    {"a\nb", false, false},   {"a\0b"s, false, false}};
    for (const auto& [text, ascii, utf8] : quotables) {
        INFO(escape(text));
        CHECK(is_quotable(text, false) == ascii);
        CHECK(is_quotable(text, true) == utf8);
    }
}

TEST_CASE("encoder and parser round trip: an astring comes back as sent", "[encoder][parser]") {
    const std::string values[] = {"",        "INBOX",     "a b",        "a\"b\\c",  "NIL",      "123",
                                  "x]y",     "a[b",       "%*",         "{5}",      "~{3}",     "a\tb",
                                  "Entw\xc3\xbcrfe", "\"", "\\",        "(x)",      std::string(300, 'q')};
    for (const auto& value : values) {
        for (auto kind : {Arg::Kind::AString, Arg::Kind::String, Arg::Kind::Literal}) {
            for (bool utf8 : {false, true}) {
                INFO(escape(value) << " kind=" << static_cast<int>(kind) << " utf8=" << utf8);
                const auto cmd = encode_command("t", "XVALUE", {Arg{kind, value}}, LiteralMode::LiteralPlus, utf8);
                // Served back as an untagged response: "* XVALUE <arg>".
                const std::string wire = "*" + cmd.flatten().substr(1);
                const Replay r = replay({wire});
                REQUIRE(r.frames.size() == 1);
                const auto result = parse_response(r.frames[0]);
                REQUIRE(std::holds_alternative<Response>(result));
                const auto& args = std::get<Response>(result).args;
                REQUIRE(args.size() == 1);
                CHECK(args[0].as_text() == value);
            }
        }
    }
}

TEST_CASE("encode_command: a mailbox goes back as the exact bytes it came as", "[encoder][parser]") {
    struct Case {
        std::string bytes;
        bool utf8;
        std::string expected;  // flattened with LITERAL+
    } cases[] = {
        {"INBOX", false, "t MB INBOX\r\n"},
        {"a b", false, "t MB \"a b\"\r\n"},
        {"a\x01" "b", false, "t MB \"a\x01" "b\"\r\n"},                  // CTL: quotable
        {"K\xc3\xa4se", false, "t MB {5+}\r\nK\xc3\xa4se\r\n"},         // 8-bit: literal
        {"K\xc3\xa4se", true, "t MB \"K\xc3\xa4se\"\r\n"},              // UTF8=ACCEPT: quoted
        {"a\r\nb", false, "t MB {4+}\r\na\r\nb\r\n"},                   // CR LF: literal
        {"a\r\nb", true, "t MB {4+}\r\na\r\nb\r\n"},
        {"&AGE-", false, "t MB &AGE-\r\n"},                              // never re-encoded
        {"nil", false, "t MB \"nil\"\r\n"},
        {"", false, "t MB \"\"\r\n"},
        {"q\"\\", false, "t MB \"q\\\"\\\\\"\r\n"},
        {"a\0b"s, false, kError},
    };
    for (const auto& c : cases) {
        INFO(escape(c.bytes) << " utf8=" << c.utf8);
        std::string got;
        try {
            got = encode_command("t", "MB", {Arg::mailbox(c.bytes)}, LiteralMode::LiteralPlus, c.utf8).flatten();
        } catch (const EncodeError&) {
            got = kError;
        }
        CHECK(escape(got) == escape(c.expected));
        if (c.expected == kError) continue;
        // The server reads back the same bytes.
        const Replay r = replay({"*" + got.substr(1)});
        REQUIRE(r.frames.size() == 1);
        const auto result = parse_response(r.frames[0]);
        REQUIRE(std::holds_alternative<Response>(result));
        const auto& args = std::get<Response>(result).args;
        REQUIRE(args.size() == 1);
        REQUIRE(args[0].as_text());
        CHECK(escape(*args[0].as_text()) == escape(c.bytes));
    }
}

namespace {

// Bytes made on demand, so the test sees whether the encoder copied them.
class CountingSource : public imapkeep::wire::LiteralSource {
public:
    explicit CountingSource(std::uint64_t size) : m_size(size) {}
    std::uint64_t size() const override { return m_size; }
    void write_to(const Sink& sink) const override {
        ++reads;
        for (std::uint64_t i = 0; i < m_size; ++i) sink(std::string(1, static_cast<char>('a' + i % 26)));
    }
    std::string describe() const override { return "counting"; }
    mutable int reads = 0;

private:
    std::uint64_t m_size;
};

}  // namespace

TEST_CASE("encode_command: a literal from a source announces its size and holds no bytes", "[encoder]") {
    struct Case {
        LiteralMode mode;
        std::uint64_t size;
        std::string marker;
        bool wait;
    } cases[] = {
        {LiteralMode::Synchronizing, 5000, "{5000}\r\n", true}, {LiteralMode::LiteralPlus, 5000, "{5000+}\r\n", false},
        {LiteralMode::LiteralMinus, 5000, "{5000}\r\n", true},  {LiteralMode::LiteralMinus, 4096, "{4096+}\r\n", false},
        {LiteralMode::Synchronizing, 0, "{0}\r\n", true},
    };
    for (const auto& c : cases) {
        INFO(c.marker);
        auto source = std::make_shared<CountingSource>(c.size);
        const EncodedCommand cmd = encode_command("t1", "APPEND", {Arg::mailbox("Box"), Arg::literal(source)}, c.mode);
        REQUIRE(cmd.literals.size() == 1);
        CHECK(cmd.chunks[0] == "t1 APPEND Box " + c.marker);
        CHECK(cmd.literals[0].wait_for_continuation == c.wait);
        CHECK(cmd.literals[0].data.empty());
        CHECK(cmd.literals[0].size() == c.size);
        CHECK(source->reads == 0);
        std::string bytes;
        source->write_to([&](std::string_view piece) { bytes += piece; });
        CHECK(cmd.flatten() == cmd.chunks[0] + bytes + "\r\n");
    }
}

TEST_CASE("encode_command: a literal source only in a literal argument", "[encoder]") {
    Arg arg = Arg::astring("x");
    arg.source = std::make_shared<CountingSource>(3);
    CHECK_THROWS_AS(encode_command("t1", "CMD", {arg}), EncodeError);
}
