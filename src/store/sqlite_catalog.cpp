// SQLite implementation of Catalog (see sqlite_catalog.hpp for the connection
// settings and why). Every multi-statement method runs in its own (nested)
// transaction so it is atomic whatever the caller does.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <string>
#include <thread>
#include <tuple>

#include "store/catalog_write_lock.hpp"
#include "store/migrations.hpp"
#include "store/sqlite_db.hpp"

namespace imapkeep::store {
namespace {

constexpr const char* kMailboxColumns =
    "id, account_id, name, delimiter, folder, uidvalidity, uidnext, highestmodseq, mailboxid, "
    "sync_path, last_sync_at, deleted_at, folder_stamp";

constexpr const char* kMessageColumns =
    "m.id, m.mailbox_id, m.uidvalidity, m.uid, m.internaldate, m.internaldate_zone, m.size, "
    "m.sha256, m.message_id, m.flags, m.modseq, m.file, m.added_at, m.expunged_at, m.line_endings";

MailboxRecord read_mailbox(const Statement& s) {
    MailboxRecord r;
    r.id = s.int64(0);
    r.account_id = s.int64(1);
    r.name = s.text(2);
    r.delimiter = s.text(3);
    r.folder = s.text(4);
    r.uidvalidity = static_cast<std::uint32_t>(s.int64(5));
    r.uidnext = static_cast<std::uint32_t>(s.int64(6));
    r.highestmodseq = static_cast<std::uint64_t>(s.int64(7));
    r.mailboxid = s.text(8);
    r.sync_path = s.text(9);
    r.last_sync_at = s.optional_int64(10);
    r.deleted_at = s.optional_int64(11);
    r.folder_stamp = s.text(12);
    return r;
}

MessageRecord read_message(const Statement& s) {
    MessageRecord r;
    r.id = s.int64(0);
    r.mailbox_id = s.int64(1);
    r.uidvalidity = static_cast<std::uint32_t>(s.int64(2));
    r.uid = static_cast<std::uint32_t>(s.int64(3));
    r.internaldate = s.int64(4);
    r.internaldate_zone = static_cast<int>(s.int64(5));
    r.size = static_cast<std::uint64_t>(s.int64(6));
    r.sha256 = s.text(7);
    r.message_id = s.text(8);
    r.flags = split_flags(s.text(9));
    r.modseq = static_cast<std::uint64_t>(s.int64(10));
    r.file = s.text(11);
    r.added_at = s.int64(12);
    r.expunged_at = s.optional_int64(13);
    const auto form = parse_line_endings(s.text(14));
    // The schema's CHECK allows no other value; a newer imapkeep's would be refused by the version.
    if (!form)
        throw StoreError("message " + std::to_string(r.id) + ": unknown line_endings " +
                         s.text(14));
    r.line_endings = *form;
    return r;
}

KnownFlags read_known_flags(const Statement& s) {
    return {s.int64(0), static_cast<std::uint32_t>(s.int64(1)), split_flags(s.text(2))};
}

// Labels sorted, deduplicated, joined with LF (no label holds a line break:
// the server sends them as atoms or quoted strings).
std::string join_labels(std::vector<std::string> labels) {
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    std::string out;
    for (const auto& l : labels) out += (out.empty() ? "" : "\n") + l;
    return out;
}

std::vector<std::string> split_labels(const std::string& joined) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < joined.size()) {
        auto end = joined.find('\n', pos);
        if (end == std::string::npos) end = joined.size();
        out.push_back(joined.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

// IMAP's unsigned values all fit SQLite's signed 64-bit INTEGER: UIDs are 32-bit
// and mod-sequences are at most 2^63-1 (RFC 7162 §7, mod-sequence-value).
std::int64_t to_db(std::uint64_t v) { return static_cast<std::int64_t>(v); }

class SqliteCatalog final : public Catalog {
  public:
    explicit SqliteCatalog(const std::string& path)
        : m_db(path), m_write_lock(CatalogWriteLock::for_file(path)) {
        set_up(path);
    }

    // In memory, starting as a copy of `source` (or empty when there is none).
    struct Snapshot {};
    SqliteCatalog(Snapshot, const std::string& source) : m_db(":memory:") {
        if (std::filesystem::exists(source)) m_db.copy_from(source);
        set_up(":memory:");
    }

  private:
    void set_up(const std::string& path) {
        if (m_write_lock) {
            m_db.on_busy([this](int count) { return wait_when_busy(count); });
        } else {
            m_db.exec("PRAGMA busy_timeout = 10000");
        }
        // Before anything writes (switching to WAL rewrites the header): a
        // newer catalog is refused untouched.
        if (const auto version = m_db.pragma_int("user_version");
            version > catalog_schema_version())
            throw StoreError("catalog " + path + ": schema version " + std::to_string(version) +
                             " is newer than this imapkeep supports (" +
                             std::to_string(catalog_schema_version()) +
                             "); upgrade imapkeep to open it");
        m_db.exec("PRAGMA journal_mode = WAL");
        if (path != ":memory:" && m_db.pragma_text("journal_mode") != "wal")
            throw StoreError("catalog " + path +
                             ": cannot use WAL journal mode (is it on a network file system?)");
        if (path != ":memory:") m_db.keep_log_at_close();
        if (m_write_lock) {
            m_db.group_commits(std::shared_ptr<WalGroupSync>(m_write_lock, &m_write_lock->log_sync()));
            m_db.checkpoint_in_background(
                std::shared_ptr<WalCheckpointer>(m_write_lock, &m_write_lock->checkpointer()));
            keep_log_short(path);
        } else {
            m_db.exec("PRAGMA synchronous = FULL");
        }
        m_db.exec("PRAGMA foreign_keys = ON");
        // Statement journals (every INSERT inside a batch transaction) in memory,
        // not as temp files: they only matter while the process lives.
        m_db.exec("PRAGMA temp_store = MEMORY");
        apply_migrations(m_db, compiled_migrations());
    }

    // wal_checkpointer.hpp: the log starts again at its head after a whole
    // checkpoint, its file cut to kShortLogBytes, and a long one found here
    // is checkpointed beside the run.
    void keep_log_short(const std::string& path) {
        m_db.exec("PRAGMA journal_size_limit = " + std::to_string(kShortLogBytes));
        std::error_code ec;
        const auto log_bytes = std::filesystem::file_size(path + "-wal", ec);
        if (!ec) m_write_lock->checkpointer().log_opened(log_bytes);
    }

  public:
    ~SqliteCatalog() override {
        if (m_depth > 0) {
            m_depth = 1;
            rollback();
        }
    }

    void begin() override {
        if (m_depth == 0) {
            begin_outermost();
        } else {
            run_cached("SAVEPOINT " + savepoint(m_depth));
        }
        ++m_depth;
    }

    void commit() override {
        if (m_depth == 0) throw StoreError("catalog: commit() without begin()");
        // Decrement only once the statement worked: a failed COMMIT leaves the
        // transaction open for the caller's rollback().
        if (m_depth > 1) {
            run_cached("RELEASE " + savepoint(m_depth - 1));
            --m_depth;
            return;
        }
        // The log's sync waits until the write lock is free: the next writer
        // works while the disk does, and may share the sync (group commit).
        m_db.defer_log_sync(true);
        try {
            run_cached("COMMIT");
        } catch (...) {
            m_db.defer_log_sync(false);
            throw;
        }
        m_db.defer_log_sync(false);
        --m_depth;
        release_write_lock();
        m_db.make_durable();
    }

    void rollback() noexcept override {
        if (m_depth == 0) return;
        try {
            if (m_depth == 1) {
                m_db.exec("ROLLBACK");
            } else {
                const auto name = savepoint(m_depth - 1);
                run_cached("ROLLBACK TO " + name);
                run_cached("RELEASE " + name);
            }
        } catch (const StoreError&) {
            // SQLite may already have rolled back on its own (I/O error, full disk).
        }
        --m_depth;
        if (m_depth == 0) release_write_lock();
    }

    Id ensure_account(const std::string& name) override {
        m_db.prepare("INSERT INTO account(name) VALUES (?1) ON CONFLICT(name) DO NOTHING")
            .bind(1, name)
            .run();
        return *find_account(name);
    }

    std::optional<Id> find_account(const std::string& name) override {
        auto s = m_db.prepare("SELECT id FROM account WHERE name = ?1");
        s.bind(1, name);
        if (!s.step()) return std::nullopt;
        return s.int64(0);
    }

    std::vector<std::string> account_names() override {
        auto s = m_db.prepare("SELECT name FROM account ORDER BY name");
        std::vector<std::string> out;
        while (s.step()) out.push_back(s.text(0));
        return out;
    }

    std::vector<MailboxRecord> mailboxes(Id account_id, bool include_deleted) override {
        auto s = m_db.prepare(std::string("SELECT ") + kMailboxColumns +
                              " FROM mailbox WHERE account_id = ?1"
                              " AND (?2 OR deleted_at IS NULL) ORDER BY name, id");
        s.bind(1, account_id).bind(2, std::int64_t{include_deleted});
        std::vector<MailboxRecord> out;
        while (s.step()) out.push_back(read_mailbox(s));
        return out;
    }

    std::optional<MailboxRecord> find_mailbox(Id account_id, const std::string& name) override {
        auto s = m_db.prepare(std::string("SELECT ") + kMailboxColumns +
                              " FROM mailbox WHERE account_id = ?1 AND name = ?2"
                              " ORDER BY deleted_at IS NOT NULL, deleted_at DESC, id DESC LIMIT 1");
        s.bind(1, account_id).bind(2, name);
        if (!s.step()) return std::nullopt;
        return read_mailbox(s);
    }

    Id save_mailbox(const MailboxRecord& r) override {
        const bool insert = r.id == 0;
        auto s = m_db.prepare(
            insert
                ? "INSERT INTO mailbox(account_id, name, delimiter, folder, uidvalidity, uidnext,"
                  " highestmodseq, mailboxid, sync_path, last_sync_at, deleted_at, folder_stamp)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13)"
                : "UPDATE mailbox SET account_id = ?1, name = ?2, delimiter = ?3, folder = ?4,"
                  " uidvalidity = ?5, uidnext = ?6, highestmodseq = ?7, mailboxid = ?8,"
                  " sync_path = ?9, last_sync_at = ?10, deleted_at = ?11, folder_stamp = ?13"
                  " WHERE id = ?12");
        s.bind(1, r.account_id).bind(2, r.name).bind(3, r.delimiter).bind(4, r.folder);
        s.bind(5, std::int64_t{r.uidvalidity}).bind(6, std::int64_t{r.uidnext});
        s.bind(7, to_db(r.highestmodseq)).bind(8, r.mailboxid).bind(9, r.sync_path);
        s.bind(10, r.last_sync_at).bind(11, r.deleted_at).bind(13, r.folder_stamp);
        if (!insert) s.bind(12, r.id);
        s.run();
        if (insert) return m_db.last_insert_id();
        if (m_db.changes() == 0)
            throw StoreError("catalog: no mailbox with id " + std::to_string(r.id));
        return r.id;
    }

    void mark_checked(Id mailbox_id, std::int64_t at, const std::string& folder_stamp) override {
        auto s =
            m_db.prepare("UPDATE mailbox SET last_sync_at = ?2, folder_stamp = ?3 WHERE id = ?1");
        s.bind(1, mailbox_id).bind(2, at).bind(3, folder_stamp);
        s.run();
        if (m_db.changes() == 0)
            throw StoreError("catalog: no mailbox with id " + std::to_string(mailbox_id));
    }

    std::vector<MessageRecord> messages(Id mailbox_id) override {
        return select_messages(
            " WHERE m.mailbox_id = ?1 AND m.expunged_at IS NULL"
            " ORDER BY m.uidvalidity, m.uid",
            mailbox_id);
    }

    void for_each_live_file(
        Id mailbox_id, const std::function<void(Id id, const std::string& file)>& visit) override {
        auto s = m_db.prepare(
            "SELECT id, file FROM message INDEXED BY message_live_file"
            " WHERE mailbox_id = ?1 AND expunged_at IS NULL");
        s.bind(1, mailbox_id);
        while (s.step()) visit(s.int64(0), s.text(1));
    }

    void for_each_message_key(Id mailbox_id,
                              const std::function<void(const MessageKey& key)>& visit) override {
        auto s = m_db.prepare(
            "SELECT id, message_id, internaldate, size FROM message"
            " WHERE mailbox_id = ?1 AND expunged_at IS NULL");
        s.bind(1, mailbox_id);
        while (s.step()) {
            const std::string message_id = s.text(1);
            visit(MessageKey{s.int64(0), message_id, s.int64(2), static_cast<std::uint64_t>(s.int64(3))});
        }
    }

    std::vector<MessageRecord> all_messages(Id mailbox_id) override {
        return select_messages(" WHERE m.mailbox_id = ?1 ORDER BY m.uidvalidity, m.uid, m.id",
                               mailbox_id);
    }

    std::vector<MessageRecord> messages_in(Id mailbox_id, std::uint32_t uidvalidity,
                                           const UidSet& uids, std::size_t limit) override {
        static const std::string columns = kMessageColumns;
        return live_rows_in<MessageRecord>(columns, read_message, mailbox_id, uidvalidity, uids,
                                           limit);
    }

    std::vector<KnownFlags> known_flags_in(Id mailbox_id, std::uint32_t uidvalidity,
                                           const UidSet& uids, std::size_t limit) override {
        static const std::string columns = "m.id, m.uid, m.flags";
        return live_rows_in<KnownFlags>(columns, read_known_flags, mailbox_id, uidvalidity, uids,
                                        limit);
    }

    std::vector<std::uint32_t> live_uidvalidities(Id mailbox_id) override {
        // One index seek per value (there are one or two), not a scan of every
        // live row as DISTINCT did: this runs for each mailbox with work.
        std::vector<std::uint32_t> out;
        std::int64_t above = -1;
        for (;;) {
            auto s = m_db.prepare(
                "SELECT MIN(uidvalidity) FROM message WHERE mailbox_id = ?1"
                " AND expunged_at IS NULL AND uidvalidity > ?2");
            s.bind(1, mailbox_id).bind(2, above);
            if (!s.step() || s.is_null(0)) break;
            above = s.int64(0);
            out.push_back(static_cast<std::uint32_t>(above));
        }
        return out;
    }

    UidSet cataloged_uids(Id mailbox_id, std::uint32_t uidvalidity, const UidSet& uids) override {
        // Served by the message_live_uid index alone.
        ReadScope read(*this);
        UidSet out;
        for (const auto& range : uids.ranges()) {
            auto s = m_db.prepare(
                "SELECT uid FROM message WHERE mailbox_id = ?1 AND uidvalidity = ?2"
                " AND uid BETWEEN ?3 AND ?4 AND expunged_at IS NULL ORDER BY uid");
            s.bind(1, mailbox_id).bind(2, std::int64_t{uidvalidity});
            s.bind(3, to_db(range.first)).bind(4, to_db(range.last));
            while (s.step()) out.add(Uid(static_cast<std::uint32_t>(s.int64(0))));
        }
        read.done();
        return out;
    }

    std::optional<MessageRecord> find_message(Id mailbox_id, std::uint32_t uidvalidity,
                                              std::uint32_t uid) override {
        auto s = m_db.prepare(std::string("SELECT ") + kMessageColumns +
                              " FROM message m WHERE m.mailbox_id = ?1 AND m.uidvalidity = ?2"
                              " AND m.uid = ?3 ORDER BY m.expunged_at IS NOT NULL, m.id DESC"
                              " LIMIT 1");
        s.bind(1, mailbox_id).bind(2, std::int64_t{uidvalidity}).bind(3, std::int64_t{uid});
        if (!s.step()) return std::nullopt;
        return read_message(s);
    }

    std::optional<MessageRecord> message_by_id(Id id) override {
        auto found = select_messages(" WHERE m.id = ?1", id);
        if (found.empty()) return std::nullopt;
        return std::move(found.front());
    }

    std::vector<MessageRecord> messages_by_id(const std::vector<Id>& ids) override {
        ReadScope read(*this);
        std::vector<MessageRecord> out;
        out.reserve(ids.size());
        for (const Id id : ids) {
            auto found = select_messages(" WHERE m.id = ?1", id);
            if (!found.empty()) out.push_back(std::move(found.front()));
        }
        read.done();
        return out;
    }

    Id add_message(const MessageRecord& r) override {
        Transaction tx(*this);
        const Id id = insert_message(r);
        tx.commit();
        return id;
    }

    std::vector<Id> add_messages(const std::vector<MessageRecord>& rows) override {
        Transaction tx(*this);
        std::vector<Id> ids;
        ids.reserve(rows.size());
        for (const auto& r : rows) ids.push_back(insert_message(r));
        tx.commit();
        return ids;
    }

    // The three rows of a new message; the caller holds a transaction.
    Id insert_message(const MessageRecord& r) {
        const auto flags = join_flags(normalize_flags(r.flags));
        auto s = m_db.prepare(
            "INSERT INTO message(mailbox_id, uidvalidity, uid, internaldate, internaldate_zone,"
            " size, sha256, message_id, flags, modseq, file, added_at, expunged_at, line_endings)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
        s.bind(1, r.mailbox_id).bind(2, std::int64_t{r.uidvalidity}).bind(3, std::int64_t{r.uid});
        s.bind(4, r.internaldate).bind(5, std::int64_t{r.internaldate_zone});
        s.bind(6, to_db(r.size)).bind(7, r.sha256).bind(8, r.message_id).bind(9, flags);
        s.bind(10, to_db(r.modseq)).bind(11, r.file).bind(12, r.added_at).bind(13, r.expunged_at);
        s.bind(14, std::string(line_endings_name(r.line_endings)));
        s.run();
        const Id id = m_db.last_insert_id();
        insert_flag_history(id, r.added_at, flags);
        m_db.prepare(
                "INSERT INTO uid_history(message_id, uidvalidity, uid, from_at, to_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(1, id)
            .bind(2, std::int64_t{r.uidvalidity})
            .bind(3, std::int64_t{r.uid})
            .bind(4, r.added_at)
            .bind(5, r.expunged_at)
            .run();
        return id;
    }

    void set_line_endings(Id message_id, LineEndings form) override {
        m_db.prepare("UPDATE message SET line_endings = ?1 WHERE id = ?2")
            .bind(1, std::string(line_endings_name(form)))
            .bind(2, message_id)
            .run();
    }

    void update_flags(Id message_id, const std::vector<std::string>& flags, std::uint64_t modseq,
                      const std::string& file, std::int64_t at) override {
        const auto joined = join_flags(normalize_flags(flags));
        Transaction tx(*this);
        std::string current;
        {
            auto s = m_db.prepare("SELECT flags FROM message WHERE id = ?1");
            s.bind(1, message_id);
            if (!s.step()) throw no_message(message_id);
            current = s.text(0);
        }
        m_db.prepare("UPDATE message SET flags = ?2, modseq = ?3, file = ?4 WHERE id = ?1")
            .bind(1, message_id)
            .bind(2, joined)
            .bind(3, to_db(modseq))
            .bind(4, file)
            .run();
        if (joined != current) insert_flag_history(message_id, at, joined);
        tx.commit();
    }

    void mark_expunged(Id message_id, std::int64_t at, const std::string& attic_file) override {
        Transaction tx(*this);
        m_db.prepare("UPDATE message SET expunged_at = ?2, file = ?3 WHERE id = ?1")
            .bind(1, message_id)
            .bind(2, at)
            .bind(3, attic_file)
            .run();
        if (m_db.changes() == 0) throw no_message(message_id);
        close_uid_period(message_id, at);
        tx.commit();
    }

    void rekey_message(Id message_id, std::uint32_t uidvalidity, std::uint32_t uid,
                       const std::string& file) override {
        const std::int64_t now = std::time(nullptr);
        Transaction tx(*this);
        m_db.prepare("UPDATE message SET uidvalidity = ?2, uid = ?3, file = ?4 WHERE id = ?1")
            .bind(1, message_id)
            .bind(2, std::int64_t{uidvalidity})
            .bind(3, std::int64_t{uid})
            .bind(4, file)
            .run();
        if (m_db.changes() == 0) throw no_message(message_id);
        close_uid_period(message_id, now);
        m_db.prepare(
                "INSERT INTO uid_history(message_id, uidvalidity, uid, from_at)"
                " VALUES (?1, ?2, ?3, ?4)")
            .bind(1, message_id)
            .bind(2, std::int64_t{uidvalidity})
            .bind(3, std::int64_t{uid})
            .bind(4, now)
            .run();
        tx.commit();
    }

    void move_messages(Id from_mailbox, Id to_mailbox) override {
        m_db.prepare("UPDATE message SET mailbox_id = ?2 WHERE mailbox_id = ?1")
            .bind(1, from_mailbox)
            .bind(2, to_mailbox)
            .run();
    }

    std::vector<std::string> files_in_dir(const std::string& dir) override {
        // Every path that starts with "dir/" sorts below "dir0" ('0' follows
        // '/'). A scan of the table: only the orphan sweep after a killed run
        // asks, and an index on the file would cost every flag change a
        // random page (schema/0014_file_index.sql).
        const std::string from = dir + "/";
        const std::string to = dir + "0";
        auto s = m_db.prepare(
            "SELECT file FROM message WHERE file >= ?1 AND file < ?2"
            " UNION ALL SELECT file FROM label_link WHERE file >= ?1 AND file < ?2");
        s.bind(1, from).bind(2, to);
        std::vector<std::string> out;
        while (s.step()) {
            std::string file = s.text(0);
            if (file.find('/', from.size()) == std::string::npos) out.push_back(std::move(file));
        }
        return out;
    }

    bool files_pending(Id mailbox_id) override {
        auto s = m_db.prepare("SELECT files_pending FROM mailbox WHERE id = ?1");
        s.bind(1, mailbox_id);
        return !s.step() || s.int64(0) != 0;
    }

    void set_files_pending(Id mailbox_id, bool pending) override {
        auto s = m_db.prepare("UPDATE mailbox SET files_pending = ?2 WHERE id = ?1");
        s.bind(1, mailbox_id).bind(2, std::int64_t{pending});
        s.run();
        if (m_db.changes() == 0)
            throw StoreError("catalog: no mailbox with id " + std::to_string(mailbox_id));
    }

    void delete_message(Id message_id) override {
        m_db.prepare("DELETE FROM message WHERE id = ?1").bind(1, message_id).run();
    }

    std::vector<FlagChange> flag_history(Id message_id) override {
        auto s = m_db.prepare(
            "SELECT at, flags FROM flag_history WHERE message_id = ?1 ORDER BY at, id");
        s.bind(1, message_id);
        std::vector<FlagChange> out;
        while (s.step()) out.push_back({message_id, s.int64(0), split_flags(s.text(1))});
        return out;
    }

    std::vector<UidHistoryEntry> uid_history(Id message_id) override {
        auto s = m_db.prepare(
            "SELECT uidvalidity, uid, from_at, to_at FROM uid_history"
            " WHERE message_id = ?1 ORDER BY from_at, id");
        s.bind(1, message_id);
        std::vector<UidHistoryEntry> out;
        while (s.step())
            out.push_back({static_cast<std::uint32_t>(s.int64(0)),
                           static_cast<std::uint32_t>(s.int64(1)), s.int64(2),
                           s.optional_int64(3)});
        return out;
    }

    std::vector<MessageRecord> messages_at(Id mailbox_id, std::int64_t at) override {
        // The flags (and key) in force at `at` are those of the latest history
        // entry at or before it; ties at the same second go to the later row.
        auto s = m_db.prepare(
            std::string("SELECT ") + kMessageColumns +
            ", (SELECT h.flags FROM flag_history h WHERE h.message_id = m.id AND h.at <= ?2"
            "   ORDER BY h.at DESC, h.id DESC LIMIT 1)"
            ", (SELECT u.uidvalidity FROM uid_history u WHERE u.message_id = m.id"
            "   AND u.from_at <= ?2 ORDER BY u.from_at DESC, u.id DESC LIMIT 1)"
            ", (SELECT u.uid FROM uid_history u WHERE u.message_id = m.id"
            "   AND u.from_at <= ?2 ORDER BY u.from_at DESC, u.id DESC LIMIT 1)"
            " FROM message m WHERE m.mailbox_id = ?1 AND m.added_at <= ?2"
            " AND (m.expunged_at IS NULL OR m.expunged_at > ?2)");
        s.bind(1, mailbox_id).bind(2, at);
        std::vector<MessageRecord> out;
        while (s.step()) {
            auto r = read_message(s);
            // After the kMessageColumns (0..14).
            r.flags = split_flags(s.text(15));
            if (!s.is_null(16)) {
                r.uidvalidity = static_cast<std::uint32_t>(s.int64(16));
                r.uid = static_cast<std::uint32_t>(s.int64(17));
            }
            out.push_back(std::move(r));
        }
        std::sort(out.begin(), out.end(), [](const MessageRecord& a, const MessageRecord& b) {
            return std::tie(a.uidvalidity, a.uid, a.id) < std::tie(b.uidvalidity, b.uid, b.id);
        });
        return out;
    }

    std::uint64_t downloaded_on(Id account_id, std::int64_t day) override {
        return usage_on("bytes", account_id, day);
    }
    void add_downloaded(Id account_id, std::int64_t day, std::uint64_t bytes) override {
        add_usage("bytes", account_id, day, bytes);
    }
    std::uint64_t uploaded_on(Id account_id, std::int64_t day) override {
        return usage_on("uploaded", account_id, day);
    }
    void add_uploaded(Id account_id, std::int64_t day, std::uint64_t bytes) override {
        add_usage("uploaded", account_id, day, bytes);
    }

    // One column of the day's usage ledger ("bytes" downloaded, "uploaded");
    // `column` is one of those constants, never input.
    std::uint64_t usage_on(const std::string& column, Id account_id, std::int64_t day) {
        auto s = m_db.prepare("SELECT " + column +
                              " FROM download_usage WHERE account_id = ?1 AND day = ?2");
        s.bind(1, account_id).bind(2, day);
        if (!s.step()) return 0;
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.int64(0)));
    }

    void add_usage(const std::string& column, Id account_id, std::int64_t day, std::uint64_t bytes) {
        m_db.prepare("INSERT INTO download_usage(account_id, day, " + column +
                     ") VALUES (?1, ?2, ?3) ON CONFLICT(account_id, day) DO UPDATE SET " + column +
                     " = " + column + " + excluded." + column)
            .bind(1, account_id)
            .bind(2, day)
            .bind(3, to_db(bytes))
            .run();
    }

    Id begin_run(const std::string& command, std::int64_t at) override {
        insert_run(command, at);
        return m_db.last_insert_id();
    }

    // Its own sync cost 2-12 ms before a backup's first mailbox (issue 10).
    // It is in the log ahead of every later commit, and the next sync of the
    // log, whichever connection makes it, covers it: a log is synced whole.
    // Inside a transaction it commits with it.
    Id begin_run_unsynced(const std::string& command, std::int64_t at) override {
        if (m_depth == 0) {
            m_db.commit_unsynced([&] { insert_run(command, at); });
        } else {
            insert_run(command, at);
        }
        return m_db.last_insert_id();
    }

    void finish_run(Id run_id, std::int64_t at, const std::string& status,
                    const std::string& report_json) override {
        m_db.prepare("UPDATE run SET finished_at = ?2, status = ?3, report_json = ?4 WHERE id = ?1")
            .bind(1, run_id)
            .bind(2, at)
            .bind(3, status)
            .bind(4, report_json)
            .run();
        if (m_db.changes() == 0)
            throw StoreError("catalog: no run with id " + std::to_string(run_id));
    }

    std::optional<RunRecord> last_run(const std::string& command) override {
        auto s = m_db.prepare(
            "SELECT id, command, started_at, finished_at, status, report_json"
            " FROM run WHERE command = ?1 ORDER BY started_at DESC, id DESC"
            " LIMIT 1");
        s.bind(1, command);
        if (!s.step()) return std::nullopt;
        return RunRecord{s.int64(0),          s.text(1), s.int64(2),
                         s.optional_int64(3), s.text(4), s.text(5)};
    }

    void add_restore_entry(const RestoreJournalEntry& e) override {
        m_db.prepare(
                "INSERT INTO restore_journal(target_account, target_mailbox,"
                " source_message_id, target_uidvalidity, target_uid, appended_at, flags_checked)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(1, e.target_account)
            .bind(2, e.target_mailbox)
            .bind(3, e.source_message_id)
            .bind(4, std::int64_t{e.target_uidvalidity})
            .bind(5, std::int64_t{e.target_uid})
            .bind(6, e.appended_at)
            .bind(7, std::int64_t{e.flags_checked ? 1 : 0})
            .run();
    }

    bool restored(const std::string& target_account, const std::string& target_mailbox,
                  Id source_message_id) override {
        return restore_entry(target_account, target_mailbox, source_message_id).has_value();
    }

    std::optional<RestoreJournalEntry> restore_entry(const std::string& target_account,
                                                     const std::string& target_mailbox,
                                                     Id source_message_id) override {
        auto s = m_db.prepare(
            "SELECT target_uidvalidity, target_uid, appended_at, flags_checked FROM restore_journal"
            " WHERE target_account = ?1 AND target_mailbox = ?2 AND source_message_id = ?3"
            " ORDER BY appended_at DESC, id DESC LIMIT 1");
        s.bind(1, target_account).bind(2, target_mailbox).bind(3, source_message_id);
        if (!s.step()) return std::nullopt;
        return RestoreJournalEntry{target_account,
                                   target_mailbox,
                                   source_message_id,
                                   static_cast<std::uint32_t>(s.int64(0)),
                                   static_cast<std::uint32_t>(s.int64(1)),
                                   s.int64(2),
                                   s.int64(3) != 0};
    }

    void set_gmail_message(const GmailMessage& g, std::int64_t at) override {
        const auto joined = join_labels(g.labels);
        Transaction tx(*this);
        auto before = gmail_message(g.message_id);
        m_db.prepare(
                "INSERT INTO gmail_message (message_id, msgid, thrid, labels, linked)"
                " VALUES (?1, ?2, ?3, ?4, 0)"
                " ON CONFLICT(message_id) DO UPDATE SET msgid = ?2, thrid = ?3, labels = ?4, linked = 0")
            .bind(1, g.message_id)
            .bind(2, to_db(g.msgid))
            .bind(3, to_db(g.thrid))
            .bind(4, joined)
            .run();
        if (!before || join_labels(before->labels) != joined)
            m_db.prepare("INSERT INTO label_history (message_id, at, labels) VALUES (?1, ?2, ?3)")
                .bind(1, g.message_id)
                .bind(2, at)
                .bind(3, joined)
                .run();
        tx.commit();
    }

    std::optional<GmailMessage> gmail_message(Id message_id) override {
        auto s = m_db.prepare("SELECT msgid, thrid, labels FROM gmail_message WHERE message_id = ?1");
        s.bind(1, message_id);
        if (!s.step()) return std::nullopt;
        return GmailMessage{message_id, static_cast<std::uint64_t>(s.int64(0)),
                            static_cast<std::uint64_t>(s.int64(1)), split_labels(s.text(2))};
    }

    std::vector<LabelChange> label_history(Id message_id) override {
        auto s = m_db.prepare(
            "SELECT at, labels FROM label_history WHERE message_id = ?1 ORDER BY at, id");
        s.bind(1, message_id);
        std::vector<LabelChange> out;
        while (s.step()) out.push_back({message_id, s.int64(0), split_labels(s.text(1))});
        return out;
    }

    std::vector<LabelLink> label_links(Id message_id) override {
        auto s = m_db.prepare("SELECT label, file FROM label_link WHERE message_id = ?1 ORDER BY label");
        s.bind(1, message_id);
        std::vector<LabelLink> out;
        while (s.step()) out.push_back({s.text(0), s.text(1)});
        return out;
    }

    void set_label_links(Id message_id, const std::vector<LabelLink>& links) override {
        Transaction tx(*this);
        m_db.prepare("DELETE FROM label_link WHERE message_id = ?1").bind(1, message_id).run();
        for (const auto& l : links)
            m_db.prepare("INSERT INTO label_link (message_id, label, file) VALUES (?1, ?2, ?3)")
                .bind(1, message_id)
                .bind(2, l.label)
                .bind(3, l.file)
                .run();
        m_db.prepare("UPDATE gmail_message SET linked = 1 WHERE message_id = ?1").bind(1, message_id).run();
        tx.commit();
    }

    std::vector<std::string> linked_labels(Id mailbox_id) override {
        auto s = m_db.prepare(
            "SELECT DISTINCT l.label FROM label_link l JOIN message m ON m.id = l.message_id"
            " WHERE m.mailbox_id = ?1 ORDER BY l.label");
        s.bind(1, mailbox_id);
        std::vector<std::string> out;
        while (s.step()) out.push_back(s.text(0));
        return out;
    }

    std::vector<Id> unlinked_gmail_messages(Id mailbox_id, std::size_t limit) override {
        auto s = m_db.prepare(
            "SELECT g.message_id FROM gmail_message g JOIN message m ON m.id = g.message_id"
            " WHERE g.linked = 0 AND m.mailbox_id = ?1 ORDER BY g.message_id LIMIT ?2");
        s.bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        std::vector<Id> out;
        while (s.step()) out.push_back(s.int64(0));
        return out;
    }

    void mark_restore_flags_checked(const std::string& target_account,
                                    const std::string& target_mailbox,
                                    const std::vector<Id>& source_message_ids) override {
        if (source_message_ids.empty()) return;
        Transaction t(*this);
        for (Id id : source_message_ids)
            m_db.prepare(
                    "UPDATE restore_journal SET flags_checked = 1"
                    " WHERE target_account = ?1 AND target_mailbox = ?2 AND source_message_id = ?3")
                .bind(1, target_account)
                .bind(2, target_mailbox)
                .bind(3, id)
                .run();
        t.commit();
    }

  private:
    // The live rows of `uids` under `uidvalidity`, ascending, at most
    // `limit`, as `columns` read by `read_row`. The message_mailbox index
    // (mailbox_id, uidvalidity, uid) serves each range; the statement comes
    // from the cache, reset, once per range.
    template <class Row, class Read>
    std::vector<Row> live_rows_in(const std::string& columns, Read read_row, Id mailbox_id,
                                  std::uint32_t uidvalidity, const UidSet& uids,
                                  std::size_t limit) {
        const std::string sql = "SELECT " + columns +
                                " FROM message m WHERE m.mailbox_id = ?1"
                                " AND m.uidvalidity = ?2 AND m.uid BETWEEN ?3 AND ?4"
                                " AND m.expunged_at IS NULL ORDER BY m.uid";
        ReadScope read(*this);
        std::vector<Row> out;
        for (const auto& range : uids.ranges()) {
            auto s = m_db.prepare(sql);
            s.bind(1, mailbox_id).bind(2, std::int64_t{uidvalidity});
            s.bind(3, to_db(range.first)).bind(4, to_db(range.last));
            while (out.size() < limit && s.step()) out.push_back(read_row(s));
            if (out.size() >= limit) break;
        }
        read.done();
        return out;
    }

    void insert_run(const std::string& command, std::int64_t at) {
        m_db.prepare("INSERT INTO run(command, started_at, status) VALUES (?1, ?2, 'running')")
            .bind(1, command)
            .bind(2, at)
            .run();
    }

    // Scoped nested transaction: rolls back unless commit() was reached.
    class Transaction {
      public:
        explicit Transaction(Catalog& c) : m_catalog(c) { m_catalog.begin(); }
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        ~Transaction() {
            if (!m_done) m_catalog.rollback();
        }
        void commit() {
            m_catalog.commit();
            m_done = true;
        }

      private:
        Catalog& m_catalog;
        bool m_done = false;
    };

    // Several statements that read, as one read transaction when no
    // transaction is open: one snapshot and one lock of the log's index for
    // them all. Each statement on its own was a transaction, and whenever
    // another worker had committed in between, SQLite dropped this
    // connection's page cache and read the pages again (a range per
    // statement: a few hundred of them for one mailbox's QRESYNC changes).
    class ReadScope {
      public:
        explicit ReadScope(SqliteCatalog& c) : m_catalog(c) {
            if (m_catalog.m_depth > 0 || !m_catalog.m_db.autocommit()) return;
            m_catalog.run_cached("BEGIN");
            m_open = true;
        }
        ReadScope(const ReadScope&) = delete;
        ReadScope& operator=(const ReadScope&) = delete;
        ~ReadScope() {
            if (!m_open) return;
            try {
                m_catalog.m_db.exec("ROLLBACK");
            } catch (const StoreError&) {
                // SQLite may have ended it already (an I/O error): nothing was written.
            }
        }
        // Ends the read; a failure of the statements above leaves it to the destructor.
        void done() {
            if (!m_open) return;
            m_open = false;
            m_catalog.run_cached("COMMIT");
        }

      private:
        SqliteCatalog& m_catalog;
        bool m_open = false;
    };

    static std::string savepoint(int depth) { return "imapkeep_sp" + std::to_string(depth); }

    // Transaction control through the statement cache: add_message opens a
    // savepoint per row, and sqlite3_exec parsed each one anew (8% of a cold
    // backup's CPU time, issue 10).
    void run_cached(const std::string& sql) { m_db.prepare(sql).run(); }

    static StoreError no_message(Id id) {
        return StoreError("catalog: no message with id " + std::to_string(id));
    }

    std::vector<MessageRecord> select_messages(const std::string& where, Id key) {
        auto s = m_db.prepare(std::string("SELECT ") + kMessageColumns + " FROM message m" + where);
        s.bind(1, key);
        std::vector<MessageRecord> out;
        while (s.step()) out.push_back(read_message(s));
        return out;
    }

    void insert_flag_history(Id message_id, std::int64_t at, const std::string& flags) {
        m_db.prepare("INSERT INTO flag_history(message_id, at, flags) VALUES (?1, ?2, ?3)")
            .bind(1, message_id)
            .bind(2, at)
            .bind(3, flags)
            .run();
    }

    void close_uid_period(Id message_id, std::int64_t at) {
        m_db.prepare("UPDATE uid_history SET to_at = ?2 WHERE message_id = ?1 AND to_at IS NULL")
            .bind(1, message_id)
            .bind(2, at)
            .run();
    }

    // The same wait SQLite's busy_timeout allowed, now spent on the mutex.
    static constexpr std::chrono::milliseconds kWriteLockTimeout{10000};

    void begin_outermost() {
        if (m_write_lock && !m_write_lock->acquire(kWriteLockTimeout))
            throw StoreError("catalog: another writer in this process held the catalog for 10 s");
        m_holds_write_lock = m_write_lock != nullptr;
        try {
            m_db.exec("BEGIN IMMEDIATE");
        } catch (...) {
            release_write_lock();
            throw;
        }
    }

    // SQLite found the catalog locked. A transaction of another thread of
    // this process is waited for on the write lock, which wakes this
    // connection the moment it commits. Anything else (another process, or a
    // write outside begin() such as set_files_pending, which takes no lock)
    // is polled, as SQLite's busy timeout did, for the same 10 s in all.
    bool wait_when_busy(int count) {
        using Clock = std::chrono::steady_clock;
        if (count == 0) m_busy_since = Clock::now();
        const auto waited = Clock::now() - m_busy_since;
        if (waited >= kWriteLockTimeout) return false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kWriteLockTimeout - waited);
        if (m_write_lock->wait_for_other_holder(left)) return true;
        std::this_thread::sleep_for(count < 20 ? std::chrono::milliseconds(1) : std::chrono::milliseconds(5));
        return true;
    }

    void release_write_lock() noexcept {
        if (!m_holds_write_lock) return;
        m_holds_write_lock = false;
        m_write_lock->release();
    }

    SqliteDb m_db;
    // Null for an in-memory snapshot: nobody else can write to it.
    std::shared_ptr<CatalogWriteLock> m_write_lock;
    bool m_holds_write_lock = false;
    int m_depth = 0;
    std::chrono::steady_clock::time_point m_busy_since;
};

}  // namespace

std::unique_ptr<Catalog> open_sqlite_catalog(const std::string& path) {
    return std::make_unique<SqliteCatalog>(path);
}

std::unique_ptr<Catalog> open_sqlite_catalog_snapshot(const std::string& path) {
    return std::make_unique<SqliteCatalog>(SqliteCatalog::Snapshot{}, path);
}

int sqlite_catalog_file_version(const std::string& path) {
    return static_cast<int>(SqliteDb::peek_user_version(path));
}

int catalog_schema_version() {
    const auto& migrations = compiled_migrations();
    return migrations.empty() ? 0 : migration_version(migrations.back().name);
}

}  // namespace imapkeep::store
