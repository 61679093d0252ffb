// The store contract: what every Catalog (catalog.hpp) does, checked on every
// backend (catalog_backends.hpp: SQLite, PostgreSQL), one run per backend.
#include <algorithm>
#include <catch2/catch.hpp>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <tuple>

#include "catalog_backends.hpp"

using namespace imapkeep::store;
using imapkeep::test::CatalogBackend;
using Flags = std::vector<std::string>;

namespace {

struct Fixture {
    explicit Fixture(std::unique_ptr<CatalogBackend> b) : backend(std::move(b)) {}

    std::unique_ptr<CatalogBackend> backend;
    std::unique_ptr<Catalog> catalog = backend->open();
    Id account = catalog->ensure_account("work");
    Id inbox = save("INBOX");

    Id save(const std::string& name) {
        MailboxRecord m;
        m.account_id = account;
        m.name = name;
        m.delimiter = "/";
        m.folder = name == "INBOX" ? "" : "." + name;
        m.uidvalidity = 7;
        return catalog->save_mailbox(m);
    }

    MessageRecord message(Id mailbox, std::uint32_t uid, std::int64_t added_at, Flags flags = {}) {
        MessageRecord m;
        m.mailbox_id = mailbox;
        m.uidvalidity = 7;
        m.uid = uid;
        m.internaldate = 1'600'000'000 + uid;
        m.internaldate_zone = 3600;
        m.size = 100 + uid;
        m.sha256 = std::string(64, 'a');
        m.message_id = "<" + std::to_string(uid) + "@example.org>";
        m.flags = std::move(flags);
        m.modseq = 10 + uid;
        m.file = "mail/work/cur/" + std::to_string(uid) + ":2,";
        m.added_at = added_at;
        return m;
    }

    Id add(Id mailbox, std::uint32_t uid, std::int64_t added_at, Flags flags = {}) {
        return catalog->add_message(message(mailbox, uid, added_at, std::move(flags)));
    }
};

#define CATALOG_FIXTURE_ON(f, name) IMAPKEEP_CATALOG_FIXTURE_ON(Fixture, f, name)
#define CATALOG_FIXTURE(f) IMAPKEEP_CATALOG_FIXTURE(Fixture, f)

std::vector<std::uint32_t> uids(const std::vector<MessageRecord>& messages) {
    std::vector<std::uint32_t> out;
    for (const auto& m : messages) out.push_back(m.uid);
    return out;
}

}  // namespace

TEST_CASE("accounts", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    CHECK(f.catalog->ensure_account("work") == f.account);
    const Id home = f.catalog->ensure_account("home");
    CHECK(home != f.account);
    CHECK(f.catalog->find_account("home") == home);
    CHECK_FALSE(f.catalog->find_account("nobody").has_value());
    CHECK(f.catalog->account_names() == std::vector<std::string>{"home", "work"});
}

TEST_CASE("mailboxes round-trip every field", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    MailboxRecord m;
    m.account_id = f.account;
    m.name = "Archiv/2024 Ü";
    m.delimiter = "/";
    m.folder = ".Archiv.2024 &ANw-";
    m.uidvalidity = 4'000'000'000u;
    m.uidnext = 4'000'000'001u;
    m.highestmodseq = (std::uint64_t{1} << 63) - 1;  // the largest RFC 7162 mod-sequence
    m.mailboxid = "F2212ea87-6097-4256-9d51-71338625";
    m.sync_path = "QRESYNC";
    m.last_sync_at = 1'700'000'000;
    m.id = f.catalog->save_mailbox(m);

    auto found = f.catalog->find_mailbox(f.account, "Archiv/2024 Ü");
    REQUIRE(found);
    CHECK(found->id == m.id);
    CHECK(found->account_id == m.account_id);
    CHECK(found->name == m.name);
    CHECK(found->delimiter == m.delimiter);
    CHECK(found->folder == m.folder);
    CHECK(found->uidvalidity == m.uidvalidity);
    CHECK(found->uidnext == m.uidnext);
    CHECK(found->highestmodseq == m.highestmodseq);
    CHECK(found->mailboxid == m.mailboxid);
    CHECK(found->sync_path == m.sync_path);
    CHECK(found->last_sync_at == m.last_sync_at);
    CHECK_FALSE(found->deleted_at.has_value());

    m.uidnext = 5;
    m.deleted_at = 1'700'000'100;
    CHECK(f.catalog->save_mailbox(m) == m.id);
    CHECK(f.catalog->find_mailbox(f.account, m.name)->deleted_at == m.deleted_at);
    CHECK(f.catalog->mailboxes(f.account).size() == 1);  // INBOX only
    CHECK(f.catalog->mailboxes(f.account, true).size() == 2);

    // The server creates the name again: a new live row wins over the deleted one.
    const Id reborn = f.save("Archiv/2024 Ü");
    CHECK(f.catalog->find_mailbox(f.account, m.name)->id == reborn);
    // Two live mailboxes cannot share a name.
    CHECK_THROWS_AS(f.save("Archiv/2024 Ü"), StoreError);

    m.id = 9999;
    CHECK_THROWS_AS(f.catalog->save_mailbox(m), StoreError);
    CHECK_FALSE(f.catalog->find_mailbox(f.account, "nope").has_value());
}

TEST_CASE("messages: add, find, flags, expunge, rekey, move, delete", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    auto original = f.message(f.inbox, 5, 1000, {"\\seen", "$Work", "\\Recent", "\\Seen"});
    original.modseq = (std::uint64_t{1} << 62) + 3;
    const Id id = f.catalog->add_message(original);

    auto m = f.catalog->message_by_id(id);
    REQUIRE(m);
    CHECK(m->mailbox_id == f.inbox);
    CHECK(m->uidvalidity == 7);
    CHECK(m->uid == 5);
    CHECK(m->internaldate == original.internaldate);
    CHECK(m->internaldate_zone == 3600);
    CHECK(m->size == original.size);
    CHECK(m->sha256 == original.sha256);
    CHECK(m->message_id == original.message_id);
    CHECK(m->flags == Flags{"$Work", "\\Seen"});  // normalised: no \Recent, one \Seen
    CHECK(m->modseq == original.modseq);
    CHECK(m->file == original.file);
    CHECK(m->added_at == 1000);
    CHECK_FALSE(m->expunged_at);
    CHECK(f.catalog->find_message(f.inbox, 7, 5)->id == id);
    CHECK_FALSE(f.catalog->find_message(f.inbox, 8, 5));
    CHECK_FALSE(f.catalog->message_by_id(id + 100));

    // One live row per (mailbox, uidvalidity, uid).
    CHECK_THROWS_AS(f.add(f.inbox, 5, 1001), StoreError);
    // Foreign keys are on.
    CHECK_THROWS_AS(f.add(4242, 1, 1000), StoreError);

    f.catalog->update_flags(id, {"\\Answered", "\\Seen", "$Work"}, 50, "mail/work/cur/5:2,RS",
                            2000);
    f.catalog->update_flags(id, {"\\Answered", "\\Seen", "$Work"}, 51, "mail/work/cur/moved:2,RS",
                            2500);
    m = f.catalog->message_by_id(id);
    CHECK(m->flags == Flags{"$Work", "\\Answered", "\\Seen"});
    CHECK(m->modseq == 51);
    CHECK(m->file == "mail/work/cur/moved:2,RS");
    auto history = f.catalog->flag_history(id);
    REQUIRE(history.size() == 2);  // unchanged flags at 2500 wrote no entry
    CHECK(history[0].at == 1000);
    CHECK(history[0].flags == Flags{"$Work", "\\Seen"});
    CHECK(history[1].at == 2000);
    CHECK(history[1].message_id == id);
    CHECK_THROWS_AS(f.catalog->update_flags(id + 100, {}, 0, "", 0), StoreError);

    const Id other = f.add(f.inbox, 6, 1000);
    CHECK(uids(f.catalog->messages(f.inbox)) == std::vector<std::uint32_t>{5, 6});
    f.catalog->mark_expunged(other, 3000, "attic/work/cur/6:2,");
    CHECK(uids(f.catalog->messages(f.inbox)) == std::vector<std::uint32_t>{5});
    CHECK(uids(f.catalog->all_messages(f.inbox)) == std::vector<std::uint32_t>{5, 6});
    auto expunged = f.catalog->find_message(f.inbox, 7, 6);
    REQUIRE(expunged);
    CHECK(expunged->expunged_at == 3000);
    CHECK(expunged->file == "attic/work/cur/6:2,");
    CHECK(f.catalog->uid_history(other).back().to_at == 3000);
    // The UID is free again among live rows.
    CHECK_NOTHROW(f.add(f.inbox, 6, 3100));
    CHECK(f.catalog->find_message(f.inbox, 7, 6)->id != other);

    // UIDVALIDITY change: new key, old one kept in history.
    const std::int64_t before = std::time(nullptr);
    f.catalog->rekey_message(id, 99, 1, "mail/work/cur/rekeyed:2,RS");
    m = f.catalog->message_by_id(id);
    CHECK(m->uidvalidity == 99);
    CHECK(m->uid == 1);
    CHECK(m->file == "mail/work/cur/rekeyed:2,RS");
    CHECK_FALSE(f.catalog->find_message(f.inbox, 7, 5));
    auto keys = f.catalog->uid_history(id);
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].uidvalidity == 7);
    CHECK(keys[0].uid == 5);
    CHECK(keys[0].from_at == 1000);
    REQUIRE(keys[0].to_at);
    CHECK(*keys[0].to_at >= before);
    CHECK(keys[1].uidvalidity == 99);
    CHECK(keys[1].uid == 1);
    CHECK_FALSE(keys[1].to_at);
    CHECK_THROWS_AS(f.catalog->rekey_message(id + 100, 1, 1, ""), StoreError);

    // Mailbox renamed on the server.
    const Id renamed = f.save("Renamed");
    f.catalog->move_messages(f.inbox, renamed);
    CHECK(f.catalog->all_messages(f.inbox).empty());
    CHECK(f.catalog->all_messages(renamed).size() == 3);

    // expunged = mirror: rows and history go; journal entries survive.
    f.catalog->add_restore_entry({"t", "INBOX", id, 1, 2, 4000});
    f.catalog->delete_message(id);
    CHECK_FALSE(f.catalog->message_by_id(id));
    CHECK(f.catalog->flag_history(id).empty());
    CHECK(f.catalog->uid_history(id).empty());
    CHECK_FALSE(f.catalog->restored("t", "INBOX", id));
}

TEST_CASE("transactions nest, inner rollback undoes only its part", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    auto reader = f.backend->open();  // another connection

    f.catalog->begin();
    f.add(f.inbox, 1, 10);
    f.catalog->begin();
    f.add(f.inbox, 2, 10);
    f.catalog->commit();  // inner: nothing visible outside yet
    CHECK(reader->messages(f.inbox).empty());
    f.catalog->begin();
    f.add(f.inbox, 3, 10);
    f.catalog->rollback();  // inner rollback: only uid 3 goes
    // A failed add inside a transaction leaves the transaction usable.
    CHECK_THROWS_AS(f.add(f.inbox, 1, 10), StoreError);
    f.catalog->commit();
    CHECK(uids(reader->messages(f.inbox)) == std::vector<std::uint32_t>{1, 2});

    f.catalog->begin();
    f.add(f.inbox, 4, 10);
    f.catalog->begin();
    f.add(f.inbox, 5, 10);
    f.catalog->commit();
    f.catalog->rollback();  // outer rollback takes the committed inner part too
    CHECK(uids(f.catalog->messages(f.inbox)) == std::vector<std::uint32_t>{1, 2});

    CHECK_THROWS_AS(f.catalog->commit(), StoreError);
    f.catalog->rollback();  // without begin(): nothing happens
    CHECK(uids(f.catalog->messages(f.inbox)) == std::vector<std::uint32_t>{1, 2});

    // A catalog destroyed inside a transaction rolls it back.
    auto doomed = f.backend->open();
    doomed->begin();
    doomed->add_message(f.message(f.inbox, 9, 10));
    doomed.reset();
    CHECK(uids(reader->messages(f.inbox)) == std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("messages_at replays a timeline", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    // t=100: uid 1 added unseen; t=200: uid 2 added seen; t=300: uid 1 seen;
    // t=400: uid 2 expunged; t=500: uid 1 flagged; t=600: uid 3 added.
    const Id m1 = f.add(f.inbox, 1, 100);
    const Id m2 = f.add(f.inbox, 2, 200, {"\\Seen"});
    f.catalog->update_flags(m1, {"\\Seen"}, 0, "mail/work/cur/1:2,S", 300);
    f.catalog->mark_expunged(m2, 400, "attic/work/cur/2:2,S");
    f.catalog->update_flags(m1, {"\\Seen", "\\Flagged"}, 0, "mail/work/cur/1:2,FS", 500);
    f.add(f.inbox, 3, 600);
    const Id other_box = f.save("Other");
    f.add(other_box, 1, 100);

    struct Case {
        std::int64_t at;
        std::vector<std::uint32_t> uids;
        std::vector<Flags> flags;
    };
    const std::vector<Case> cases = {
        {99, {}, {}},
        {100, {1}, {{}}},
        {199, {1}, {{}}},
        {200, {1, 2}, {{}, {"\\Seen"}}},
        {300, {1, 2}, {{"\\Seen"}, {"\\Seen"}}},
        {399, {1, 2}, {{"\\Seen"}, {"\\Seen"}}},
        {400, {1}, {{"\\Seen"}}},
        {500, {1}, {{"\\Flagged", "\\Seen"}}},
        {600, {1, 3}, {{"\\Flagged", "\\Seen"}, {}}},
    };
    for (const auto& c : cases) {
        INFO("at " << c.at);
        auto state = f.catalog->messages_at(f.inbox, c.at);
        CHECK(uids(state) == c.uids);
        std::vector<Flags> flags;
        for (const auto& m : state) flags.push_back(m.flags);
        CHECK(flags == c.flags);
    }

    // After a UIDVALIDITY change the old key is reported for earlier moments.
    f.catalog->rekey_message(m1, 8, 40, "mail/work/cur/1:2,FS");
    auto then = f.catalog->messages_at(f.inbox, 500);
    REQUIRE(then.size() == 1);
    CHECK(then[0].uidvalidity == 7);
    CHECK(then[0].uid == 1);
    auto now = f.catalog->messages_at(f.inbox, std::time(nullptr) + 10);
    REQUIRE(now.size() == 2);
    CHECK(now[1].id == m1);  // (8, 40) sorts after (7, 3)
    CHECK(now[1].uid == 40);
}

TEST_CASE("runs", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    CHECK_FALSE(f.catalog->last_run("backup"));
    const Id first = f.catalog->begin_run("backup", 100);
    f.catalog->finish_run(first, 150, "ok", R"({"new":3})");
    const Id second = f.catalog->begin_run("backup", 200);
    f.catalog->begin_run("restore", 300);

    auto last = f.catalog->last_run("backup");
    REQUIRE(last);
    CHECK(last->id == second);
    CHECK(last->command == "backup");
    CHECK(last->started_at == 200);
    CHECK(last->status == "running");
    CHECK_FALSE(last->finished_at);
    f.catalog->finish_run(second, 250, "partial", "{}");
    last = f.catalog->last_run("backup");
    CHECK(last->finished_at == 250);
    CHECK(last->status == "partial");
    CHECK(last->report_json == "{}");
    CHECK_THROWS_AS(f.catalog->finish_run(12345, 1, "ok", ""), StoreError);
}

TEST_CASE("restore journal", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const Id m1 = f.add(f.inbox, 1, 100);
    const Id m2 = f.add(f.inbox, 2, 100);
    CHECK_FALSE(f.catalog->restored("home", "Restored", m1));
    f.catalog->add_restore_entry({"home", "Restored", m1, 0, 0, 500});    // no UIDPLUS
    f.catalog->add_restore_entry({"home", "Restored", m1, 77, 12, 600});  // again, later
    f.catalog->add_restore_entry({"home", "Other", m2, 78, 1, 700});

    CHECK(f.catalog->restored("home", "Restored", m1));
    CHECK_FALSE(f.catalog->restored("home", "Restored", m2));
    CHECK_FALSE(f.catalog->restored("work", "Restored", m1));
    auto entry = f.catalog->restore_entry("home", "Restored", m1);
    REQUIRE(entry);
    CHECK(entry->target_account == "home");
    CHECK(entry->target_mailbox == "Restored");
    CHECK(entry->source_message_id == m1);
    CHECK(entry->target_uidvalidity == 77);
    CHECK(entry->target_uid == 12);
    CHECK(entry->appended_at == 600);
    CHECK(f.catalog->restore_entry("home", "Other", m2)->target_uid == 1);
    CHECK_THROWS_AS(f.catalog->add_restore_entry({"home", "X", 99999, 0, 0, 1}), StoreError);
}

TEST_CASE("restore journal: flags checked after the APPEND, marked per target",
          "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const Id m1 = f.add(f.inbox, 1, 100);
    const Id m2 = f.add(f.inbox, 2, 100);
    f.catalog->add_restore_entry({"home", "R", m1, 7, 1, 500, /*flags_checked=*/false});
    f.catalog->add_restore_entry({"home", "R", m2, 7, 2, 500, false});
    f.catalog->add_restore_entry({"home", "S", m1, 8, 1, 500, false});
    CHECK_FALSE(f.catalog->restore_entry("home", "R", m1)->flags_checked);

    f.catalog->mark_restore_flags_checked("home", "R", {m1});
    CHECK(f.catalog->restore_entry("home", "R", m1)->flags_checked);
    CHECK_FALSE(f.catalog->restore_entry("home", "R", m2)->flags_checked);
    CHECK_FALSE(f.catalog->restore_entry("home", "S", m1)->flags_checked);
    f.catalog->mark_restore_flags_checked("home", "R", {});
    // Entries written without saying so were checked.
    f.catalog->add_restore_entry({"home", "T", m2, 9, 3, 600});
    CHECK(f.catalog->restore_entry("home", "T", m2)->flags_checked);
}

TEST_CASE("one catalog per thread writes concurrently", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const Id other = f.save("Other");
    std::string errors[2];
    auto work = [&](Id mailbox, std::string* error) {
        try {
            auto catalog = f.backend->open();
            for (std::uint32_t uid = 1; uid <= 40; ++uid) {
                catalog->begin();
                catalog->add_message(f.message(mailbox, uid, 10));
                catalog->commit();
            }
        } catch (const std::exception& e) {
            *error = e.what();
        }
    };
    std::thread a(work, f.inbox, &errors[0]);
    std::thread b(work, other, &errors[1]);
    a.join();
    b.join();
    CHECK(errors[0].empty());
    CHECK(errors[1].empty());
    CHECK(f.catalog->messages(f.inbox).size() == 40);
    CHECK(f.catalog->messages(other).size() == 40);
}

TEST_CASE("messages_in returns the live rows of the asked UIDs under one UIDVALIDITY",
          "[store][catalog][bounded]") {
    CATALOG_FIXTURE(f);
    const Id other = f.save("Other");
    for (std::uint32_t uid = 1; uid <= 10; ++uid) f.add(f.inbox, uid, 1000);
    f.catalog->mark_expunged(f.catalog->find_message(f.inbox, 7, 4)->id, 1001,
                             "attic/work/cur/4:2,");
    auto stale = f.message(f.inbox, 5, 1000);
    stale.uidvalidity = 8;
    stale.file = "mail/work/cur/stale:2,";
    f.catalog->add_message(stale);
    auto elsewhere = f.message(other, 5, 1000);
    elsewhere.file = "mail/work/.Other/cur/5:2,";
    f.catalog->add_message(elsewhere);

    struct Case {
        std::string set;
        std::vector<std::uint32_t> expected;
    };
    const std::vector<Case> cases = {
        {"", {}},
        {"3:5,9,20:4294967295", {3, 5, 9}},
        {"1:4294967295", {1, 2, 3, 5, 6, 7, 8, 9, 10}},
        {"4", {}},
        {"11:12", {}},
    };
    for (const auto& c : cases) {
        INFO(c.set);
        const auto found = f.catalog->messages_in(f.inbox, 7, imapkeep::UidSet::parse(c.set));
        CHECK(uids(found) == c.expected);
        imapkeep::UidSet expected;
        for (auto uid : c.expected) expected.add(imapkeep::Uid(uid));
        CHECK(f.catalog->cataloged_uids(f.inbox, 7, imapkeep::UidSet::parse(c.set)) == expected);
        for (const auto& m : found) {
            CHECK(m.mailbox_id == f.inbox);
            CHECK(m.uidvalidity == 7u);
        }
    }
    CHECK(uids(f.catalog->messages_in(f.inbox, 8, imapkeep::UidSet::parse("1:4294967295"))) ==
          std::vector<std::uint32_t>{5});
}

TEST_CASE("known_flags_in returns what messages_in does, with only id, uid and flags",
          "[store][catalog][bounded]") {
    CATALOG_FIXTURE(f);
    for (std::uint32_t uid = 1; uid <= 10; ++uid) {
        auto m = f.message(f.inbox, uid, 1000);
        if (uid % 3 == 0) m.flags = {"\\Seen"};
        if (uid % 4 == 0) m.flags = {"$Label1", "\\Answered", "\\Flagged"};
        f.catalog->add_message(m);
    }
    f.catalog->mark_expunged(f.catalog->find_message(f.inbox, 7, 4)->id, 1001,
                             "attic/work/cur/4:2,");
    const auto seven = f.catalog->find_message(f.inbox, 7, 7)->id;
    f.catalog->update_flags(seven, {"\\Deleted", "\\Seen"}, 0, "mail/work/cur/7:2,ST", 1002);
    auto stale = f.message(f.inbox, 5, 1000);
    stale.uidvalidity = 8;
    stale.file = "mail/work/cur/stale:2,";
    f.catalog->add_message(stale);
    for (const char* set : {"", "3:5,9,20:4294967295", "1:4294967295", "4", "11:12"}) {
        for (std::size_t limit : {std::size_t{2}, std::size_t{5}, SIZE_MAX}) {
            INFO(set << ", at most " << limit);
            const auto whole =
                f.catalog->messages_in(f.inbox, 7, imapkeep::UidSet::parse(set), limit);
            const auto known =
                f.catalog->known_flags_in(f.inbox, 7, imapkeep::UidSet::parse(set), limit);
            REQUIRE(known.size() == whole.size());
            for (std::size_t i = 0; i < known.size(); ++i) {
                CHECK(known[i].id == whole[i].id);
                CHECK(known[i].uid == whole[i].uid);
                CHECK(known[i].flags == whole[i].flags);
            }
        }
    }
    const auto flagged = f.catalog->known_flags_in(f.inbox, 7, imapkeep::UidSet::parse("7:8"));
    REQUIRE(flagged.size() == 2);
    CHECK(flagged[0].flags == std::vector<std::string>{"\\Deleted", "\\Seen"});
    CHECK(flagged[1].flags == std::vector<std::string>{"$Label1", "\\Answered", "\\Flagged"});
    CHECK(f.catalog->known_flags_in(f.inbox, 8, imapkeep::UidSet::parse("1:4294967295")).size() ==
          1);
}

TEST_CASE("messages_by_id returns the asked rows in the order asked, expunged ones too",
          "[store][catalog]") {
    CATALOG_FIXTURE(f);
    std::vector<Id> ids;
    for (std::uint32_t uid = 1; uid <= 5; ++uid) ids.push_back(f.add(f.inbox, uid, 1000));
    f.catalog->mark_expunged(ids[3], 1001, "attic/work/cur/4:2,");
    struct Case {
        std::string what;
        std::vector<Id> asked;
        std::vector<std::uint32_t> expected;
    };
    const std::vector<Case> cases = {
        {"none", {}, {}},
        {"one", {ids[2]}, {3}},
        {"out of order, an expunged row among them", {ids[4], ids[0], ids[3]}, {5, 1, 4}},
        {"an id with no row is left out", {ids[1], ids[4] + 1000, ids[0]}, {2, 1}},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        const auto found = f.catalog->messages_by_id(c.asked);
        CHECK(uids(found) == c.expected);
        for (const auto& m : found) {
            const auto one = f.catalog->message_by_id(m.id);
            CHECK(std::tie(one->uid, one->file, one->expunged_at, one->flags) ==
                  std::tie(m.uid, m.file, m.expunged_at, m.flags));
        }
    }
    // Inside a transaction it sees the transaction's own rows.
    f.catalog->begin();
    const Id added = f.add(f.inbox, 6, 1002);
    CHECK(uids(f.catalog->messages_by_id({added})) == std::vector<std::uint32_t>{6});
    f.catalog->rollback();
    CHECK(f.catalog->messages_by_id({added}).empty());
}

TEST_CASE("the reads of several statements hold no snapshot once they return", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const Id first = f.add(f.inbox, 1, 1000);
    auto writer = f.backend->open();  // another connection
    const auto all = imapkeep::UidSet::parse("1:4294967295");
    const std::vector<std::pair<std::string, std::function<void()>>> reads = {
        {"messages_in", [&] { f.catalog->messages_in(f.inbox, 7, all); }},
        {"cataloged_uids", [&] { f.catalog->cataloged_uids(f.inbox, 7, all); }},
        {"messages_by_id", [&] { f.catalog->messages_by_id({first}); }},
    };
    std::uint32_t uid = 1;
    for (const auto& [what, read] : reads) {
        INFO(what);
        read();
        writer->add_message(f.message(f.inbox, ++uid, 1001));
        // A snapshot left open would not show the other connection's row.
        CHECK(f.catalog->cataloged_uids(f.inbox, 7, all).contains(imapkeep::Uid(uid)));
        f.add(f.inbox, uid + 100, 1002);  // and would refuse this write
    }
}

TEST_CASE("files_pending is set for a new mailbox, kept by save_mailbox, and cleared on request",
          "[store][catalog][orphans]") {
    CATALOG_FIXTURE(f);
    CHECK(f.catalog->files_pending(f.inbox));
    f.catalog->set_files_pending(f.inbox, false);
    CHECK_FALSE(f.catalog->files_pending(f.inbox));
    // A record read before the marker changed, saved later, does not touch it.
    auto record = *f.catalog->find_mailbox(f.account, "INBOX");
    f.catalog->set_files_pending(f.inbox, true);
    record.uidnext = 50;
    f.catalog->save_mailbox(record);
    CHECK(f.catalog->files_pending(f.inbox));
    f.catalog->set_files_pending(f.inbox, false);
    record.uidnext = 60;
    f.catalog->save_mailbox(record);
    CHECK_FALSE(f.catalog->files_pending(f.inbox));
    // Other mailboxes keep their own marker.
    CHECK(f.catalog->files_pending(f.save("Other")));
    CHECK_THROWS_AS(f.catalog->set_files_pending(9999, true), StoreError);
    CHECK(f.catalog->files_pending(9999));
}

TEST_CASE("for_each_live_file visits each live row of the mailbox once", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const Id other = f.save("Other");
    std::map<Id, std::string> live;
    for (std::uint32_t uid = 1; uid <= 6; ++uid) {
        const Id id = f.add(f.inbox, uid, 100);
        if (uid % 3 == 0)
            f.catalog->mark_expunged(id, 200, "attic/work/cur/x" + std::to_string(uid));
        else
            live[id] = f.message(f.inbox, uid, 100).file;
    }
    f.add(other, 1, 100);
    std::map<Id, std::string> seen;
    f.catalog->for_each_live_file(
        f.inbox, [&](Id id, const std::string& file) { CHECK(seen.emplace(id, file).second); });
    CHECK(seen == live);
}

TEST_CASE("for_each_message_key visits the key of each live row of the mailbox once", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const Id other = f.save("Other");
    using Key = std::tuple<std::string, std::int64_t, std::uint64_t>;
    std::map<Id, Key> live;
    for (std::uint32_t uid = 1; uid <= 6; ++uid) {
        auto m = f.message(f.inbox, uid, 100);
        if (uid == 2) m.message_id = "";  // none: visited as ""
        // A large size (above 2^31) and a date before 1970 read back as written.
        if (uid == 4) m.size = 5'000'000'000ull;
        if (uid == 5) m.internaldate = -86400;
        // Another UIDVALIDITY's live row is the mailbox's too.
        if (uid == 6) m.uidvalidity = 9;
        const Id id = f.catalog->add_message(m);
        if (uid == 3)
            f.catalog->mark_expunged(id, 200, "attic/work/cur/x3");
        else
            live[id] = {m.message_id, m.internaldate, m.size};
    }
    f.add(other, 1, 100);
    std::map<Id, Key> seen;
    f.catalog->for_each_message_key(f.inbox, [&](const MessageKey& k) {
        CHECK(seen.emplace(k.id, Key{std::string(k.message_id), k.internaldate, k.size}).second);
    });
    CHECK(seen == live);
}

TEST_CASE("add_messages adds all rows or none", "[store][catalog]") {
    CATALOG_FIXTURE(f);
    const auto ids =
        f.catalog->add_messages({f.message(f.inbox, 1, 100), f.message(f.inbox, 2, 100)});
    REQUIRE(ids.size() == 2);
    CHECK(f.catalog->message_by_id(ids[1])->uid == 2);
    CHECK(f.catalog->flag_history(ids[0]).size() == 1);
    CHECK(f.catalog->uid_history(ids[1]).size() == 1);
    // A second live row for UID 2 is refused, and takes UID 3 down with it.
    CHECK_THROWS_AS(
        f.catalog->add_messages({f.message(f.inbox, 3, 100), f.message(f.inbox, 2, 100)}),
        StoreError);
    CHECK(uids(f.catalog->messages(f.inbox)) == std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("a write that fails inside a transaction undoes itself and leaves the transaction usable",
          "[store][catalog]") {
    // SQLite undoes only the failed statement; PostgreSQL would abort the
    // whole transaction and refuse every later statement unless each write
    // has a savepoint of its own.
    struct Case {
        const char* what;
        std::function<void(Fixture&, Id message)> fail;
    };
    const std::vector<Case> cases = {
        {"add_message: a second live row for a UID", [](Fixture& f, Id) { f.add(f.inbox, 1, 10); }},
        {"add_messages: one row of the batch taken",
         [](Fixture& f, Id) {
             f.catalog->add_messages({f.message(f.inbox, 7, 10), f.message(f.inbox, 1, 10)});
         }},
        {"add_message: no such mailbox", [](Fixture& f, Id) { f.add(4242, 1, 10); }},
        {"save_mailbox: a second live mailbox of a name", [](Fixture& f, Id) { f.save("INBOX"); }},
        {"rekey_message: onto a live key",
         [](Fixture& f, Id message) {
             f.catalog->rekey_message(message, 7, 2, "mail/work/cur/x");
         }},
        {"add_restore_entry: no such message",
         [](Fixture& f, Id) {
             f.catalog->add_restore_entry({"home", "X", 99999, 0, 0, 1});
         }},
        {"set_gmail_message: no such message",
         [](Fixture& f, Id) {
             f.catalog->set_gmail_message({99999, 1, 1, {"A"}}, 10);
         }},
        {"mark_checked: no such mailbox",
         [](Fixture& f, Id) { f.catalog->mark_checked(9999, 1, ""); }},
    };
    const std::string backend = IMAPKEEP_CATALOG_BACKEND();
    INFO("catalog backend: " << backend);
    for (const auto& c : cases) {
        CATALOG_FIXTURE_ON(f, backend);
        INFO(c.what);
        const Id first = f.add(f.inbox, 1, 10);
        f.add(f.inbox, 2, 10);
        f.catalog->begin();
        f.catalog->update_flags(first, {"\\Seen"}, 5, "mail/work/cur/1:2,S", 20);
        CHECK_THROWS_AS(c.fail(f, first), StoreError);
        f.add(f.inbox, 3, 30);  // the transaction goes on
        f.catalog->commit();
        auto reader = f.backend->open();
        CHECK(uids(reader->messages(f.inbox)) == std::vector<std::uint32_t>{1, 2, 3});
        CHECK(reader->message_by_id(first)->flags == Flags{"\\Seen"});
        CHECK(reader->message_by_id(first)->uid == 1);
        CHECK(reader->mailboxes(f.account).size() == 1);
    }
}

TEST_CASE("strings the server chose keep their bytes, 8-bit ones too", "[store][catalog]") {
    // A server may send a Latin-1 Message-ID or an 8-bit mailbox name;
    // SQLite's TEXT keeps any bytes, and so must every backend.
    CATALOG_FIXTURE(f);
    const std::string name =
        "\xdc"
        "bersicht";  // Latin-1, not UTF-8
    MailboxRecord record;
    record.account_id = f.account;
    record.name = name;
    record.delimiter = "/";
    record.folder = ".&ANw-bersicht";  // folders are ASCII (maildir_names.hpp)
    const Id box = f.catalog->save_mailbox(record);
    auto m = f.message(box, 1, 10, {"$Caf\xe9", "\\Seen"});
    m.message_id = "<caf\xe9\x80@example.org>";
    const Id id = f.catalog->add_message(m);
    const auto found = f.catalog->find_mailbox(f.account, name);
    REQUIRE(found);
    CHECK(found->id == box);
    CHECK(found->name == name);
    const auto read = f.catalog->message_by_id(id);
    CHECK(read->message_id == m.message_id);
    CHECK(read->flags == Flags{"$Caf\xe9", "\\Seen"});
    f.catalog->set_gmail_message({id, 1, 2, {"Sch\xf6n"}}, 10);
    CHECK(f.catalog->gmail_message(id)->labels == std::vector<std::string>{"Sch\xf6n"});
    f.catalog->add_restore_entry({"home", name, id, 1, 1, 20});
    CHECK(f.catalog->restored("home", name, id));
    // Byte order, as SQLite's BINARY collation sorts: 0xFC after every ASCII letter.
    f.save("Zeta");
    std::vector<std::string> names;
    for (const auto& b : f.catalog->mailboxes(f.account)) names.push_back(b.name);
    CHECK(names == std::vector<std::string>{"INBOX", "Zeta", name});
}

TEST_CASE("files_in_dir lists the files of one directory, not of its subdirectories or siblings",
          "[store][catalog][orphans]") {
    CATALOG_FIXTURE(f);
    const std::vector<std::string> files = {
        "mail/work/cur/1:2,", "mail/work/cur/2:2,S", "mail/work/cur0/x",    "mail/work/cur/sub/y",
        "mail/work/new/3",    "mail/work/curl/4",    "attic/work/cur/5:2,", "mail/work/cu/6",
    };
    std::uint32_t uid = 0;
    for (const auto& file : files) {
        auto m = f.message(f.inbox, ++uid, 10);
        m.file = file;
        f.catalog->add_message(m);
    }
    f.catalog->mark_expunged(f.catalog->find_message(f.inbox, 7, 2)->id, 20, "mail/work/cur/2x");
    auto listed = f.catalog->files_in_dir("mail/work/cur");
    std::sort(listed.begin(), listed.end());
    CHECK(listed == std::vector<std::string>{"mail/work/cur/1:2,", "mail/work/cur/2x"});
    CHECK(f.catalog->files_in_dir("mail/work").empty());
}

TEST_CASE("catalog writers on several connections take turns without losing a write",
          "[store][catalog][lock]") {
    CATALOG_FIXTURE(f);
    constexpr int kThreads = 4, kEach = 30;
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto catalog = f.backend->open();
                for (int i = 0; i < kEach; ++i) {
                    catalog->begin();
                    catalog->ensure_account("t" + std::to_string(t) + "-" + std::to_string(i));
                    catalog->add_downloaded(f.account, 1, 1);
                    if (i % 7 == 0) {
                        catalog->rollback();  // a rolled-back writer frees the lock too
                    } else {
                        catalog->commit();
                    }
                }
            } catch (const std::exception& e) {
                errors[t] = e.what();
            }
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e.empty());
    int committed = 0;
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kEach; ++i) {
            const bool kept = i % 7 != 0;
            committed += kept;
            CHECK(f.catalog->find_account("t" + std::to_string(t) + "-" + std::to_string(i))
                      .has_value() == kept);
        }
    CHECK(f.catalog->downloaded_on(f.account, 1) == static_cast<std::uint64_t>(committed));
}

TEST_CASE("add_messages returns each row's id in the order given, for a batch of any size",
          "[store][catalog]") {
    CATALOG_FIXTURE(f);
    std::vector<MessageRecord> batch;
    for (std::uint32_t uid = 600; uid >= 1; --uid) batch.push_back(f.message(f.inbox, uid, 10));
    const auto ids = f.catalog->add_messages(batch);
    REQUIRE(ids.size() == batch.size());
    for (std::size_t i = 0; i < ids.size(); i += 97) {
        INFO("row " << i);
        const auto m = f.catalog->message_by_id(ids[i]);
        REQUIRE(m);
        CHECK(m->uid == batch[i].uid);
        CHECK(f.catalog->flag_history(ids[i]).size() == 1);
        CHECK(f.catalog->uid_history(ids[i]).at(0).uid == batch[i].uid);
    }
    CHECK(f.catalog->messages(f.inbox).size() == 600);
}
