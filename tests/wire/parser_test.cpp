#include "wire/replay.hpp"

#include <imapkeep/wire/parser.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep::wire;
using namespace imapkeep::wire::test;
using namespace std::string_literals;

namespace {

// "{n}\r\n" + data: a literal as a server sends it.
std::string lit(std::string_view data) { return "{" + std::to_string(data.size()) + "}\r\n" + std::string(data); }

struct ParserCase {
    const char* name;
    std::string input;  // one response, CRLF included
    std::string expected;
    std::size_t max_depth = Limits{}.max_depth;
};

const char* const kEnvelopeFetch =
    "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 "
    "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" "
    "\"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" "
    "\"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL "
    "\"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" "
    "(\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";

std::vector<ParserCase> parser_cases() {
    return {
        // RFC 3501 §8 (server lines of the sample session)
        {"greeting", "* OK IMAP4rev1 Service Ready\r\n", R"~(* OK "IMAP4rev1 Service Ready")~"},
        {"capability", "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
         "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED"},
        {"tagged ok", "a001 OK CAPABILITY completed\r\n", R"~(a001 OK "CAPABILITY completed")~"},
        {"exists", "* 18 EXISTS\r\n", "* 18 EXISTS"},
        {"flags", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
         R"~(* FLAGS (\Answered \Flagged \Deleted \Seen \Draft))~"},
        {"recent", "* 2 RECENT\r\n", "* 2 RECENT"},
        {"unseen code", "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n",
         R"~(* OK [UNSEEN|17|#17] "Message 17 is the first unseen message")~"},
        {"uidvalidity code", "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
         R"~(* OK [UIDVALIDITY|3857529045|#3857529045] "UIDs valid")~"},
        {"read-write code", "a002 OK [READ-WRITE] SELECT completed\r\n", R"~(a002 OK [READ-WRITE||] "SELECT completed")~"},
        {"envelope and body structure", kEnvelopeFetch,
         R"~(* 12 FETCH (FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE #4286 )~"
         R"~(ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" )~"
         R"~((("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) )~"
         R"~((("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) )~"
         R"~(((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL )~"
         R"~("<B27397-0100000@cac.washington.edu>") BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" #3028 #92)))~"},
        {"fetch header literal", "* 12 FETCH (BODY[HEADER] " + lit("Subject: hi\r\n\r\n") + ")\r\n",
         R"~(* 12 FETCH (BODY[HEADER] {0:"Subject: hi\r\n\r\n"}))~"},
        {"fetch flags", "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n", R"~(* 12 FETCH (FLAGS (\Seen \Deleted)))~"},
        {"bye", "* BYE IMAP4rev1 server terminating connection\r\n",
         R"~(* BYE "IMAP4rev1 server terminating connection")~"},
        {"preauth", "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as x\r\n",
         R"~(* PREAUTH [CAPABILITY|IMAP4rev1|IMAP4rev1] "Logged in as x")~"},
        // Continuations (RFC 3501 §7.5)
        {"continuation text", "+ Ready for additional command text\r\n", R"~(+ "Ready for additional command text")~"},
        {"continuation base64", "+ dGVzdA==\r\n", R"~(+ "dGVzdA==")~"},
        {"continuation empty", "+ \r\n", R"~(+ "")~"},
        {"continuation bare plus", "+\r\n", R"~(+ "")~"},
        {"continuation with code", "+ [ALERT] go on\r\n", R"~(+ [ALERT||] "go on")~"},
        // Fetch attributes stay whole
        {"section, partial and binary atoms",
         "* 2 FETCH (UID 9 BODY[HEADER.FIELDS (FROM TO)]<0> " + lit("ab\r\nc") +
             " BINARY[1] \"x\" BINARY.SIZE[1] 3 MODSEQ (12121231000))\r\n",
         R"~(* 2 FETCH (UID #9 `BODY[HEADER.FIELDS (FROM TO)]<0>` {0:"ab\r\nc"} BINARY[1] "x" BINARY.SIZE[1] #3 MODSEQ (#12121231000)))~"},
        {"quoted header names inside a section", "* 2 FETCH (BODY[HEADER.FIELDS (\"X)\" Y)] NIL)\r\n",
         R"~(* 2 FETCH (`BODY[HEADER.FIELDS ("X)" Y)]` NIL))~"},
        {"two literals in one fetch", "* 3 FETCH (BODY[1] " + lit("one") + " BODY[2] " + lit("two") + ")\r\n",
         R"~(* 3 FETCH (BODY[1] {0:"one"} BODY[2] {1:"two"}))~"},
        {"empty literal", "* 3 FETCH (BODY[] " + lit("") + ")\r\n", R"~(* 3 FETCH (BODY[] {0:""}))~"},
        {"literal8", "* 4 FETCH (BINARY[] ~{3}\r\na\0b)\r\n"s, "* 4 FETCH (BINARY[] {0:\"a\0b\"})"s},
        {"literal holding a marker-like line", "* 3 FETCH (BODY[] " + lit("x {5}\r\n") + ")\r\n",
         R"~(* 3 FETCH (BODY[] {0:"x {5}\r\n"}))~"},
        // Mailbox data
        {"list atom mailbox", "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", R"~(* LIST (\Noselect) "/" ~/Mail/foo)~"},
        {"list literal mailbox", "* LIST (\\HasNoChildren) \".\" " + lit("foo \"bar\" z") + "\r\n",
         R"~(* LIST (\HasNoChildren) "." {0:"foo \"bar\" z"})~"},
        {"list nil delimiter", "* LIST (\\Noselect) NIL \"\"\r\n", R"~(* LIST (\Noselect) NIL "")~"},
        {"list escaped quoted", "* LSUB () \"/\" \"a\\\"b\\\\c\"\r\n", R"~(* LSUB () "/" "a\"b\\c")~"},
        {"list 8-bit atom", "* LIST () \"/\" Entw\xc3\xbcrfe\r\n", "* LIST () \"/\" Entw\xc3\xbcrfe"},
        {"list extended", "* LIST (\\Sent \\HasNoChildren) \"/\" Sent (\"OLDNAME\" (\"Gesendet\"))\r\n",
         R"~(* LIST (\Sent \HasNoChildren) "/" Sent ("OLDNAME" ("Gesendet")))~"},
        {"status", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
         "* STATUS blurdybloop (MESSAGES #231 UIDNEXT #44292)"},
        {"search", "* SEARCH 2 84 882\r\n", "* SEARCH #2 #84 #882"},
        {"search empty", "* SEARCH\r\n", "* SEARCH"},
        {"search modseq", "* SEARCH 2 5 (MODSEQ 917162500)\r\n", "* SEARCH #2 #5 (MODSEQ #917162500)"},
        {"number limits", "* SEARCH 18446744073709551615 18446744073709551616\r\n",
         "* SEARCH #18446744073709551615 18446744073709551616"},
        {"esearch", "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n", R"~(* ESEARCH (TAG "A285") UID MIN #7 MAX #3800)~"},
        {"esearch all", "* ESEARCH (TAG \"A284\") MIN 4 ALL 4,10:11\r\n", R"~(* ESEARCH (TAG "A284") MIN #4 ALL 4,10:11)~"},
        {"vanished earlier", "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n",
         "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540"},
        {"vanished", "* VANISHED 405,407,410,425\r\n", "* VANISHED 405,407,410,425"},
        {"enabled", "* ENABLED CONDSTORE QRESYNC\r\n", "* ENABLED CONDSTORE QRESYNC"},
        {"namespace", "* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) NIL\r\n", R"~(* NAMESPACE (("" "/")) (("~" "/")) NIL)~"},
        {"quota", "* QUOTA \"\" (STORAGE 10 512)\r\n", R"~(* QUOTA "" (STORAGE #10 #512))~"},
        {"quotaroot", "* QUOTAROOT INBOX \"\"\r\n", R"~(* QUOTAROOT INBOX "")~"},
        {"acl", "* ACL INBOX Fred rwipsldexta\r\n", "* ACL INBOX Fred rwipsldexta"},
        {"myrights", "* MYRIGHTS INBOX rwiptsldaex\r\n", "* MYRIGHTS INBOX rwiptsldaex"},
        {"id", "* ID (\"name\" \"Dovecot\" \"x\" NIL nil \"NIL\")\r\n", R"~(* ID ("name" "Dovecot" "x" NIL NIL "NIL"))~"},
        {"id nil", "* ID NIL\r\n", "* ID NIL"},
        {"sort", "* SORT 2 3 6\r\n", "* SORT #2 #3 #6"},
        {"thread", "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n", "* THREAD (#2) (#3 #6 (#4 #23) (#44 #7 #96))"},
        {"expunge", "* 44 EXPUNGE\r\n", "* 44 EXPUNGE"},
        {"brace inside an atom", "* XSTUFF a{b}c {5} y\r\n", "* XSTUFF a{b}c {5} y"},
        // Response codes
        {"permanentflags with \\*", "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
         R"~(* OK [PERMANENTFLAGS|(\Deleted \Seen \*)|(\Deleted \Seen \*)] "Limited")~"},
        {"appenduid", "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n",
         R"~(A003 OK [APPENDUID|38505 3955|#38505 #3955] "APPEND completed")~"},
        {"copyuid", "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
         R"~(A004 OK [COPYUID|38505 304,319:320 3956:3958|#38505 304,319:320 3956:3958] "Done")~"},
        {"highestmodseq", "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
         R"~(* OK [HIGHESTMODSEQ|715194045007|#715194045007] "Highest")~"},
        {"read-only", "A142 OK [READ-ONLY] EXAMINE completed\r\n", R"~(A142 OK [READ-ONLY||] "EXAMINE completed")~"},
        {"capability in greeting",
         "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
         "* OK [CAPABILITY|IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN|"
         "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] \"Dovecot ready.\""},
        {"trycreate", "a1 NO [TRYCREATE] Mailbox doesn't exist\r\n", R"~(a1 NO [TRYCREATE||] "Mailbox doesn't exist")~"},
        {"alert", "* NO [ALERT] System shutdown in 10 minutes\r\n", R"~(* NO [ALERT||] "System shutdown in 10 minutes")~"},
        {"badcharset", "a1 NO [BADCHARSET (UTF-8 \"x y\")] no\r\n", R"~(a1 NO [BADCHARSET|(UTF-8 "x y")|(UTF-8 "x y")] "no")~"},
        {"code with quoted ']'", "a1 NO [X-DATA \"a]b\"] c\r\n", R"~(a1 NO [X-DATA|"a]b"|"a]b"] "c")~"},
        {"lower-case status and code", "a1 ok [uidvalidity 5] done\r\n", R"~(a1 OK [UIDVALIDITY|5|#5] "done")~"},
        {"bad", "a1 BAD Unknown command\r\n", R"~(a1 BAD "Unknown command")~"},
        // Quirks
        {"cpython 21815: ']' in permanentflags",
         "* OK [PERMANENTFLAGS (\\Answered $Phishing [Gmail]/Spam \\*)] Flags permitted.\r\n",
         R"~(* OK [PERMANENTFLAGS|(\Answered $Phishing [Gmail]/Spam \*)|(\Answered $Phishing [Gmail]/Spam \*)] "Flags permitted.")~"},
        {"exchange invalid code kept as text",
         "RUBY0001 OK [Error=\"Microsoft.Exchange: Cross Server\" AuthResult=0 Service=Imap4] AUTHENTICATE completed.\r\n",
         R"~(RUBY0001 OK "[Error=\"Microsoft.Exchange: Cross Server\" AuthResult=0 Service=Imap4] AUTHENTICATE completed.")~"},
        {"unclosed code", "* OK [ALERT hello\r\n", R"~(* OK "[ALERT hello")~"},
        {"unbalanced paren in code", "* OK [BADCHARSET (x] y\r\n", R"~(* OK [BADCHARSET|(x|] "y")~"},
        {"code without text", "a1 OK [READ-WRITE]\r\n", R"~(a1 OK [READ-WRITE||] "")~"},
        {"status without text", "a1 OK\r\n", R"~(a1 OK "")~"},
        {"noop", "* NOOP\r\n", "* NOOP"},
        {"noop with data", "* NOOP froopy snood\r\n", "* NOOP froopy snood"},
        {"noop with number", "* 99 NOOP\r\n", "* 99 NOOP"},
        {"noop with number and data", "* 86 NOOP froopy snood\r\n", "* 86 NOOP froopy snood"},
        {"unknown type with unparsable data is kept", "* XFOO \"open\r\n", "* XFOO"},
        {"unknown type", "* XFOO bar (baz \"q\")\r\n", R"~(* XFOO bar (baz "q"))~"},
        {"gmail flags with '[' and SP",
         "* FLAGS (\\Answered $Junk OIB-Seen-INBOX OIB-Seen-[Google Mail]/Alle Nachrichten)\r\n",
         R"~(* FLAGS (\Answered $Junk OIB-Seen-INBOX OIB-Seen-[Google Mail]/Alle Nachrichten))~"},
        {"greenmail \\* in flags", "* FLAGS (\\Answered \\Deleted \\*)\r\n", R"~(* FLAGS (\Answered \Deleted \*))~"},
        {"outlook extra SP in envelope",
         "* 24 FETCH (UID 60 ENVELOPE (\"d\" \"s\" ((\"A\" NIL \"a\" \"b\"))  NIL NIL ((NIL NIL \"x\" \"y\")) NIL NIL NIL \"<i>\"))\r\n",
         R"~(* 24 FETCH (UID #60 ENVELOPE ("d" "s" (("A" NIL "a" "b")) NIL NIL ((NIL NIL "x" "y")) NIL NIL NIL "<i>")))~"},
        {"extra SP after star", "*  5 EXISTS\r\n", "* 5 EXISTS"},
        // Depth
        {"nesting at the limit", "* X (((a)))\r\n", "* X (((a)))", 3},
        {"nesting over the limit", "* X ((((a))))\r\n", "ERROR lists nested deeper than max_depth", 3},
        {"nesting over the limit in a known type", "* 1 FETCH (A ((((a)))))\r\n",
         "ERROR lists nested deeper than max_depth", 4},
        // Errors
        {"unterminated list", "* 1 FETCH (FLAGS (\\Seen)\r\n", "ERROR unterminated list"},
        {"stray ')'", "* SEARCH 1 )\r\n", "ERROR unexpected ')'"},
        {"unterminated quoted", "* LIST () \"/\" \"abc\r\n", "ERROR unterminated quoted string"},
        {"control character", "* SEARCH 1 \x01\r\n", "ERROR unexpected character"},
        {"'+' in tag", "a+1 OK x\r\n", "ERROR invalid tag character"},
        {"list as tag", "(a OK x\r\n", "ERROR invalid tag character"},
        {"tag alone", "a1\r\n", "ERROR expected SP after tag"},
        {"empty line", "\r\n", "ERROR empty tag"},
        {"star without SP", "*OK\r\n", "ERROR expected SP after '*'"},
        {"star alone", "* \r\n", "ERROR expected response type"},
        {"number without type", "* 5\r\n", "ERROR expected SP after number"},
        {"number too large", "* 99999999999999999999 EXISTS\r\n", "ERROR number out of range"},
        {"tagged data response", "a1 FETCH x\r\n", "ERROR tagged response is not OK/NO/BAD"},
        {"literal after a quoted string ends it", "* LIST () \"/\" \"a\" " + lit("b") + " x\r\n",
         R"~(* LIST () "/" "a" {0:"b"} x)~"},
    };
}

}  // namespace

TEST_CASE("parse_response: table, replayed at every split", "[parser]") {
    for (const auto& c : parser_cases()) {
        Limits limits;
        limits.max_depth = c.max_depth;
        for (const auto& split : all_splits(c.input)) {
            INFO(c.name << ", " << describe_split(split));
            const Replay r = replay(split, limits);
            REQUIRE(r.frames.size() == 1);
            CHECK(dump(parse_response(r.frames[0], limits)) == c.expected);
        }
    }
}

TEST_CASE("parse_response: raw_rest is the first line after the prefix, verbatim", "[parser]") {
    const std::pair<std::string, std::string> rows[] = {
        {"* 12 FETCH (FLAGS (\\Seen))\r\n", "12 FETCH (FLAGS (\\Seen))"},
        {"a1 OK  done \r\n", "OK  done "},
        {"+ go ahead\r\n", "go ahead"},
        {"+\r\n", ""},
        {"* NOOP froopy snood\r\n", "NOOP froopy snood"},
        {"*  5 EXISTS\r\n", " 5 EXISTS"},
        {"* LIST () \"/\" {3}\r\nabc\r\n", "LIST () \"/\" {3}"},
    };
    for (const auto& [input, raw_rest] : rows) {
        for (const auto& split : all_splits(input)) {
            INFO(input << ", " << describe_split(split));
            const Replay r = replay(split);
            REQUIRE(r.frames.size() == 1);
            const auto result = parse_response(r.frames[0]);
            REQUIRE(std::holds_alternative<Response>(result));
            CHECK(std::get<Response>(result).raw_rest == raw_rest);
        }
    }
}

TEST_CASE("parse_response: a literal that went to a sink is marked streamed", "[parser]") {
    const std::string input = "* 7 FETCH (UID 42 BODY[] " + lit("Subject: x\r\n\r\nbody\r\n") + " FLAGS (\\Seen))\r\n";
    const SinkPolicy body_only = [](std::string_view text, std::uint64_t) {
        return text.find("BODY[] {") != std::string_view::npos;
    };
    for (const auto& split : all_splits(input)) {
        INFO(describe_split(split));
        const Replay r = replay(split, {}, body_only);
        REQUIRE(r.frames.size() == 1);
        REQUIRE(r.sinks.size() == 1);
        CHECK(r.sinks.front().data == "Subject: x\r\n\r\nbody\r\n");
        const auto result = parse_response(r.frames[0]);
        CHECK(dump(result) == R"~(* 7 FETCH (UID #42 BODY[] {0:streamed} FLAGS (\Seen)))~");
        const Response& response = std::get<Response>(result);
        const Node& body = response.args[0].items[3];
        CHECK(body.literal);
        CHECK(body.streamed);
        CHECK(body.text.empty());
        CHECK(r.frames[0].literals[static_cast<std::size_t>(body.literal_index)].sink == &r.sinks.front());
    }
}

TEST_CASE("parse_response: error offsets point into the flattened frame", "[parser]") {
    const std::pair<std::string, std::size_t> rows[] = {
        {"* SEARCH 1 )\r\n", 11},
        {"a+1 OK\r\n", 1},
        {"* LIST " + lit("ab") + " (\x01)\r\n", 12 + 2 + 2},  // unknown types would keep it
    };
    for (const auto& [input, offset] : rows) {
        INFO(input);
        const Replay r = replay({input});
        REQUIRE(r.frames.size() == 1);
        const auto result = parse_response(r.frames[0]);
        REQUIRE(std::holds_alternative<ParseError>(result));
        CHECK(std::get<ParseError>(result).offset == offset);
    }
}

TEST_CASE("Node and Response accessors", "[parser]") {
    const Replay r = replay({"* 3 FETCH (FLAGS (\\Seen) UID 9 X NIL Y \"s\")\r\n"});
    REQUIRE(r.frames.size() == 1);
    const Response response = std::get<Response>(parse_response(r.frames[0]));
    CHECK_FALSE(response.is_status());
    REQUIRE(response.number == 3u);
    const auto& items = response.args.at(0).items;
    REQUIRE(items.size() == 8);
    CHECK(items[0].is_atom("FLAGS"));
    CHECK(items[0].is_atom("flags"));
    CHECK_FALSE(items[0].is_atom("FLAG"));
    CHECK(items[1].items.at(0).is_atom("\\SEEN"));
    CHECK(items[3].kind == Node::Kind::Number);
    CHECK(items[3].as_text() == "9");
    CHECK_FALSE(items[3].is_atom("9"));
    CHECK(items[5].kind == Node::Kind::Nil);
    CHECK_FALSE(items[5].as_text());
    CHECK_FALSE(items[1].as_text());
    CHECK(items[7].is_string());
    CHECK(items[7].as_text() == "s");

    const struct {
        const char* line;
        bool status;
    } statuses[] = {{"* OK x\r\n", true},  {"a NO x\r\n", true},        {"a BAD x\r\n", true},
                    {"* BYE x\r\n", true}, {"* PREAUTH x\r\n", true},   {"+ OK\r\n", false},
                    {"* 1 EXISTS\r\n", false}, {"* CAPABILITY X\r\n", false}};
    for (const auto& s : statuses) {
        INFO(s.line);
        const Replay one = replay({s.line});
        REQUIRE(one.frames.size() == 1);
        CHECK(std::get<Response>(parse_response(one.frames[0])).is_status() == s.status);
    }
}

TEST_CASE("parse_response: a known type whose data fails keeps its prefix as `partial`", "[parser]") {
    const struct {
        std::string input;
        bool partial;
        std::string type;
    } rows[] = {
        {"* 3 FETCH (UID 7 FLAGS (\\Seen)\r\n", true, "FETCH"},
        {"* STATUS INBOX (UIDNEXT 5\r\n", true, "STATUS"},
        {"* LIST (\\Noselect \"bad) \"/\" foo\r\n", true, "LIST"},
        {"* SEARCH 1 )\r\n", true, "SEARCH"},
        {"* 1 FETCH (A ((((a)))))\r\n", false, ""},  // too deep: never skipped
        {"a+1 OK\r\n", false, ""},
        {"* 99999999999999999999 EXISTS\r\n", false, ""},
    };
    for (const auto& row : rows) {
        INFO(row.input);
        Limits limits;
        limits.max_depth = 4;
        const Replay r = replay({row.input}, limits);
        REQUIRE(r.frames.size() == 1);
        const auto result = parse_response(r.frames[0], limits);
        REQUIRE(std::holds_alternative<ParseError>(result));
        const auto& error = std::get<ParseError>(result);
        CHECK(error.partial.has_value() == row.partial);
        if (!error.partial) continue;
        CHECK(error.partial->type == row.type);
        CHECK(error.partial->args.empty());
        CHECK(error.partial->raw_rest == row.input.substr(2, row.input.size() - 4));
    }
}
