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
