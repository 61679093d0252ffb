// imapkeep backup against the real Dovecot and Cyrus: first run byte-identical, then each
// kind of server change reaches the store, over each sync path; a second run
// changes nothing; stop-after-step-N then resume equals an uninterrupted run.
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/util/imap_date.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string sample_message(int i, const std::string& tag) {
    std::string m = "From: Sender " + std::to_string(i) + " <s" + std::to_string(i) + "@example.org>\r\n";
    m += "To: me@example.org\r\n";
    m += "Subject: " + tag + " message " + std::to_string(i) + "\r\n";
    m += "Message-ID: <" + tag + "." + std::to_string(i) + "@example.org>\r\n";
    m += "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n";
    for (int line = 0; line < 3 + i % 5; ++line)
        m += "Line " + std::to_string(line) + " of message " + std::to_string(i) + "\r\n";
    if (i % 3 == 0) m += "From the middle of a line\r\n";
    return m;
}

struct Server {
    imap::ConnectOptions options;
    std::unique_ptr<imap::Client> c;
    std::string delim;
    explicit Server(ServerKind kind)
        : options(server_options(kind)), c(imap::connect_and_login(options)) {
        auto entries = c->list("", "");
        delim = entries.empty() ? "." : entries[0].delimiter;
    }
    void append(const std::string& box, int i, const std::string& tag,
                std::vector<std::string> flags = {}) {
        std::string date = util::format_imap_datetime(1700000000 + i * 3600, 3600 * (i % 3));
        c->append(box, flags, date, sample_message(i, tag));
    }
    std::map<std::uint32_t, std::pair<std::string, std::vector<std::string>>> contents(
        const std::string& box) {
        std::map<std::uint32_t, std::pair<std::string, std::vector<std::string>>> out;
        c->select(box, true);
        UidSet all;
        all.add_range(Uid(1), Uid(0xFFFFFFFFu));
        c->uid_fetch(all, imap::FetchItems().uid().flags().body_peek(), [&](imap::FetchData& d) {
            out[d.uid->value] = {d.body, store::normalize_flags(d.flags.value_or(std::vector<std::string>{}))};
        });
        c->unselect();
        return out;
    }
    void store_flags(const std::string& box, const std::string& uids, const imap::StoreFlags& change) {
        c->select(box, false);
        REQUIRE_NOTHROW(c->uid_store(UidSet::parse(uids), change));
        c->close();
    }
    void expunge(const std::string& box, const std::string& uids) {
        store_flags(box, uids, imap::StoreFlags::add({"\\Deleted"}).silent());
        c->select(box, false);
        REQUIRE(c->run("UID EXPUNGE", {wire::Arg::raw(uids)}).ok());
        c->close();
    }
    void drop(const std::string& prefix) {
        for (const auto& e : c->list("", prefix + "*"))
            try {
                c->delete_mailbox(e.name);
            } catch (...) {
            }
    }
};

sync::AccountConfig account_for(const std::string& prefix, const std::string& delim,
                                const std::string& path,
                                const imap::ConnectOptions& connect) {
    sync::AccountConfig a;
    a.name = "it";
    a.connect = connect;
    a.mailboxes = {prefix, prefix + delim + "*"};
    a.connections = 2;
    a.connection_cost = {};  // both open, however small the change: workers side by side
    a.sync_path = path;
    return a;
}

// Store and server agree: same UIDs, bytes, flags (catalog and file suffix), mtime.
void check_mirrors(Server& server, Store& store, const std::string& box) {
    auto expected = server.contents(box);
    auto account = store.catalog->find_account("it");
    REQUIRE(account);
    auto mb = store.catalog->find_mailbox(*account, box);
    REQUIRE(mb);
    auto rows = store.catalog->messages(mb->id);
    REQUIRE(rows.size() == expected.size());
    for (const auto& m : rows) {
        INFO(box << " uid " << m.uid);
        REQUIRE(expected.count(m.uid));
        const auto& [body, flags] = expected[m.uid];
        auto path = store.messages->absolute(m.file);
        CHECK(store::digest_original(path, m.line_endings).sha256 == util::sha256_hex(body));
        CHECK(m.sha256 == util::sha256_hex(body));
        CHECK(m.flags == flags);
        CHECK(path.find(":2," + store::maildir_flag_suffix(flags)) != std::string::npos);
        // Also after a UIDVALIDITY re-match: the name carries the current UID.
        CHECK(path.find(",U=" + std::to_string(m.uid) + ":2,") != std::string::npos);
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK(st.st_mtime == m.internaldate);
    }
}

const sync::MailboxReport* find(const sync::AccountReport& r, const std::string& name) {
    for (const auto& m : r.mailboxes)
        if (m.name == name) return &m;
    return nullptr;
}

}  // namespace

TEST_CASE("backup mirrors the server and follows every kind of change", "[integration][backup]") {
    for (auto kind : servers_under_test())
    for (std::string path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(server_name(kind) << ", sync path " << path) {
            Server server(kind);
            const std::string p = unique_name("ikb");
            const std::string d = server.delim;
            const std::string sub = p + d + "Sub";
            server.c->create(p);
            server.c->create(sub);
            for (int i = 1; i <= 6; ++i) server.append(p, i, p, i % 2 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{});
            for (int i = 7; i <= 9; ++i) server.append(sub, i, p, {"$Work", "\\Flagged"});
            TempDir dir;
            Store store(dir.path);
            auto account = account_for(p, d, path, server.options);

            auto first = store.backup(account);
            REQUIRE(first.error.empty());
            REQUIRE(find(first, p));
            CHECK(find(first, p)->new_messages == 6);
            CHECK(find(first, sub)->new_messages == 3);
            for (const auto& m : first.mailboxes) CHECK(m.errors.empty());
            check_mirrors(server, store, p);
            check_mirrors(server, store, sub);

            // A run with no changes touches nothing.
            auto before = snapshot(store, "it");
            auto idle = store.backup(account);
            for (const auto& m : idle.mailboxes) {
                INFO(m.name << " " << m.path);
                CHECK(m.new_messages == 0);
                CHECK(m.flag_changes == 0);
                CHECK(m.expunged == 0);
                if (path != "plain") CHECK(m.path == "unchanged");
            }
            CHECK(snapshot(store, "it") == before);

            // Flags set and cleared (keywords too), expunges, new mail.
            server.store_flags(p, "1:2", imap::StoreFlags::add({"\\Answered", "$Important"}));
            server.store_flags(p, "1", imap::StoreFlags::remove({"\\Seen"}));
            server.expunge(p, "3");
            server.append(p, 10, p, {"\\Draft"});
            auto second = store.backup(account);
            const auto* r = find(second, p);
            REQUIRE(r);
            CHECK(r->new_messages == 1);
            CHECK(r->flag_changes == 2);
            CHECK(r->expunged == 1);
            check_mirrors(server, store, p);
            // The expunged message moved to the attic with its bytes.
            auto acct = *store.catalog->find_account("it");
            auto mb = *store.catalog->find_mailbox(acct, p);
            bool in_attic = false;
            for (const auto& m : store.catalog->all_messages(mb.id)) {
                if (m.uid != 3) continue;
                REQUIRE(m.expunged_at);
                in_attic = m.file.rfind("attic/", 0) == 0 &&
                           std::filesystem::exists(store.messages->absolute(m.file));
                CHECK(store::digest_original(store.messages->absolute(m.file), m.line_endings).sha256 ==
                      m.sha256);
            }
            CHECK(in_attic);
            // Flag history keeps the earlier state.
            for (const auto& m : store.catalog->messages(mb.id))
                if (m.uid == 1) CHECK(store.catalog->flag_history(m.id).size() >= 2);

            // Mailboxes created, renamed and deleted.
            const std::string created = p + d + "New";
            const std::string renamed = p + d + "Moved";
            server.c->create(created);
            server.append(created, 11, p);
            server.c->rename_mailbox(sub, renamed);
            auto third = store.backup(account);
            REQUIRE(find(third, created));
            CHECK(find(third, created)->new_messages == 1);
            const auto* moved = find(third, renamed);
            REQUIRE(moved);
            // Cyrus proves it by MAILBOXID (RFC 8474), Dovecot by UIDVALIDITY
            // and a sample of the messages.
            CHECK(moved->renamed);
            CHECK(moved->renamed_from == sub);
            check_mirrors(server, store, renamed);
            CHECK_FALSE(store.catalog->find_mailbox(acct, sub).has_value());
            auto renamed_again = store.backup(account);
            for (const auto& m : renamed_again.mailboxes) CHECK(m.new_messages == 0);

            server.c->delete_mailbox(created);
            auto fourth = store.backup(account);
            const auto* gone = find(fourth, created);
            REQUIRE(gone);
            CHECK(gone->deleted);
            for (const auto& e : gone->errors) WARN(e);
            CHECK(gone->errors.empty());
            auto deleted_box = store.catalog->find_mailbox(acct, created);
            REQUIRE(deleted_box);
            CHECK(deleted_box->deleted_at);
            CHECK_FALSE(std::filesystem::exists(dir.path / "mail" / "it" / deleted_box->folder));
            for (const auto& m : store.catalog->all_messages(deleted_box->id)) {
                CHECK(m.expunged_at);
                CHECK(std::filesystem::exists(store.messages->absolute(m.file)));
            }

            // UIDVALIDITY reset: same messages in a re-created mailbox download
            // nothing. Deleting and re-creating a mailbox under the same name
            // through IMAP is how both servers give it a new UIDVALIDITY; Cyrus
            // (MAILBOXID, RFC 8474) also gives it a new MAILBOXID, and the
            // mailbox is still the catalog's one of that name, re-keyed.
            auto kept = server.contents(renamed);
            server.c->delete_mailbox(renamed);
            server.c->create(renamed);
            for (int i = 7; i <= 9; ++i) server.append(renamed, i, p, {"$Work", "\\Flagged"});
            auto fifth = store.backup(account);
            const auto* reset = find(fifth, renamed);
            REQUIRE(reset);
            CHECK(reset->uidvalidity_reset);
            CHECK(reset->new_messages == 0);
            CHECK(reset->expunged == 0);
            check_mirrors(server, store, renamed);

            server.drop(p);
        }
    }
}

TEST_CASE("backup stopped after any step and resumed equals an uninterrupted run",
          "[integration][backup][crash]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Server server(kind);
            const std::string p = unique_name("ikc");
            const std::string d = server.delim;
            server.c->create(p);
            server.c->create(p + d + "B");
            for (int i = 1; i <= 5; ++i) server.append(p, i, p);
            for (int i = 6; i <= 7; ++i) server.append(p + d + "B", i, p);
            server.c->create(p + d + "Gone");
            server.append(p + d + "Gone", 11, p);
            auto account = account_for(p, d, "", server.options);
            account.connections = 1;  // steps in a fixed order

            // The scenario: a first backup, then server changes, then a second backup.
            // Each run is interrupted after N steps, resumed, and compared.
            auto change_server = [&] {
                server.store_flags(p, "1", imap::StoreFlags::add({"\\Seen", "$Done"}));
                server.expunge(p, "2");
                server.append(p, 8, p);
                server.append(p + d + "B", 9, p);
                server.c->rename_mailbox(p + d + "B", p + d + "B2");
                server.c->create(p + d + "C");
                server.append(p + d + "C", 10, p);
                server.c->delete_mailbox(p + d + "Gone");
            };
            TempDir ref_dir;
            Store reference(ref_dir.path);
            REQUIRE(reference.backup(account).error.empty());
            auto ref_first = snapshot(reference, "it");

            // Runs the backup stopped after step N for N = 1, 2, ... until it completes,
            // each time from a copy of `start` (empty: a new store), then resumes it and
            // compares with `expected`. Returns how many steps the whole run has.
            auto check_every_stop = [&](const std::filesystem::path& start, const Snapshot& expected) {
                for (std::uint64_t n = 1; n < 60; ++n) {
                    TempDir dir;
                    if (!start.empty())
                        std::filesystem::copy(start, dir.path, std::filesystem::copy_options::recursive |
                                                                   std::filesystem::copy_options::overwrite_existing);
                    Store s(dir.path);
                    bool stopped = false;
                    try {
                        s.backup(account, n);
                    } catch (const sync::StopRequested&) {
                        stopped = true;
                    }
                    s.open();
                    s.backup(account);
                    INFO("stopped after step " << n);
                    CHECK(snapshot(s, "it") == expected);
                    if (!stopped) return n;
                }
                return std::uint64_t{0};
            };
            CHECK(check_every_stop({}, ref_first) > 3);

            change_server();
            // Every interrupted second run starts from a copy of the reference store
            // after the first run, so each N sees the same starting point.
            TempDir base_dir;
            reference.catalog.reset();  // a closed catalog copies consistently
            std::filesystem::copy(ref_dir.path, base_dir.path, std::filesystem::copy_options::recursive |
                                                                   std::filesystem::copy_options::overwrite_existing);
            reference.open();
            REQUIRE(reference.backup(account).error.empty());
            CHECK(check_every_stop(base_dir.path, snapshot(reference, "it")) > 5);
            server.drop(p);
        }
}

TEST_CASE("without LIST-STATUS or ESEARCH the backup still skips and diffs correctly",
          "[integration][backup]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Server server(kind);
            const std::string p = unique_name("ikn");
            server.c->create(p);
            for (int i = 1; i <= 4; ++i) server.append(p, i, p);
            auto account = account_for(p, server.delim, "condstore", server.options);
            account.connect.client.disabled_capabilities = {"LIST-STATUS", "ESEARCH", "QRESYNC"};
            std::vector<std::string> sent;
            account.connect.client.trace = [&](std::string_view line) {
                if (line.rfind("C: ", 0) == 0) sent.emplace_back(line);
            };
            account.connections = 1;
            TempDir dir;
            Store store(dir.path);
            REQUIRE(store.backup(account).error.empty());
            for (const auto& line : sent) CHECK(line.find("RETURN (STATUS") == std::string::npos);

            sent.clear();
            auto idle = store.backup(account);
            REQUIRE(idle.mailboxes.size() == 1);
            CHECK(idle.mailboxes[0].path == "unchanged");
            bool examined = false;
            for (const auto& line : sent) examined |= line.find("EXAMINE") != std::string::npos;
            CHECK_FALSE(examined);  // one STATUS sufficed

            server.expunge(p, "2");
            server.store_flags(p, "3", imap::StoreFlags::add({"\\Seen"}));
            auto changed = store.backup(account);
            REQUIRE(changed.mailboxes.size() == 1);
            CHECK(changed.mailboxes[0].expunged == 1);
            CHECK(changed.mailboxes[0].flag_changes == 1);
            check_mirrors(server, store, p);
            server.drop(p);
        }
}

TEST_CASE("expunged = mirror deletes locally what the server expunged", "[integration][backup]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Server server(kind);
            const std::string p = unique_name("ikm");
            server.c->create(p);
            for (int i = 1; i <= 3; ++i) server.append(p, i, p);
            auto account = account_for(p, server.delim, "", server.options);
            account.expunged = sync::ExpungedPolicy::Mirror;
            TempDir dir;
            Store store(dir.path);
            REQUIRE(store.backup(account).error.empty());
            auto acct = *store.catalog->find_account("it");
            auto mb = *store.catalog->find_mailbox(acct, p);
            std::string file_of_2;
            for (const auto& m : store.catalog->messages(mb.id))
                if (m.uid == 2) file_of_2 = store.messages->absolute(m.file);
            REQUIRE(std::filesystem::exists(file_of_2));

            server.expunge(p, "2");
            auto r = store.backup(account);
            REQUIRE(r.mailboxes.size() == 1);
            CHECK(r.mailboxes[0].expunged == 1);
            CHECK_FALSE(std::filesystem::exists(file_of_2));
            CHECK(store.catalog->all_messages(mb.id).size() == 2);
            const auto attic = dir.path / "attic" / "it" / mb.folder / "cur";
            const bool attic_has_files = std::filesystem::exists(attic) && !std::filesystem::is_empty(attic);
            CHECK_FALSE(attic_has_files);
            check_mirrors(server, store, p);
            server.drop(p);
        }
}
