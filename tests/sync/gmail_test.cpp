// Gmail (X-GM-EXT-1) against the model server's Gmail mode: All Mail is the one
// copy, each label a folder of hard links to it (same inode), labels and
// their history in the catalog, label changes by CONDSTORE.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/verify.hpp>
#include <map>
#include <set>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

const std::vector<std::string> kFiveLabels = {"\\Inbox", "\\Important", "\\Starred", "Work",
                                              "Travel/2024"};

std::uint64_t inode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.st_ino);
}

struct GmailFixture : ModelFixture {
    explicit GmailFixture(const GmailNames& names = {}) { server.make_gmail(names); }

    const std::string& all() { return server.gmail_names().all; }

    // The one live row of All Mail.
    store::MessageRecord copy() {
        auto r = record(all());
        REQUIRE(r);
        auto rows = store.catalog->messages(r->id);
        REQUIRE(rows.size() == 1);
        return rows.front();
    }

    std::vector<store::LabelLink> links(const store::MessageRecord& m) {
        return store.catalog->label_links(m.id);
    }

    // The Maildir folder of a server mailbox.
    std::string folder_of(const std::string& mailbox) {
        return store.messages->folder_for(mailbox, "/");
    }

    // Each link is the copy itself, in the folder of its label's mailbox.
    void check_links(const store::MessageRecord& m, std::vector<std::string> labels) {
        auto found = links(m);
        std::sort(labels.begin(), labels.end());
        REQUIRE(found.size() == labels.size());
        const auto copy_inode = inode(store.messages->absolute(m.file));
        REQUIRE(copy_inode != 0);
        for (std::size_t i = 0; i < labels.size(); ++i) {
            INFO(found[i].file);
            CHECK(found[i].label == labels[i]);
            CHECK(inode(store.messages->absolute(found[i].file)) == copy_inode);
            auto folder = folder_of(server.gmail_label_mailbox(labels[i]));
            auto expected = "mail/acct" + std::string(folder.empty() ? "" : "/" + folder) + "/cur/";
            CHECK(found[i].file.rfind(expected, 0) == 0);
        }
    }

    bool folder_exists(const std::string& mailbox) {
        return std::filesystem::exists(store.root / "mail" / "acct" / folder_of(mailbox) / "cur");
    }
};

}  // namespace

TEST_CASE("gmail: a message in 5 labels is downloaded once and linked 5 times", "[sync][gmail]") {
    GmailFixture f;
    auto msgid = f.server.gmail_deliver(message("five"), kFiveLabels);
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.body_fetches() == 1);
    CHECK(f.server.body_fetches(f.all()) == 1);
    // No label mailbox is synced as a mailbox of its own.
    CHECK_FALSE(f.record("INBOX"));
    CHECK_FALSE(f.record("Work"));
    auto m = f.copy();
    auto gmail = f.store.catalog->gmail_message(m.id);
    REQUIRE(gmail);
    CHECK(gmail->msgid == msgid);
    CHECK(gmail->thrid == f.server.gmail_message(msgid).gm_thrid);
    auto sorted = kFiveLabels;
    std::sort(sorted.begin(), sorted.end());
    CHECK(gmail->labels == sorted);
    CHECK(f.store.catalog->label_history(m.id).size() == 1);
    f.check_links(m, kFiveLabels);
    CHECK(f.stored(f.all()) == f.on_server(f.all()));

    // A second run downloads nothing and changes nothing.
    auto again = f.backup();
    CHECK(report_ok(again));
    CHECK(f.server.body_fetches() == 1);
    CHECK(f.store.catalog->label_history(m.id).size() == 1);
    f.check_links(f.copy(), kFiveLabels);
}

TEST_CASE("gmail: a removed label removes its link, the copy stays, history is kept",
          "[sync][gmail]") {
    GmailFixture f;
    auto msgid = f.server.gmail_deliver(message("five"), kFiveLabels);
    REQUIRE(report_ok(f.backup()));
    const auto before = f.links(f.copy());
    f.server.gmail_set_labels(msgid, {"\\Inbox", "Work"});
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.body_fetches() == 1);
    auto m = f.copy();
    f.check_links(m, {"\\Inbox", "Work"});
    for (const auto& link : before)
        if (link.label != "\\Inbox" && link.label != "Work")
            CHECK_FALSE(std::filesystem::exists(f.store.messages->absolute(link.file)));
    CHECK(std::filesystem::exists(f.store.messages->absolute(m.file)));
    // The user label's folder is gone with its last link.
    CHECK_FALSE(f.folder_exists("Travel/2024"));
    auto history = f.store.catalog->label_history(m.id);
    REQUIRE(history.size() == 2);
    CHECK(history[0].labels.size() == 5);
    CHECK(history[1].labels == std::vector<std::string>{"Work", "\\Inbox"});
}

TEST_CASE("gmail: a renamed label renames its folder", "[sync][gmail]") {
    GmailFixture f;
    f.server.gmail_deliver(message("five"), kFiveLabels);
    REQUIRE(report_ok(f.backup()));
    f.server.gmail_rename_label("Work", "Projects");
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.body_fetches() == 1);
    auto renamed = kFiveLabels;
    std::replace(renamed.begin(), renamed.end(), std::string("Work"), std::string("Projects"));
    f.check_links(f.copy(), renamed);
    CHECK(f.folder_exists("Projects"));
    CHECK_FALSE(f.folder_exists("Work"));
    auto history = f.store.catalog->label_history(f.copy().id);
    REQUIRE(history.size() == 2);
    CHECK(std::count(history[0].labels.begin(), history[0].labels.end(), "Work") == 1);
    CHECK(std::count(history[1].labels.begin(), history[1].labels.end(), "Projects") == 1);
}

TEST_CASE("gmail: a label renamed without a modseq change is found all the same", "[sync][gmail]") {
    GmailFixture f;
    f.server.gmail_deliver(message("five"), kFiveLabels);
    REQUIRE(report_ok(f.backup()));
    f.server.gmail_rename_label("Work", "Projects", /*moves_modseq=*/false);
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.body_fetches() == 1);
    auto renamed = kFiveLabels;
    std::replace(renamed.begin(), renamed.end(), std::string("Work"), std::string("Projects"));
    f.check_links(f.copy(), renamed);
    CHECK_FALSE(f.folder_exists("Work"));
    // Found once: the next run is a no-change run again.
    f.server.clear_log();
    REQUIRE(report_ok(f.backup()));
    CHECK(f.server.count_commands("EXAMINE") == 0);
}

TEST_CASE("gmail: All Mail is found by \\All under a localized name", "[sync][gmail]") {
    GmailFixture f(GmailNames::german());
    f.server.gmail_deliver(message("de"), {"\\Inbox", "\\Sent", "\\Important", "\\Starred"});
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.all() == "[Google Mail]/Alle Nachrichten");
    CHECK(f.record("[Google Mail]/Alle Nachrichten"));
    CHECK(f.server.body_fetches() == 1);
    // \Sent, \Important and \Starred go to the localized special mailboxes.
    f.check_links(f.copy(), {"\\Inbox", "\\Sent", "\\Important", "\\Starred"});
    CHECK(f.folder_exists("[Google Mail]/Gesendet"));
    CHECK(f.folder_exists("[Google Mail]/Wichtig"));
    CHECK(f.folder_exists("[Google Mail]/Markiert"));
}

TEST_CASE("gmail: Trash and Spam are left out unless the config asks", "[sync][gmail]") {
    for (bool include : {false, true}) {
        DYNAMIC_SECTION("gmail_trash_and_junk = " << include) {
            GmailFixture f;
            f.account.gmail_trash_and_junk = include;
            f.server.gmail_deliver(message("kept"), {"\\Inbox"});
            f.server.append(f.server.gmail_names().trash, message("binned"));
            f.server.append(f.server.gmail_names().spam, message("spam"));
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(f.server.body_fetches(f.server.gmail_names().trash) == (include ? 1u : 0u));
            CHECK(f.server.body_fetches(f.server.gmail_names().spam) == (include ? 1u : 0u));
            CHECK(f.record(f.server.gmail_names().trash).has_value() == include);
            CHECK(f.server.body_fetches() == (include ? 3u : 1u));
        }
    }
}

TEST_CASE("gmail: links follow the copy's flags and leave with it", "[sync][gmail]") {
    GmailFixture f;
    f.server.gmail_deliver(message("flagged"), {"\\Inbox", "Work"});
    REQUIRE(report_ok(f.backup()));
    const auto uid = f.server.mailbox(f.all()).messages.begin()->first;
    f.server.set_flags(f.all(), uid, {"\\Seen"});
    REQUIRE(report_ok(f.backup()));
    auto m = f.copy();
    CHECK(m.file.ends_with(":2,S"));
    f.check_links(m, {"\\Inbox", "Work"});
    for (const auto& link : f.links(m)) CHECK(link.file.ends_with(":2,S"));

    const auto links = f.links(m);
    f.server.expunge(f.all(), uid);
    REQUIRE(report_ok(f.backup()));
    auto rows = f.store.catalog->all_messages(f.record(f.all())->id);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].expunged_at);
    CHECK(std::filesystem::exists(f.store.messages->absolute(rows[0].file)));  // in the attic
    CHECK(f.links(rows[0]).empty());
    for (const auto& link : links)
        CHECK_FALSE(std::filesystem::exists(f.store.messages->absolute(link.file)));
    CHECK(f.store.catalog->label_history(rows[0].id).size() == 1);
    CHECK_FALSE(f.folder_exists("Work"));
}

TEST_CASE("gmail: a run stopped after any step resumes without loss or duplicate links",
          "[sync][gmail][invariant3]") {
    auto prepare = [](GmailFixture& g) {
        for (int i = 0; i < 3; ++i)
            g.server.gmail_deliver(message("m" + std::to_string(i)),
                                   {"\\Inbox", "Work", "L" + std::to_string(i)});
        REQUIRE(report_ok(g.backup()));
        auto first = g.server.mailbox(g.all()).messages.begin()->second.gm_msgid;
        g.server.gmail_set_labels(first, {"Work", "Other"});
        g.server.gmail_rename_label("Work", "Projects");
        g.server.set_flags(g.all(), g.server.mailbox(g.all()).messages.rbegin()->first, {"\\Seen"});
        g.server.gmail_deliver(message("new"), {"\\Inbox", "Projects"});
    };
    std::uint64_t steps = 0;
    for (std::uint64_t k = 1;; ++k) {
        GmailFixture g;
        prepare(g);
        bool stopped = false;
        try {
            g.backup(k);
        } catch (const sync::StopRequested&) {
            stopped = true;
        }
        if (!stopped) break;
        steps = k;
    }
    REQUIRE(steps > 0);
    GmailFixture whole;
    prepare(whole);
    REQUIRE(report_ok(whole.backup()));
    const auto expected = snapshot(whole.store, "acct");
    for (std::uint64_t k = 1; k <= steps; ++k) {
        DYNAMIC_SECTION("stopped after step " << k) {
            GmailFixture f;
            prepare(f);
            CHECK_THROWS_AS(f.backup(k), sync::StopRequested);
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(snapshot(f.store, "acct") == expected);
            CHECK(f.server.body_fetches() == 4);
            CHECK_FALSE(f.folder_exists("Work"));
            auto r = f.record(f.all());
            REQUIRE(r);
            for (const auto& m : f.store.catalog->messages(r->id)) {
                auto g = f.store.catalog->gmail_message(m.id);
                REQUIRE(g);
                f.check_links(m, g->labels);
            }
        }
    }
}

TEST_CASE("gmail: verify checks that each label link is the copy itself", "[sync][gmail][verify]") {
    GmailFixture f;
    f.server.gmail_deliver(message("five"), kFiveLabels);
    REQUIRE(report_ok(f.backup()));
    const auto account = *f.store.catalog->find_account("acct");
    CHECK(store::verify_files(*f.store.catalog, *f.store.messages, account).empty());
    auto links = f.links(f.copy());
    REQUIRE(links.size() == 5);
    // One link gone, one replaced by a file that only looks alike.
    std::filesystem::remove(f.store.messages->absolute(links[0].file));
    const auto second = f.store.messages->absolute(links[1].file);
    std::filesystem::remove(second);
    std::ofstream(second, std::ios::binary) << f.stored(f.all()).begin()->second;
    std::map<std::string, std::string> problems;
    for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages, account))
        problems[p.file] = p.kind;
    CHECK(problems == std::map<std::string, std::string>{{links[0].file, "link missing"},
                                                         {links[1].file, "link not the copy"}});
}

namespace {

sync::AccountReport backup_only(GmailFixture& f, std::vector<std::string> filter, bool dry_run = false) {
    sync::BackupOptions options;
    options.open_catalog = [path = (f.store.root / "catalog.sqlite").string()] { return store::open_sqlite_catalog(path); };
    options.mailbox_filter = std::move(filter);
    options.dry_run = dry_run;
    return sync::backup_account(f.account, *f.store.catalog, *f.store.messages, options);
}

// The subjects of All Mail's live rows.
std::multiset<std::string> stored_subjects(GmailFixture& f) {
    std::multiset<std::string> out;
    for (const auto& [uid, bytes] : f.stored(f.all())) {
        auto at = bytes.find("Subject: ");
        out.insert(bytes.substr(at + 9, bytes.find('\r', at) - at - 9));
    }
    return out;
}

}  // namespace

// On Gmail INBOX, Sent and user labels are views of All Mail, which alone is
// synced: --mailbox naming one means the messages with that label.
TEST_CASE("gmail: --mailbox naming a label view backs up its messages through All Mail",
          "[sync][gmail][filter]") {
    const struct {
        std::vector<std::string> filter;
        std::multiset<std::string> stored;
        std::vector<std::string> unmatched;
    } cases[] = {
        {{"INBOX"}, {"in-work", "in"}, {}},
        {{"inbox"}, {"in-work", "in"}, {}},
        {{"Work"}, {"in-work", "work"}, {}},
        {{"[Gmail]/Sent Mail"}, {"sent"}, {}},
        {{"INBOX", "Nope"}, {"in-work", "in"}, {"Nope"}},
        {{"Travel/*"}, {"travel"}, {}},
        // All Mail itself, or every mailbox: the whole of it.
        {{"[Gmail]/All Mail"}, {"in-work", "work", "in", "sent", "travel", "archived"}, {}},
        {{"*"}, {"in-work", "work", "in", "sent", "travel", "archived"}, {}},
        // Trash is no label view: left out by the config, so unmatched.
        {{"[Gmail]/Trash"}, {}, {"[Gmail]/Trash"}},
    };
    for (const auto& c : cases) {
        std::string name;
        for (const auto& p : c.filter) name += p + " ";
        DYNAMIC_SECTION(name) {
            GmailFixture f;
            f.server.gmail_deliver(message("in-work"), {"\\Inbox", "Work"});
            f.server.gmail_deliver(message("work"), {"Work"});
            f.server.gmail_deliver(message("in"), {"\\Inbox"});
            f.server.gmail_deliver(message("sent"), {"\\Sent"});
            f.server.gmail_deliver(message("travel"), {"Travel/2024"});
            f.server.gmail_deliver(message("archived"), {});
            f.server.append(f.server.gmail_names().trash, message("binned"));
            auto report = backup_only(f, c.filter);
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(report.unmatched_patterns == c.unmatched);
            CHECK(stored_subjects(f) == c.stored);
            CHECK(f.server.body_fetches() == c.stored.size());
            if (!c.stored.empty()) {
                auto* all = find_report(report, f.all());
                REQUIRE(all);
                CHECK(all->new_messages == c.stored.size());
                const bool by_label = c.stored.size() < 6;
                auto labels = c.filter;
                std::erase(labels, std::string("Nope"));
                CHECK(all->labels == (by_label ? labels : std::vector<std::string>{}));
            }
            // A run without --mailbox then downloads the rest, each once.
            auto whole = f.backup();
            INFO(errors_of(whole));
            CHECK(report_ok(whole));
            CHECK(stored_subjects(f) == std::multiset<std::string>{"in-work", "work", "in", "sent", "travel",
                                                                   "archived"});
            CHECK(f.server.body_fetches() == 6);
            CHECK(f.stored(f.all()) == f.on_server(f.all()));
        }
    }
}

TEST_CASE("gmail: a dry run with --mailbox INBOX counts INBOX's messages", "[sync][gmail][filter]") {
    GmailFixture f;
    f.server.gmail_deliver(message("in"), {"\\Inbox"});
    f.server.gmail_deliver(message("archived"), {});
    auto report = backup_only(f, {"INBOX"}, /*dry_run=*/true);
    INFO(errors_of(report));
    CHECK(report.unmatched_patterns.empty());
    auto* all = find_report(report, f.all());
    REQUIRE(all);
    CHECK(all->new_messages == 1);
    CHECK(f.server.body_fetches() == 0);
}

// The config's `mailboxes` naming label views (INBOX, Work) on Gmail means the
// messages with those labels, as --mailbox does: All Mail synced for them, and
// reported so. Never a run that backs up nothing and says nothing.
TEST_CASE("gmail: config mailboxes naming label views back up their messages through All Mail",
          "[sync][gmail][filter]") {
    const struct {
        std::vector<std::string> mailboxes;
        std::vector<std::string> exclude;
        std::vector<std::string> filter;  // --mailbox
        std::multiset<std::string> stored;
        std::vector<std::string> labels;  // All Mail's report
    } cases[] = {
        {{"INBOX"}, {}, {}, {"in-work", "in"}, {"INBOX"}},
        {{"INBOX", "Work"}, {}, {}, {"in-work", "work", "in"}, {"INBOX", "Work"}},
        {{"Travel/*"}, {}, {}, {"travel"}, {"Travel/*"}},
        {{"*"}, {"[Gmail]/All Mail"}, {}, {"in-work", "work", "in", "sent", "travel"}, {"*"}},
        // --mailbox narrows the config's labels further.
        {{"INBOX", "Work"}, {}, {"Work"}, {"in-work", "work"}, {"Work"}},
        // A --mailbox label outside the config's: nothing.
        {{"INBOX"}, {}, {"Work"}, {}, {}},
    };
    for (const auto& c : cases) {
        std::string name;
        for (const auto& p : c.mailboxes) name += p + " ";
        for (const auto& p : c.exclude) name += "-" + p + " ";
        for (const auto& p : c.filter) name += "--mailbox " + p + " ";
        DYNAMIC_SECTION(name) {
            GmailFixture f;
            f.account.mailboxes = c.mailboxes;
            f.account.exclude = c.exclude;
            f.server.gmail_deliver(message("in-work"), {"\\Inbox", "Work"});
            f.server.gmail_deliver(message("work"), {"Work"});
            f.server.gmail_deliver(message("in"), {"\\Inbox"});
            f.server.gmail_deliver(message("sent"), {"\\Sent"});
            f.server.gmail_deliver(message("travel"), {"Travel/2024"});
            const auto archived = f.server.gmail_deliver(message("archived"), {});
            auto report = c.filter.empty() ? f.backup() : backup_only(f, c.filter);
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(stored_subjects(f) == c.stored);
            CHECK(f.server.body_fetches() == c.stored.size());
            if (c.stored.empty()) continue;
            auto* all = find_report(report, f.all());
            REQUIRE(all);
            CHECK(all->new_messages == c.stored.size());
            CHECK(all->labels == c.labels);
            if (!c.filter.empty()) continue;
            // The next run downloads nothing again, and a message that gains a
            // label in scope later is downloaded then.
            auto again = f.backup();
            CHECK(report_ok(again));
            CHECK(f.server.body_fetches() == c.stored.size());
            f.server.gmail_set_labels(archived, {"\\Inbox", "Work", "Travel/2024"});
            auto later = f.backup();
            INFO(errors_of(later));
            CHECK(report_ok(later));
            auto expected = c.stored;
            expected.insert("archived");
            CHECK(stored_subjects(f) == expected);
            CHECK(f.server.body_fetches() == expected.size());
        }
    }
}

// A store made before Gmail support (schema 0008): the label mailboxes backed
// up as plain mailboxes, All Mail left out. The first run of the Gmail code
// makes the files it already has All Mail's copies (linked, not downloaded)
// when they match one All Mail message unambiguously (Message-ID, RFC822.SIZE
// and INTERNALDATE unique on both sides); the ambiguous and the missing ones
// are downloaded. Nothing is lost on the way, whatever `expunged` says.
TEST_CASE("gmail: a store from before Gmail support becomes All Mail's copies without downloads",
          "[sync][gmail][convert]") {
    const auto policy = GENERATE(sync::ExpungedPolicy::Keep, sync::ExpungedPolicy::Mirror);
    GmailFixture f;
    f.account.expunged = policy;
    f.server.gmail_deliver(message("a"), {"\\Inbox"});
    f.server.gmail_deliver(message("b"), {"Work"});
    f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
    f.server.gmail_deliver(message("s"), {"\\Sent"});
    // Same Message-ID, size and INTERNALDATE, other bytes: ambiguous.
    f.server.gmail_deliver(message("dup", "one"), {"\\Inbox"});
    f.server.gmail_deliver(message("dup", "two"), {"Work"});
    // Only in All Mail: never stored before.
    f.server.gmail_deliver(message("archived"), {});

    // The old shape: no X-GM-EXT-1 seen, All Mail left out by the config.
    const auto caps = f.server.capabilities();
    auto old_caps = caps;
    old_caps.erase("X-GM-EXT-1");
    f.server.set_capabilities(old_caps);
    f.account.exclude = {f.all(), f.server.gmail_names().trash};
    auto old = f.backup();
    INFO(errors_of(old));
    REQUIRE(report_ok(old));
    REQUIRE_FALSE(f.record(f.all()));
    REQUIRE(f.record("INBOX"));
    const auto old_fetches = f.server.body_fetches();
    CHECK(old_fetches == 7);  // c twice

    f.server.set_capabilities(caps);
    f.account.exclude = {};
    auto report = f.backup();
    INFO(errors_of(report));
    CHECK(report_ok(report));
    // The two ambiguous ones and the one never stored.
    CHECK(f.server.body_fetches(f.all()) == 3);
    CHECK(f.server.body_fetches() == old_fetches + 3);
    CHECK(f.stored(f.all()) == f.on_server(f.all()));
    CHECK(stored_subjects(f) == std::multiset<std::string>{"a", "b", "c", "s", "dup", "dup", "archived"});
    // Each message once on disk: the label folders are links to All Mail's copies.
    for (const auto& m : f.store.catalog->messages(f.record(f.all())->id)) {
        auto gmail = f.store.catalog->gmail_message(m.id);
        REQUIRE(gmail);
        CHECK(f.links(m).size() == gmail->labels.size());
        for (const auto& link : f.links(m)) {
            INFO(link.file << " of " << m.file);
            CHECK(inode(f.store.messages->absolute(link.file)) == inode(f.store.messages->absolute(m.file)));
        }
    }
    // The old label mailboxes are no longer live (their messages are All Mail's).
    CHECK_FALSE(f.record("INBOX"));
    CHECK_FALSE(f.record("Work"));
    auto account = *f.store.catalog->find_account("acct");
    std::string problems;
    for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages, account))
        problems += p.file + ": " + p.kind + "\n";
    CHECK(problems == "");
    // Nothing more the next time.
    auto again = f.backup();
    CHECK(report_ok(again));
    CHECK(f.server.body_fetches() == old_fetches + 3);
}

// The conversion stopped after any durable step, then run again: every
// message is still there once, in All Mail, and the store verifies.
TEST_CASE("gmail: a conversion from before Gmail support stopped at any step resumes whole",
          "[sync][gmail][convert]") {
    for (std::uint64_t stop_after = 1; stop_after <= 8; ++stop_after) {
        DYNAMIC_SECTION("stop after " << stop_after) {
            GmailFixture f;
            f.account.expunged = sync::ExpungedPolicy::Mirror;
            f.server.gmail_deliver(message("a"), {"\\Inbox"});
            f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
            f.server.gmail_deliver(message("dup", "one"), {"\\Inbox"});
            f.server.gmail_deliver(message("dup", "two"), {"Work"});
            f.server.gmail_deliver(message("archived"), {});
            const auto caps = f.server.capabilities();
            auto old_caps = caps;
            old_caps.erase("X-GM-EXT-1");
            f.server.set_capabilities(old_caps);
            f.account.exclude = {f.all(), f.server.gmail_names().trash};
            REQUIRE(report_ok(f.backup()));
            f.server.set_capabilities(caps);
            f.account.exclude = {};
            try {
                f.backup(stop_after);
            } catch (const sync::StopRequested&) {
            }
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(f.stored(f.all()) == f.on_server(f.all()));
            CHECK_FALSE(f.record("INBOX"));
            CHECK_FALSE(f.record("Work"));
            std::string problems;
            for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages,
                                                     *f.store.catalog->find_account("acct")))
                problems += p.file + ": " + p.kind + "\n";
            CHECK(problems == "");
            CHECK(f.server.body_fetches(f.all()) <= 3);
            for (const auto& m : f.store.catalog->messages(f.record(f.all())->id)) {
                INFO(m.file);
                CHECK(m.file.find(",U=" + std::to_string(m.uid) + ":2,") != std::string::npos);
                for (const auto& link : f.links(m)) {
                    INFO(link.file);
                    CHECK(link.file.substr(link.file.rfind('/')) == m.file.substr(m.file.rfind('/')));
                }
            }
        }
    }
}

namespace {

// The Maildir file name of a store path, and its ",U=" field ("" if none).
std::string file_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }
std::string uid_field(const std::string& path) {
    const auto name = file_name(path);
    const auto base = name.substr(0, name.find(":2,"));
    const auto at = base.find(",U=");
    return at == std::string::npos ? "" : base.substr(at + 3);
}

}  // namespace

// An adopted copy is All Mail's like a downloaded one: its file name carries
// its All Mail UID (",U=<uid>"), never the label folder's it came from, and
// each label link is that file under the same name. The old label file goes
// once the link replaces it: no folder shows a message twice.
TEST_CASE("gmail: an adopted copy's file is named for its All Mail UID, and its links follow",
          "[sync][gmail][convert]") {
    const auto policy = GENERATE(sync::ExpungedPolicy::Keep, sync::ExpungedPolicy::Mirror);
    GmailFixture f;
    f.account.expunged = policy;
    // Archived messages first: All Mail's UIDs are not the label folders'.
    f.server.gmail_deliver(message("archived-1"), {});
    f.server.gmail_deliver(message("archived-2"), {});
    f.server.gmail_deliver(message("b"), {"Work"});
    f.server.gmail_deliver(message("a"), {"\\Inbox"});
    f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
    const auto caps = f.server.capabilities();
    auto old_caps = caps;
    old_caps.erase("X-GM-EXT-1");
    f.server.set_capabilities(old_caps);
    f.account.exclude = {f.all(), f.server.gmail_names().trash};
    REQUIRE(report_ok(f.backup()));
    const auto old_fetches = f.server.body_fetches();
    f.server.set_capabilities(caps);
    f.account.exclude = {};
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.body_fetches() == old_fetches + 2);  // only the archived ones
    for (const auto& m : f.store.catalog->messages(f.record(f.all())->id)) {
        INFO(m.file);
        CHECK(uid_field(m.file) == std::to_string(m.uid));
        for (const auto& link : f.links(m)) {
            INFO(link.file);
            CHECK(file_name(link.file) == file_name(m.file));
            CHECK(inode(f.store.messages->absolute(link.file)) == inode(f.store.messages->absolute(m.file)));
        }
    }
    // Every live file is a copy or a link, each once: INBOX holds a and c, Work b and c.
    std::map<std::string, std::size_t> in_folder;
    for (const auto& e : std::filesystem::recursive_directory_iterator(f.store.root / "mail" / "acct"))
        if (e.is_regular_file() && e.path().parent_path().filename() == "cur")
            ++in_folder[e.path().parent_path().parent_path().filename().string()];
    CHECK(in_folder[f.folder_of("Work")] == 2);
    CHECK(in_folder["acct"] == 2);  // INBOX: the account's own Maildir
    std::string problems;
    for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages,
                                             *f.store.catalog->find_account("acct")))
        problems += p.file + ": " + p.kind + "\n";
    CHECK(problems == "");
    auto again = f.backup();
    CHECK(report_ok(again));
    CHECK(f.server.body_fetches() == old_fetches + 2);
}

namespace {

// A store made before Gmail support (schema 0008): the label mailboxes
// backed up as plain mailboxes, All Mail left out by the config.
void back_up_the_old_way(GmailFixture& f) {
    const auto caps = f.server.capabilities();
    auto old_caps = caps;
    old_caps.erase("X-GM-EXT-1");
    f.server.set_capabilities(old_caps);
    f.account.exclude = {f.all(), f.server.gmail_names().trash};
    auto old = f.backup();
    INFO(errors_of(old));
    REQUIRE(report_ok(old));
    f.server.set_capabilities(caps);
    f.account.exclude = {};
}

}  // namespace

// A dry run on a store from before Gmail support says what the real run
// then does: the matched messages adopted (no download), the rest new.
TEST_CASE("gmail: a dry run on a store from before Gmail support counts adopted and new as the run does",
          "[sync][gmail][convert]") {
    GmailFixture f;
    f.server.gmail_deliver(message("a"), {"\\Inbox"});
    f.server.gmail_deliver(message("b", "a longer body than a's"), {"Work"});
    f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
    f.server.gmail_deliver(message("dup", "one"), {"\\Inbox"});
    f.server.gmail_deliver(message("dup", "two"), {"Work"});
    f.server.gmail_deliver(message("archived", "only in All Mail"), {});
    back_up_the_old_way(f);
    const auto fetches = f.server.body_fetches();

    auto dry = backup_only(f, {}, /*dry_run=*/true);
    INFO(errors_of(dry));
    REQUIRE(report_ok(dry));
    CHECK(f.server.body_fetches() == fetches);
    auto real = f.backup();
    INFO(errors_of(real));
    REQUIRE(report_ok(real));
    const auto* planned = find_report(dry, f.all());
    const auto* done = find_report(real, f.all());
    REQUIRE(planned);
    REQUIRE(done);
    CHECK(done->adopted == 3);  // a, b, c
    CHECK(done->new_messages == 3);  // dup twice, archived
    CHECK(f.server.body_fetches() == fetches + 3);
    CHECK(planned->adopted == done->adopted);
    CHECK(planned->new_messages == done->new_messages);
    CHECK(planned->bytes == done->bytes);
}

namespace {

// The distinct inodes of the store's message files (live and attic, in cur/
// and new/): each is one copy of a message's bytes on disk.
std::set<std::uint64_t> stored_inodes(GmailFixture& f) {
    std::set<std::uint64_t> out;
    for (const char* tree : {"mail", "attic"}) {
        if (!std::filesystem::exists(f.store.root / tree)) continue;
        for (const auto& e : std::filesystem::recursive_directory_iterator(f.store.root / tree))
            if (e.is_regular_file() && (e.path().parent_path().filename() == "cur" ||
                                        e.path().parent_path().filename() == "new"))
                out.insert(inode(e.path().string()));
    }
    return out;
}

std::uint64_t link_count(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_nlink) : 0;
}

// How many All Mail copies are an attic file itself (same inode), each with
// the attic's name, All Mail's and one per label folder as its links.
std::size_t check_attic_links(GmailFixture& f) {
    auto& catalog = *f.store.catalog;
    std::map<std::string, std::set<std::uint64_t>> attic_inodes;  // by SHA-256
    for (const auto& mb : catalog.mailboxes(*catalog.find_account("acct"), true))
        for (const auto& m : catalog.all_messages(mb.id))
            if (m.expunged_at)
                attic_inodes[m.sha256].insert(inode(f.store.messages->absolute(m.file)));
    std::size_t linked = 0;
    for (const auto& m : catalog.messages(f.record(f.all())->id)) {
        const auto path = f.store.messages->absolute(m.file);
        auto it = attic_inodes.find(m.sha256);
        if (it == attic_inodes.end() || !it->second.count(inode(path))) continue;  // downloaded
        INFO(m.file);
        CHECK(link_count(path) == 2 + f.links(m).size());
        ++linked;
    }
    return linked;
}

// What the interim Gmail code left: each label mailbox retired whole, as a
// deleted mailbox's rows go under expunged = "keep", and no All Mail rows.
void retire_the_interim_way(GmailFixture& f) {
    auto& catalog = *f.store.catalog;
    const std::int64_t at = 1700000000;
    for (auto mb : catalog.mailboxes(*catalog.find_account("acct"))) {
        for (const auto& m : catalog.messages(mb.id))
            catalog.mark_expunged(m.id, at, f.store.messages->move_to_attic(m.file));
        f.store.messages->sync_committed();
        mb.deleted_at = at;
        catalog.save_mailbox(mb);
        if (!mb.folder.empty()) f.store.messages->remove_folder("acct", mb.folder);
    }
}

}  // namespace

// A store that ran the interim Gmail code: its label mailboxes were retired
// (rows and files in the attic, the mailboxes deleted) and All Mail holds no
// rows. The next run makes the attic files whose message All Mail has, matched
// as live ones are (and the same SHA-256), All Mail's copies without a
// download; only the ambiguous and the never stored are downloaded.
TEST_CASE("gmail: a store whose label mailboxes were retired before All Mail had rows adopts the attic files",
          "[sync][gmail][convert]") {
    GmailFixture f;
    f.account.expunged = sync::ExpungedPolicy::Keep;
    f.server.gmail_deliver(message("a"), {"\\Inbox"});
    f.server.gmail_deliver(message("b"), {"Work"});
    f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
    f.server.gmail_deliver(message("dup", "one"), {"\\Inbox"});
    f.server.gmail_deliver(message("dup", "two"), {"Work"});
    f.server.gmail_deliver(message("archived"), {});
    back_up_the_old_way(f);
    const auto fetches = f.server.body_fetches();
    REQUIRE(fetches == 6);

    retire_the_interim_way(f);
    auto& catalog = *f.store.catalog;
    const auto account = *catalog.find_account("acct");
    REQUIRE_FALSE(f.record("INBOX"));
    REQUIRE_FALSE(f.record(f.all()));
    const auto inodes_before = stored_inodes(f).size();

    auto report = f.backup();
    INFO(errors_of(report));
    CHECK(report_ok(report));
    CHECK(f.server.body_fetches(f.all()) == 3);  // dup twice, archived
    CHECK(f.server.body_fetches() == fetches + 3);
    auto* all = find_report(report, f.all());
    REQUIRE(all);
    CHECK(all->adopted == 3);
    CHECK(f.stored(f.all()) == f.on_server(f.all()));
    // Linked, not copied: the bytes on disk grew by the 3 downloads only.
    CHECK(check_attic_links(f) == 3);
    CHECK(stored_inodes(f).size() == inodes_before + 3);
    for (const auto& m : catalog.messages(f.record(f.all())->id)) {
        INFO(m.file);
        CHECK(uid_field(m.file) == std::to_string(m.uid));
        auto gmail = catalog.gmail_message(m.id);
        REQUIRE(gmail);
        CHECK(f.links(m).size() == gmail->labels.size());
    }
    std::string problems;
    for (const auto& p : store::verify_files(catalog, *f.store.messages, account))
        problems += p.file + ": " + p.kind + "\n";
    CHECK(problems == "");
    auto again = f.backup();
    CHECK(report_ok(again));
    CHECK(f.server.body_fetches() == fetches + 3);
}

// The same stopped after any durable step, then run again: every message
// once in All Mail, no file left over, the store verifies.
TEST_CASE("gmail: adopting attic files stopped at any step resumes whole", "[sync][gmail][convert]") {
    for (std::uint64_t stop_after = 1; stop_after <= 6; ++stop_after) {
        DYNAMIC_SECTION("stop after " << stop_after) {
            GmailFixture f;
            f.account.expunged = sync::ExpungedPolicy::Keep;
            f.server.gmail_deliver(message("a"), {"\\Inbox"});
            f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
            f.server.gmail_deliver(message("archived"), {});
            back_up_the_old_way(f);
            retire_the_interim_way(f);
            const auto inodes_before = stored_inodes(f).size();
            try {
                f.backup(stop_after);
            } catch (const sync::StopRequested&) {
            }
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK(f.stored(f.all()) == f.on_server(f.all()));
            CHECK(f.server.body_fetches(f.all()) <= 1);  // archived only
            const auto account = *f.store.catalog->find_account("acct");
            std::string problems;
            for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages, account))
                problems += p.file + ": " + p.kind + "\n";
            CHECK(problems == "");
            std::size_t files = 0;
            for (const auto& e : std::filesystem::directory_iterator(f.store.root / "mail" / "acct" /
                                                                     f.folder_of(f.all()) / "cur"))
                files += e.is_regular_file();
            CHECK(files == 3);
            // a and c linked from the attic, archived downloaded: one new inode.
            CHECK(check_attic_links(f) == 2);
            CHECK(stored_inodes(f).size() == inodes_before + 1);
        }
    }
}

// An adopted copy's file has a unique name of its own, not the old label
// file's: its link in that label's folder then never shares a unique name
// with the old file, and a replayed retire step (killed after the old file
// went, before its commit) that looks the old file up by its unique name
// (MessageStore::locate) cannot take the link for it.
TEST_CASE("gmail: an adopted copy's name is its own: a replayed retire never takes a label link for the old file",
          "[sync][gmail][convert]") {
    const auto policy = GENERATE(sync::ExpungedPolicy::Keep, sync::ExpungedPolicy::Mirror);
    bool reached = false;
    for (std::uint64_t stop_after = 1; stop_after <= 8; ++stop_after) {
        {
            INFO("stop after " << stop_after);
            GmailFixture f;
            f.account.expunged = policy;
            f.server.gmail_deliver(message("archived"), {});
            f.server.gmail_deliver(message("a"), {"\\Inbox"});
            f.server.gmail_deliver(message("c"), {"\\Inbox", "Work"});
            back_up_the_old_way(f);
            try {
                f.backup(stop_after);
            } catch (const sync::StopRequested&) {
            }
            // Adopted and linked, the label mailboxes not yet retired.
            auto inbox = f.record("INBOX");
            auto all = f.record(f.all());
            if (!inbox || !all) continue;
            const auto copies = f.store.catalog->messages(all->id);
            bool linked = !copies.empty();
            for (const auto& m : copies)
                for (const auto& link : f.links(m))
                    linked &= std::filesystem::exists(f.store.messages->absolute(link.file));
            if (!linked) continue;
            reached = true;
            for (const auto& m : f.store.catalog->messages(inbox->id)) {
                INFO(m.file);
                const auto old_name = file_name(m.file);
                for (const auto& c : copies) {
                    CHECK(file_name(c.file).substr(0, file_name(c.file).find(',')) !=
                          old_name.substr(0, old_name.find(',')));
                }
                // The retire step's own first move (to the attic, or away),
                // then a kill before its commit.
                const auto path = f.store.messages->absolute(m.file);
                if (policy == sync::ExpungedPolicy::Keep) {
                    const auto attic = f.store.messages->absolute("attic/" + m.file.substr(5));
                    std::filesystem::create_directories(std::filesystem::path(attic).parent_path());
                    std::filesystem::rename(path, attic);
                } else {
                    std::filesystem::remove(path);
                }
            }
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            CHECK_FALSE(f.record("INBOX"));
            std::string problems;
            for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages,
                                                     *f.store.catalog->find_account("acct")))
                problems += p.file + ": " + p.kind + "\n";
            CHECK(problems == "");
        }
    }
    CHECK(reached);
}
