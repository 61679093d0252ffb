#include <imapkeep/archive/names.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep::archive;

TEST_CASE("mailbox paths in mbox and eml trees", "[archive][names]") {
    struct Case {
        const char* name;
        const char* delim;
        const char* path;
    };
    const Case cases[] = {
        {"INBOX", "/", "INBOX"},
        {"inbox", "/", "INBOX"},
        {"Archive/2024", "/", "Archive/2024"},
        {"Archive.2024", ".", "Archive/2024"},
        {"a/b", ".", "a%2Fb"},            // '/' inside a level
        {"..", "/", "%2E."},              // never "..": a leading '.' is escaped
        {"A/../B", "/", "A/%2E./B"},
        {".hidden", "/", "%2Ehidden"},
        {"A//B", "/", "A/%/B"},           // empty level
        {"100%", "/", "100%25"},
        {"tab\there", "/", "tab%09here"},
        {"Entwürfe", "/", "Entwürfe"},    // UTF-8 kept
        {"flat/name", "", "flat%2Fname"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(mailbox_relative_path(c.name, c.delim) == c.path);
    }
}

TEST_CASE("Maildir++ folders follow Dovecot's layout", "[archive][names]") {
    struct Case {
        const char* name;
        const char* delim;
        const char* folder;
    };
    const Case cases[] = {
        {"INBOX", "/", ""},
        {"Sent", "/", ".Sent"},
        {"A/B", "/", ".A.B"},
        {"A.B", "/", ".A%2EB"},
        {"Entwürfe", "/", ".Entw&APw-rfe"},
        {"50%", "/", ".50%25"},
        {"A//B", "/", ".A.%.B"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(maildir_folder(c.name, c.delim) == c.folder);
    }
    CHECK(maildir_folder("bad\xff", "/") == ".bad%FF");
}

TEST_CASE("message stems come from UIDVALIDITY and UID only", "[archive][names]") {
    CHECK(message_stem(1714557600, 7) == "1714557600.7");
    CHECK(message_stem(1, 4294967295u) == "1.4294967295");
}


TEST_CASE("restore target names use the prefix and the target's delimiter", "[archive][names]") {
    struct Case {
        const char* source;
        const char* sdelim;
        const char* prefix;
        const char* tdelim;
        const char* target;
    };
    const Case cases[] = {
        {"INBOX", "/", "", "/", "INBOX"},
        {"inbox", "/", "", ".", "INBOX"},
        {"INBOX", "/", "Restored/", "/", "Restored/INBOX"},
        {"A/B", "/", "", ".", "A.B"},
        {"A.B", ".", "Restored/", "/", "Restored/A/B"},
        {"A/B", "/", "Restored.2024", ".", "Restored.2024.A.B"},
        {"A/B", "/", "/Restored//", "/", "Restored/A/B"},
        {"A/B", "/", "R/", "", "R/A/B"},
    };
    for (const auto& c : cases) {
        INFO(c.source << " prefix " << c.prefix);
        CHECK(target_mailbox_name(c.source, c.sdelim, c.prefix, c.tdelim) == c.target);
    }
}

TEST_CASE("restore target names follow each side's personal namespace and keep a level one level",
          "[archive][names]") {
    struct Case {
        const char* source;
        const char* sdelim;
        const char* sprefix;
        const char* prefix;
        const char* tdelim;
        const char* tprefix;
        const char* target;
    };
    const Case cases[] = {
        // Into a Courier-like target ("." and "INBOX."): under its prefix.
        {"Sent", "/", "", "", ".", "INBOX.", "INBOX.Sent"},
        {"Lists/foo", "/", "", "", ".", "INBOX.", "INBOX.Lists.foo"},
        {"INBOX", "/", "", "", ".", "INBOX.", "INBOX"},
        {"INBOX/child", "/", "", "", ".", "INBOX.", "INBOX.INBOX.child"},
        {"Sent", "/", "", "Restored/", ".", "INBOX.", "INBOX.Restored.Sent"},
        {"INBOX", "/", "", "Restored/", ".", "INBOX.", "INBOX.Restored.INBOX"},
        // The prefix a user wrote for such a target before imapkeep knew it.
        {"Sent", "/", "", "INBOX.", ".", "INBOX.", "INBOX.Sent"},
        {"INBOX", "/", "", "INBOX.", ".", "INBOX.", "INBOX"},
        {"Sent", "/", "", "inbox/Old", ".", "INBOX.", "INBOX.Old.Sent"},
        // Out of one: the source's prefix goes.
        {"INBOX.Sent", ".", "INBOX.", "", "/", "", "Sent"},
        {"INBOX.Lists.foo", ".", "INBOX.", "", "/", "", "Lists/foo"},
        {"INBOX", ".", "INBOX.", "", "/", "", "INBOX"},
        {"INBOX.INBOX.child", ".", "INBOX.", "", "/", "", "INBOX/child"},
        {"INBOX.Sent", ".", "INBOX.", "R/", "/", "", "R/Sent"},
        {"INBOX.Sent", ".", "INBOX.", "", ".", "INBOX.", "INBOX.Sent"},
        {"INBOX.Sent", ".", "INBOX.", "", ".", "", "Sent"},
        // A level holding the target's delimiter stays one level (fullwidth).
        {"foo.bar", "/", "", "", ".", "", "foo\xEF\xBC\x8E" "bar"},
        {"a/foo.bar", "/", "", "", ".", "INBOX.", "INBOX.a.foo\xEF\xBC\x8E" "bar"},
        {"foo/bar", "/", "", "", ".", "", "foo.bar"},
        {"x/y", ".", "", "", "/", "", "x\xEF\xBC\x8F" "y"},
        {"a\\b", "/", "", "", "\\", "", "a\xEF\xBC\xBC" "b"},
        {"Entw\xC3\xBC" "rfe & co", "/", "", "", ".", "INBOX.", "INBOX.Entw\xC3\xBC" "rfe & co"},
        // The user's prefix is split, not kept as one level.
        {"A", "/", "", "R.2024", ".", "INBOX.", "INBOX.R.2024.A"},
    };
    for (const auto& c : cases) {
        INFO(c.source << " (" << c.sdelim << " " << c.sprefix << ") prefix " << c.prefix << " to (" << c.tdelim
                      << " " << c.tprefix << ")");
        NameMapping m;
        m.source_delimiter = c.sdelim;
        m.source_prefix = c.sprefix;
        m.prefix = c.prefix;
        m.target_delimiter = c.tdelim;
        m.target_prefix = c.tprefix;
        CHECK(target_mailbox_name(c.source, m) == c.target);
    }
}

TEST_CASE("a backed-up account's personal prefix is told by its names", "[archive][names]") {
    using List = std::vector<SourceMailbox>;
    CHECK(source_personal_prefix(List{{"INBOX", "."}, {"INBOX.Sent", "."}, {"INBOX.a.b", "."}}) == "INBOX.");
    CHECK(source_personal_prefix(List{{"INBOX.Sent", "."}}) == "INBOX.");
    CHECK(source_personal_prefix(List{{"inbox", "."}, {"Inbox.Sent", "."}}) == "INBOX.");
    // A folder beside INBOX: no prefix (Cyrus altnamespace, Dovecot's default).
    CHECK(source_personal_prefix(List{{"INBOX", "."}, {"INBOX.a", "."}, {"Sent", "."}}).empty());
    // "/" servers have INBOX's children, not a prefix.
    CHECK(source_personal_prefix(List{{"INBOX", "/"}, {"INBOX/a", "/"}}).empty());
    CHECK(source_personal_prefix(List{{"INBOX", "."}}).empty());
    CHECK(source_personal_prefix(List{}).empty());
    CHECK(source_personal_prefix(List{{"INBOX.", "."}}).empty());
}

TEST_CASE("restore target names for a target that refuses a character in a level", "[archive][names]") {
    NameMapping m;
    m.source_delimiter = "/";
    m.target_delimiter = "/";
    m.stand_in_characters = ".";
    CHECK(target_mailbox_name("Projects/v1.2", m) == "Projects/v1\xEF\xBC\x8E" "2");
    m.prefix = "R.1/";  // the user's own prefix is theirs: kept as written
    CHECK(target_mailbox_name("a.b", m) == "R.1/a\xEF\xBC\x8E" "b");
    NameMapping dotted;
    dotted.source_delimiter = ".";
    dotted.target_delimiter = ".";
    dotted.stand_in_characters = "/";
    CHECK(target_mailbox_name("a/b.c", dotted) == "a\xEF\xBC\x8F" "b.c");
}
