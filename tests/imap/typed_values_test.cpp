// FetchItems, SearchKey and StoreFlags (issue 13): each encodes to the exact
// bytes expected, and hostile input is refused as the value is made or sent
// as a quoted string or literal, never spliced into the command.
#include <catch2/catch.hpp>
#include <functional>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/fetch_items.hpp>
#include <imapkeep/imap/search_key.hpp>
#include <imapkeep/imap/store_flags.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::FetchItems;
using imap::SearchKey;
using imap::StoreFlags;
using imapkeep::testing::scripted;

namespace {

std::string encoded(const std::string& name, std::vector<wire::Arg> args, bool utf8 = false) {
    return wire::encode_command("t1", name, args, wire::LiteralMode::Synchronizing, utf8).flatten();
}

std::string fetch(const FetchItems& items) {
    return encoded("UID FETCH", {wire::Arg::raw("1:*"), items.arg()});
}
std::string search(const SearchKey& key) { return encoded("UID SEARCH", key.args()); }
std::string store(const StoreFlags& change) {
    auto args = change.args();
    args.insert(args.begin(), wire::Arg::raw("5"));
    return encoded("UID STORE", args);
}

UidSet uids(const char* set) { return UidSet::parse(set); }

}  // namespace

TEST_CASE("FetchItems: the attributes in the order asked, each once, in parentheses",
          "[imap][typed]") {
    struct Case {
        const char* name;
        std::function<FetchItems()> make;
        std::string wire;
    };
    const Case cases[] = {
        {"one item", [] { return FetchItems().flags(); }, "t1 UID FETCH 1:* (FLAGS)\r\n"},
        {"a new message in sync (byte-identical to the old string)",
         [] {
             return FetchItems()
                 .uid()
                 .flags()
                 .internaldate()
                 .rfc822_size()
                 .modseq()
                 .gmail_msgid()
                 .gmail_thrid()
                 .gmail_labels()
                 .header_fields_peek({"MESSAGE-ID"})
                 .body_peek();
         },
         "t1 UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ X-GM-MSGID X-GM-THRID "
         "X-GM-LABELS "
         "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)] BODY.PEEK[])\r\n"},
        {"several header fields",
         [] {
             return FetchItems().header_fields_peek({"From", "Subject"});
         },
         "t1 UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From Subject)])\r\n"},
        {"asked twice, sent once", [] { return FetchItems().uid().flags().uid(); },
         "t1 UID FETCH 1:* (UID FLAGS)\r\n"},
        {"one octet past a body's end", [] { return FetchItems().uid().body_peek_partial(6298, 1); },
         "t1 UID FETCH 1:* (UID BODY.PEEK[]<6298.1>)\r\n"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(fetch(c.make()) == c.wire);
    }
    CHECK(FetchItems().uid().body_peek().to_string() == "(UID BODY.PEEK[])");
    CHECK_THROWS_AS(FetchItems().arg(), std::invalid_argument);
    CHECK_THROWS_AS(FetchItems().body_peek_partial(0, 0), std::invalid_argument);  // nz-number
}

TEST_CASE("FetchItems: a header field name that is no atom is refused",
          "[imap][typed][injection]") {
    const std::string bad[] = {"",
                               "Message-ID)] BODY[",
                               "Subject\r\nK9 DELETE INBOX",
                               "a b",
                               "a\"b",
                               "caf\xc3\xa9",
                               "a{5}",
                               "a]"};
    for (const auto& name : bad) {
        INFO(name);
        CHECK_THROWS_AS(FetchItems().header_fields_peek({"From", name}), std::invalid_argument);
    }
    CHECK_THROWS_AS(FetchItems().header_fields_peek({}), std::invalid_argument);
}

TEST_CASE("SearchKey: keys, strings quoted or literal, groups in parentheses", "[imap][typed]") {
    struct Case {
        const char* name;
        std::function<SearchKey()> make;
        std::string wire;
    };
    const Case cases[] = {
        {"ALL", [] { return SearchKey::all(); }, "t1 UID SEARCH ALL\r\n"},
        {"a UID set (byte-identical to the old string)",
         [] { return SearchKey::uid(uids("1:100,200")); }, "t1 UID SEARCH UID 1:100,200\r\n"},
        {"system flags and keywords",
         [] {
             return SearchKey::all_of({SearchKey::flag("\\Seen"), SearchKey::flag("$Work")});
         },
         "t1 UID SEARCH SEEN KEYWORD $Work\r\n"},
        {"a header string is always quoted",
         [] { return SearchKey::header("Message-ID", "<a@b>"); },
         "t1 UID SEARCH HEADER Message-ID \"<a@b>\"\r\n"},
        {"a quote in a string is escaped, not a string's end",
         [] { return SearchKey::header("Subject", "x\" OR ALL \""); },
         "t1 UID SEARCH HEADER Subject \"x\\\" OR ALL \\\"\"\r\n"},
        {"parentheses in a string stay in it", [] { return SearchKey::header("Subject", "a) (b"); },
         "t1 UID SEARCH HEADER Subject \"a) (b\"\r\n"},
        {"8-bit text goes as a literal", [] { return SearchKey::header("Subject", "caf\xc3\xa9"); },
         "t1 UID SEARCH HEADER Subject {5}\r\ncaf\xc3\xa9\r\n"},
        {"NOT of one key", [] { return SearchKey::not_(SearchKey::flag("\\Deleted")); },
         "t1 UID SEARCH NOT DELETED\r\n"},
        {"NOT of several keys: a group",
         [] {
             return SearchKey::not_(
                 SearchKey::all_of({SearchKey::flag("\\Seen"), SearchKey::uid(uids("1:5"))}));
         },
         "t1 UID SEARCH NOT (SEEN UID 1:5)\r\n"},
        {"OR",
         [] {
             return SearchKey::or_(SearchKey::flag("\\Flagged"), SearchKey::header("From", "me"));
         },
         "t1 UID SEARCH OR FLAGGED HEADER From \"me\"\r\n"},
        {"a group holding a literal",
         [] {
             return SearchKey::or_(SearchKey::all_of({SearchKey::flag("\\Seen"),
                                                      SearchKey::header("Subject", "\xff")}),
                                   SearchKey::all());
         },
         "t1 UID SEARCH OR (SEEN HEADER Subject {1}\r\n\xff) ALL\r\n"},
        {"all_of of one key is that key",
         [] { return SearchKey::not_(SearchKey::all_of({SearchKey::all()})); },
         "t1 UID SEARCH NOT ALL\r\n"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(search(c.make()) == c.wire);
    }
    CHECK(SearchKey::header("Subject", "caf\xc3\xa9").has_8bit());
    CHECK_FALSE(SearchKey::header("Subject", "cafe").has_8bit());
    CHECK(SearchKey::not_(SearchKey::header("Subject", "\xff")).has_8bit());
    CHECK(SearchKey::or_(SearchKey::all(), SearchKey::header("a", "b c")).to_string() ==
          "OR ALL HEADER a \"b c\"");
}

TEST_CASE("SearchKey: what cannot be sent is refused as the key is made",
          "[imap][typed][injection]") {
    const std::function<SearchKey()> refused[] = {
        [] { return SearchKey::header("Subject", "a\r\nK9 DELETE INBOX"); },
        [] { return SearchKey::header("Subject", std::string("a\0b", 3)); },
        [] { return SearchKey::header("Sub ject", "a"); },
        [] { return SearchKey::header("Subject\r\nK9 DELETE INBOX", "a"); },
        [] { return SearchKey::flag("$a b"); },
        [] { return SearchKey::flag("$a)"); },
        [] { return SearchKey::flag("\\Recent2"); },
        [] { return SearchKey::uid(UidSet{}); },
        [] { return SearchKey::all_of({}); },
    };
    for (std::size_t i = 0; i < std::size(refused); ++i) {
        INFO("case " << i);
        CHECK_THROWS_AS(refused[i](), std::invalid_argument);
    }
}

TEST_CASE("StoreFlags: +FLAGS, -FLAGS, FLAGS, .SILENT and Gmail labels", "[imap][typed]") {
    struct Case {
        const char* name;
        std::function<StoreFlags()> make;
        std::string wire;
    };
    const Case cases[] = {
        {"restore's fix-up (byte-identical to the old string)",
         [] {
             return StoreFlags::add({"\\Seen", "$Label1"}).silent();
         },
         "t1 UID STORE 5 +FLAGS.SILENT (\\Seen $Label1)\r\n"},
        {"remove", [] { return StoreFlags::remove({"\\Flagged"}); },
         "t1 UID STORE 5 -FLAGS (\\Flagged)\r\n"},
        {"replace with nothing", [] { return StoreFlags::set({}).silent(); },
         "t1 UID STORE 5 FLAGS.SILENT ()\r\n"},
        {"flag-extension", [] { return StoreFlags::add({"\\Junk"}); },
         "t1 UID STORE 5 +FLAGS (\\Junk)\r\n"},
        {"Gmail labels: system bare, the others quoted (byte-identical to the old string)",
         [] {
             return StoreFlags::add_gmail_labels({"\\Inbox", "Work", "My \"big\" label", "a) (b"})
                 .silent();
         },
         "t1 UID STORE 5 +X-GM-LABELS.SILENT (\\Inbox \"Work\" \"My \\\"big\\\" label\" \"a) "
         "(b\")\r\n"},
        {"a Gmail label with 8-bit text goes as a literal",
         [] { return StoreFlags::remove_gmail_labels({"caf\xc3\xa9"}); },
         "t1 UID STORE 5 -X-GM-LABELS ({5}\r\ncaf\xc3\xa9)\r\n"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(store(c.make()) == c.wire);
    }
    CHECK(StoreFlags::add({"\\Seen"}).silent().to_string() == "+FLAGS.SILENT (\\Seen)");
}

TEST_CASE("StoreFlags: a flag that is no atom is refused before anything is sent",
          "[imap][typed][injection]") {
    const std::string bad[] = {"\\Seen\r\nK9 DELETE INBOX",
                               "$a b",
                               "$a)",
                               "(",
                               "$a\"b",
                               "caf\xc3\xa9",
                               "\\*",
                               "\\",
                               "",
                               "$a{5}",
                               "$a]",
                               "$a%"};
    for (const auto& flag : bad) {
        INFO(flag);
        CHECK_FALSE(imap::is_flag(flag));
        CHECK_THROWS_AS(StoreFlags::add({"\\Seen", flag}), std::invalid_argument);
        CHECK_THROWS_AS(StoreFlags::set({flag}), std::invalid_argument);
    }
    CHECK_THROWS_AS(StoreFlags::add_gmail_labels({"a\r\nK9 DELETE INBOX"}), std::invalid_argument);
    CHECK_THROWS_AS(StoreFlags::add_gmail_labels({std::string("a\0b", 3)}), std::invalid_argument);
}

TEST_CASE("the Client sends typed values as encoded, with CHARSET only when needed",
          "[imap][typed]") {
    for (bool utf8 : {false, true}) {
        INFO("UTF8=ACCEPT " << utf8);
        auto log = std::make_shared<std::string>();
        imap::Client client(
            scripted("* PREAUTH [CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT] hi\r\n",
                     {{"ENABLE", "* ENABLED UTF8=ACCEPT\r\n$T OK\r\n"},
                      {"UID SEARCH", "* SEARCH 3\r\n$T OK\r\n"},
                      {"UID FETCH", "* 1 FETCH (UID 3 FLAGS (\\Seen))\r\n$T OK\r\n"},
                      {"", "$T OK done\r\n"}},
                     log));
        client.read_greeting();
        if (utf8) client.enable({"UTF8=ACCEPT"});
        auto found = client.uid_search(SearchKey::all_of(
            {SearchKey::flag("\\Seen"), SearchKey::header("Subject", "caf\xc3\xa9")}));
        CHECK(found.uids.contains(Uid(3)));
        client.uid_search(SearchKey::uid(uids("1:4294967295")));
        int fetched = 0;
        client.uid_fetch(uids("3"), FetchItems().uid().flags(),
                         [&](imap::FetchData&) { ++fetched; });
        CHECK(fetched == 1);
        client.uid_store(uids("3"), StoreFlags::add({"$Done"}).silent());
        const std::string search_8bit =
            utf8 ? " UID SEARCH SEEN HEADER Subject \"caf\xc3\xa9\"\r\n"
                 : " UID SEARCH CHARSET UTF-8 SEEN HEADER Subject {5}\r\ncaf\xc3\xa9\r\n";
        CHECK(log->find(search_8bit) != std::string::npos);
        CHECK(log->find(" UID SEARCH UID 1:4294967295\r\n") != std::string::npos);
        CHECK(log->find(" UID FETCH 3 (UID FLAGS)\r\n") != std::string::npos);
        CHECK(log->find(" UID STORE 3 +FLAGS.SILENT ($Done)\r\n") != std::string::npos);
    }
}

TEST_CASE("a refused UID STORE is a CommandFailed", "[imap][typed]") {
    imap::Client client(scripted(
        "* PREAUTH hi\r\n", {{"UID STORE", "$T NO [CANNOT] read-only\r\n"}, {"", "$T OK\r\n"}}));
    client.read_greeting();
    try {
        client.uid_store(uids("1"), StoreFlags::add({"\\Seen"}));
        FAIL("no exception");
    } catch (const imap::CommandFailed& e) {
        CHECK(e.completion().text == "read-only");
        CHECK(e.code_name() == "CANNOT");
    }
    CHECK_NOTHROW(client.noop());
}
