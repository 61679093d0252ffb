// A UIDVALIDITY change in place (doveadm mailbox update --uid-validity, as an
// index rebuild or a migration gives it) on the real Dovecot: the backup
// re-matches its rows by Message-ID + INTERNALDATE + size, takes the server's
// flags for the matched ones, and downloads again only what the key cannot
// tell apart (no Message-ID, a key two messages share); rows the server no
// longer has go to the attic. The whole path: catalog keys, listing, plan and
// the durable step. And what that run holds per message, on the heap of this
// process (the server is another one).
#include <imapkeep/store/flags.hpp>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/util/imap_date.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "integration/backup_support.hpp"
#include "largest_allocation.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string message(const std::string& id_header, int i) {
    return "From: a@example.org\r\nSubject: re-match " + std::to_string(i) + "\r\n" + id_header +
           "\r\n\r\nBody of message " + std::to_string(i) + "\r\n";
}

using Contents = std::map<std::uint32_t, std::pair<std::string, std::vector<std::string>>>;

Contents on_server(imap::Client& c, const std::string& box) {
    Contents out;
    c.select(box, true);
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    c.uid_fetch(all, imap::FetchItems().uid().flags().body_peek(), [&](imap::FetchData& d) {
        out[d.uid->value] = {d.body, store::normalize_flags(d.flags.value_or(std::vector<std::string>{}))};
    });
    c.unselect();
    return out;
}

std::string doveadm() { return *env("IMAPKEEP_TEST_DOVEADM"); }

// Gives the test Dovecot's mailbox `box` of `user` a new UIDVALIDITY, above its current one.
void new_uidvalidity(imap::Client& c, const std::string& user, const std::string& box, std::uint32_t step) {
    const auto old_uidvalidity = c.select(box, true).uidvalidity.value;
    c.unselect();
    const std::string update = doveadm() + " mailbox update -u " + user + " --uid-validity " +
                               std::to_string(old_uidvalidity + step) + " " + box;
    REQUIRE(std::system(update.c_str()) == 0);
}

// `n` small messages into a new mailbox `box` of `user`, in one doveadm import
// of a Maildir++ written here (n APPENDs would take minutes).
void import_messages(const std::string& user, const std::string& box, std::uint32_t n) {
    TempDir source;
    namespace fs = std::filesystem;
    for (const std::string& dir : {std::string(), "." + box + "/"})
        for (const char* leaf : {"cur", "new", "tmp"}) fs::create_directories(source.path / (dir + leaf));
    for (std::uint32_t i = 1; i <= n; ++i) {
        const std::string name = std::to_string(1600000000 + i) + ".M" + std::to_string(i) + ".it:2,S";
        std::ofstream out(source.path / ("." + box) / "cur" / name, std::ios::binary);
        out << message("Message-ID: <" + box + "." + std::to_string(i) + "@x>", static_cast<int>(i));
    }
    // doveadm works as the mail user, who must be able to write its index files there.
    for (const auto& e : fs::recursive_directory_iterator(source.path))
        if (e.is_directory()) fs::permissions(e.path(), fs::perms::all);
    fs::permissions(source.path, fs::perms::all);
    const std::string import = doveadm() + " -o mail_fsync=never import -u " + user + " maildir:" +
                               source.path.string() + " '' mailbox " + box + " all";
    REQUIRE(std::system(import.c_str()) == 0);
}

// The account that backs up `box` alone on the test Dovecot.
sync::AccountConfig account_for(const imap::ConnectOptions& options, const std::string& box,
                                const std::string& path = "") {
    sync::AccountConfig account;
    account.name = "it";
    account.connect = options;
    account.mailboxes = {box};
    account.sync_path = path;
    return account;
}

}  // namespace

TEST_CASE("a UIDVALIDITY change in place downloads only what the key cannot tell apart",
          "[integration][backup][rematch]") {
    if (!test_env_has({"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_DOVEADM"}, "the test Dovecot and its doveadm"))
        return;
    for (std::string path : {"qresync", "plain"}) {
        DYNAMIC_SECTION("sync path " << path) {
            auto options = dovecot_options();
            auto c = imap::connect_and_login(options);
            const std::string box = unique_name("ikrematch");
            c->create(box);
            const std::string date = util::format_imap_datetime(1700000000, 3600);
            auto append = [&](const std::string& id_header, int i, std::vector<std::string> flags = {}) {
                c->append(box, flags, util::format_imap_datetime(1700000000 + i * 60, 3600), message(id_header, i));
            };
            for (int i = 1; i <= 4; ++i) append("Message-ID: <" + box + "." + std::to_string(i) + "@x>", i, {"\\Seen"});
            append("X-No-Id: 5", 5);
            // Two messages alike in Message-ID, INTERNALDATE and size.
            for (int copy = 0; copy < 2; ++copy)
                c->append(box, {}, date, message("Message-ID: <" + box + ".dup@x>", 6));
            append("Message-ID: <" + box + ".8@x>", 8);

            TempDir dir;
            Store store(dir.path);
            const auto account = account_for(options, box, path);
            auto first = store.backup(account);
            REQUIRE(first.error.empty());
            REQUIRE(first.mailboxes.size() == 1);
            CHECK(first.mailboxes[0].new_messages == 8);

            // While the backup was away: a flag changed, one message expunged;
            // then the new UIDVALIDITY, then a new message.
            c->select(box, false);
            REQUIRE_NOTHROW(c->uid_store(UidSet::parse("2"), imap::StoreFlags::add({"$Important"})));
            REQUIRE_NOTHROW(c->uid_store(UidSet::parse("8"), imap::StoreFlags::add({"\\Deleted"}).silent()));
            REQUIRE(c->run("UID EXPUNGE", {wire::Arg::raw("8")}).ok());
            const auto old_uidvalidity = c->select(box, true).uidvalidity.value;
            c->unselect();
            new_uidvalidity(*c, options.user, box, 1000);
            append("Message-ID: <" + box + ".9@x>", 9);

            auto second = store.backup(account);
            REQUIRE(second.error.empty());
            REQUIRE(second.mailboxes.size() == 1);
            const auto& r = second.mailboxes[0];
            for (const auto& e : r.errors) WARN(e);
            CHECK(r.errors.empty());
            CHECK(r.uidvalidity_reset);
            // Again: the one without Message-ID, the two alike, the new one.
            CHECK(r.new_messages == 4);
            // To the attic: those three old rows and the expunged one.
            CHECK(r.expunged == 4);

            const auto acct = *store.catalog->find_account("it");
            const auto mb = *store.catalog->find_mailbox(acct, box);
            CHECK(mb.uidvalidity == old_uidvalidity + 1000);
            auto expected = on_server(*c, box);
            auto rows = store.catalog->messages(mb.id);
            REQUIRE(rows.size() == expected.size());
            for (const auto& m : rows) {
                INFO("uid " << m.uid);
                REQUIRE(expected.count(m.uid));
                const auto& [body, flags] = expected[m.uid];
                CHECK(m.uidvalidity == old_uidvalidity + 1000);
                CHECK(m.sha256 == util::sha256_hex(body));
                CHECK(m.flags == flags);
                const auto file = store.messages->absolute(m.file);
                CHECK(store::digest_original(file, m.line_endings).sha256 == m.sha256);
                CHECK(file.find(",U=" + std::to_string(m.uid) + ":2," + store::maildir_flag_suffix(flags)) !=
                      std::string::npos);
            }
            std::size_t in_attic = 0;
            for (const auto& m : store.catalog->all_messages(mb.id)) {
                if (!m.expunged_at) continue;
                ++in_attic;
                CHECK(m.file.rfind("attic/", 0) == 0);
                CHECK(store::digest_original(store.messages->absolute(m.file), m.line_endings).sha256 == m.sha256);
            }
            CHECK(in_attic == 4);
            // A second run finds nothing to do.
            auto third = store.backup(account);
            REQUIRE(third.mailboxes.size() == 1);
            CHECK(third.mailboxes[0].new_messages == 0);
            CHECK(third.mailboxes[0].expunged == 0);
            CHECK_FALSE(third.mailboxes[0].uidvalidity_reset);
            c->delete_mailbox(box);
        }
    }
}

TEST_CASE("a backup after a UIDVALIDITY change holds a bounded number of bytes per message",
          "[integration][backup][rematch][memory]") {
    if (!test_env_has({"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_DOVEADM"}, "the test Dovecot and its doveadm"))
        return;
    constexpr std::uint32_t n = 20000;
    // The whole run: EXAMINE, the re-match (catalog keys, listing, plan,
    // durable step), the listing of new mail from UID 1, reading Dovecot's
    // replies as they stream. The re-match alone holds about 66 bytes a
    // message (tests/sync/rematch_memory_test.cpp); the old one held each
    // catalog row and two ordered maps of strings, over 1 KB a message. The
    // listing of new mail that follows finds every UID cataloged: it keeps
    // no size for them (it kept a map of all, 48 bytes a message).
    constexpr std::size_t kBytesPerMessage = 80;
    auto options = dovecot_options();
    auto c = imap::connect_and_login(options);
    const std::string box = unique_name("ikrematchmem");
    import_messages(options.user, box, n);

    TempDir dir;
    Store store(dir.path);
    const auto account = account_for(options, box);
    auto first = store.backup(account);
    REQUIRE(first.error.empty());
    REQUIRE(first.mailboxes.size() == 1);
    REQUIRE(first.mailboxes[0].new_messages == n);
    new_uidvalidity(*c, options.user, box, 1000);

    const std::size_t before = reset_peak_heap();
    auto second = store.backup(account);
    const std::size_t held = g_peak_bytes.load() - before;
    REQUIRE(second.error.empty());
    REQUIRE(second.mailboxes.size() == 1);
    const auto& r = second.mailboxes[0];
    CHECK(r.errors.empty());
    CHECK(r.uidvalidity_reset);
    CHECK(r.new_messages == 0);
    CHECK(r.expunged == 0);
    c->delete_mailbox(box);
    INFO("peak heap above the start: " << held << " bytes, " << held / n << " a message");
    if (kCountsAllocations) CHECK(held < n * kBytesPerMessage);
}
