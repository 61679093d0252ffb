// PostgreSQL implementation of Catalog (postgres_catalog.hpp says what it
// promises and why). Each method does what its SQLite twin
// (sqlite_catalog.cpp) does; where PostgreSQL differs:
// - a failed statement aborts the whole transaction, so writes inside one run
//   in a savepoint of their own (WriteScope below);
// - each statement is a round trip, so a change that SQLite makes in several
//   statements is one statement here where SQL allows (data-modifying WITH);
// - READ COMMITTED lets another connection commit between two statements, so
//   a read that decides a write locks its row (FOR UPDATE).
// A fenced catalog (PostgresCatalogOptions::fence) checks its lease before
// each outermost COMMIT; each write method opens a WriteScope, which gives a
// write outside a transaction a transaction of its own, so none escapes it.
#include <algorithm>
#include <climits>
#include <ctime>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <string>
#include <tuple>

#include "store/postgres/libpq.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_migrations.hpp"

namespace imapkeep::store {
namespace {

constexpr const char* kMailboxColumns =
    "id, account_id, name, delimiter, folder, uidvalidity, uidnext, highestmodseq, mailboxid, "
    "sync_path, last_sync_at, deleted_at, folder_stamp";

constexpr const char* kMessageColumns =
    "m.id, m.mailbox_id, m.uidvalidity, m.uid, m.internaldate, m.internaldate_zone, m.size, "
    "m.sha256, m.message_id, m.flags, m.modseq, m.file, m.added_at, m.expunged_at, m.line_endings";

// Ranges of a UidSet per statement in messages_in/cataloged_uids, and ids
// per statement in messages_by_id: one round trip for a typical set, and a
// bounded statement for a set of many.
constexpr std::size_t kRangesPerStatement = 500;

// New messages per INSERT in add_messages: 14 parameters each, far below the
// protocol's 65535; one statement for a sync chunk (200).
constexpr std::size_t kRowsPerStatement = 250;

MailboxRecord read_mailbox(const PgResult& s, int row) {
    MailboxRecord r;
    r.id = s.int64(row, 0);
    r.account_id = s.int64(row, 1);
    r.name = s.text(row, 2);
    r.delimiter = s.text(row, 3);
    r.folder = s.text(row, 4);
    r.uidvalidity = static_cast<std::uint32_t>(s.int64(row, 5));
    r.uidnext = static_cast<std::uint32_t>(s.int64(row, 6));
    r.highestmodseq = static_cast<std::uint64_t>(s.int64(row, 7));
    r.mailboxid = s.text(row, 8);
    r.sync_path = s.text(row, 9);
    r.last_sync_at = s.optional_int64(row, 10);
    r.deleted_at = s.optional_int64(row, 11);
    r.folder_stamp = s.text(row, 12);
    return r;
}

MessageRecord read_message(const PgResult& s, int row) {
    MessageRecord r;
    r.id = s.int64(row, 0);
    r.mailbox_id = s.int64(row, 1);
    r.uidvalidity = static_cast<std::uint32_t>(s.int64(row, 2));
    r.uid = static_cast<std::uint32_t>(s.int64(row, 3));
    r.internaldate = s.int64(row, 4);
    r.internaldate_zone = static_cast<int>(s.int64(row, 5));
    r.size = static_cast<std::uint64_t>(s.int64(row, 6));
    r.sha256 = s.text(row, 7);
    r.message_id = s.text(row, 8);
    r.flags = split_flags(s.text(row, 9));
    r.modseq = static_cast<std::uint64_t>(s.int64(row, 10));
    r.file = s.text(row, 11);
    r.added_at = s.int64(row, 12);
    r.expunged_at = s.optional_int64(row, 13);
    const auto form = parse_line_endings(s.text(row, 14));
    if (!form)
        throw StoreError("message " + std::to_string(r.id) + ": unknown line_endings " +
                         s.text(row, 14));
    r.line_endings = *form;
    return r;
}

std::vector<MessageRecord> read_messages(const PgResult& s) {
    std::vector<MessageRecord> out;
    out.reserve(static_cast<std::size_t>(s.rows()));
    for (int row = 0; row < s.rows(); ++row) out.push_back(read_message(s, row));
    return out;
}

// Labels sorted, deduplicated, joined with LF, as the SQLite catalog stores them.
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

// IMAP's unsigned values fit BIGINT: UIDs are 32-bit and mod-sequences at most
// 2^63-1 (RFC 7162 §7, mod-sequence-value).
std::int64_t to_db(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// A chunk of a UidSet's ranges as two PostgreSQL array literals ("{1,9}",
// "{5,12}"): the lower and upper ends, for unnest() in one statement.
std::pair<std::string, std::string> range_arrays(const std::vector<UidSet::Range>& ranges,
                                                 std::size_t from, std::size_t to) {
    std::string lo = "{", hi = "{";
    for (std::size_t i = from; i < to; ++i) {
        const char* comma = i == from ? "" : ",";
        lo += comma + std::to_string(ranges[i].first);
        hi += comma + std::to_string(ranges[i].last);
    }
    return {lo + "}", hi + "}"};
}

class PostgresCatalog final : public Catalog {
  public:
    explicit PostgresCatalog(const PostgresCatalogOptions& options)
        : m_db(options.conninfo),
          m_schema(options.schema),
          m_serialize_writers(options.serialize_writers),
          m_lock_key(postgres_lock_key("writers", options.schema)),
          m_base_depth(options.snapshot ? 1 : 0),
          m_fence(options.snapshot ? std::nullopt : options.fence) {
        if (m_schema.empty()) throw StoreError("catalog: the PostgreSQL schema name is empty");
        m_db.set_session("SET search_path TO " + m_db.quote_identifier(m_schema) +
                         "; SET client_encoding TO 'UTF8'; SET synchronous_commit TO on;"
                         " SET lock_timeout TO '10s'" +
                         idle_in_transaction_setting(m_fence));
        if (options.snapshot) {
            open_snapshot();
            return;
        }
        apply_postgres_migrations(m_db, m_schema, compiled_postgres_migrations());
        m_db.allow_reconnect(true);
    }

    ~PostgresCatalog() override {
        if (m_depth > 0) {
            m_depth = 1;
            end_transaction("ROLLBACK");
        }
    }

    void begin() override {
        if (m_depth == 0) {
            // Nothing it writes could be committed: say so before the work.
            if (m_fence_lost) throw lease_lost();
            begin_outermost();
            m_db.allow_reconnect(false);
        } else {
            m_db.exec("SAVEPOINT " + savepoint(m_depth));
        }
        ++m_depth;
    }

    void commit() override {
        if (m_depth <= m_base_depth) throw StoreError("catalog: commit() without begin()");
        if (m_depth > 1) {
            // A failed RELEASE leaves the savepoint for the caller's rollback().
            m_db.exec("RELEASE SAVEPOINT " + savepoint(m_depth - 1));
            --m_depth;
            return;
        }
        if (m_fence) check_fence();
        // Whatever COMMIT answers, the transaction is over: PostgreSQL ends
        // it on a failed COMMIT too, and answers ROLLBACK to the COMMIT of a
        // transaction a failed statement aborted.
        m_depth = 0;
        std::string status;
        try {
            status = m_db.exec("COMMIT").status();
        } catch (...) {
            m_db.allow_reconnect(true);
            throw;
        }
        // Only now: the COMMIT went on the transaction's own connection.
        m_db.allow_reconnect(true);
        if (status != "COMMIT")
            throw StoreError(
                "catalog: the transaction was rolled back, not committed"
                " (a statement in it had failed)");
    }

    void rollback() noexcept override {
        if (m_depth <= m_base_depth) return;
        if (m_depth == 1) {
            end_transaction("ROLLBACK");
            return;
        }
        const auto name = savepoint(m_depth - 1);
        try {
            m_db.exec("ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name);
        } catch (const StoreError&) {
            // The connection is gone, or the server ended the transaction.
        }
        --m_depth;
    }

    Id ensure_account(const std::string& name) override {
        // Two statements: the SELECT's own snapshot sees a row another
        // connection committed while the INSERT waited on it. ON CONFLICT
        // leaves no constraint to fail: no savepoint.
        WriteScope write(*this, kUnrefusable);
        m_db.query("INSERT INTO account(name) VALUES ($1::text) ON CONFLICT (name) DO NOTHING",
                   name);
        auto id = find_account(name);
        if (!id) throw StoreError("catalog: account " + name + " vanished while it was added");
        write.commit();
        return *id;
    }

    std::optional<Id> find_account(const std::string& name) override {
        auto s = m_db.query("SELECT id FROM account WHERE name = $1::text", name);
        if (s.rows() == 0) return std::nullopt;
        return s.int64(0, 0);
    }

    std::vector<std::string> account_names() override {
        auto s = m_db.query("SELECT name FROM account ORDER BY name");
        std::vector<std::string> out;
        for (int row = 0; row < s.rows(); ++row) out.push_back(s.text(row, 0));
        return out;
    }

    std::vector<MailboxRecord> mailboxes(Id account_id, bool include_deleted) override {
        auto s = m_db.query(std::string("SELECT ") + kMailboxColumns +
                                " FROM mailbox WHERE account_id = $1"
                                " AND ($2 OR deleted_at IS NULL) ORDER BY name, id",
                            account_id, PgBool{include_deleted});
        std::vector<MailboxRecord> out;
        for (int row = 0; row < s.rows(); ++row) out.push_back(read_mailbox(s, row));
        return out;
    }

    std::optional<MailboxRecord> find_mailbox(Id account_id, const std::string& name) override {
        auto s =
            m_db.query(std::string("SELECT ") + kMailboxColumns +
                           " FROM mailbox WHERE account_id = $1 AND name = $2::bytea"
                           " ORDER BY deleted_at IS NOT NULL, deleted_at DESC, id DESC LIMIT 1",
                       account_id, name);
        if (s.rows() == 0) return std::nullopt;
        return read_mailbox(s, 0);
    }

    Id save_mailbox(const MailboxRecord& r) override {
        const bool insert = r.id == 0;
        WriteScope sp(*this, kRefusable);
        auto s = m_db.query(
            insert
                ? "INSERT INTO mailbox(account_id, name, delimiter, folder, uidvalidity, uidnext,"
                  " highestmodseq, mailboxid, sync_path, last_sync_at, deleted_at, folder_stamp)"
                  " VALUES ($1, $2::bytea, $3::bytea, $4::text, $5, $6, $7, $8::bytea, $9::text,"
                  " $10, $11, $12::text) RETURNING id"
                : "UPDATE mailbox SET account_id = $1, name = $2::bytea, delimiter = $3::bytea,"
                  " folder = $4::text, uidvalidity = $5, uidnext = $6, highestmodseq = $7,"
                  " mailboxid = $8::bytea, sync_path = $9::text, last_sync_at = $10,"
                  " deleted_at = $11, folder_stamp = $12::text WHERE id = $13 RETURNING id",
            r.account_id, r.name, r.delimiter, r.folder, std::int64_t{r.uidvalidity},
            std::int64_t{r.uidnext}, to_db(r.highestmodseq), r.mailboxid, r.sync_path,
            r.last_sync_at, r.deleted_at, r.folder_stamp, r.id);
        sp.commit();
        if (s.rows() == 0) throw StoreError("catalog: no mailbox with id " + std::to_string(r.id));
        return s.int64(0, 0);
    }

    void mark_checked(Id mailbox_id, std::int64_t at, const std::string& folder_stamp) override {
        WriteScope write(*this, kUnrefusable);
        auto s = m_db.query(
            "UPDATE mailbox SET last_sync_at = $2, folder_stamp = $3::text WHERE id = $1",
            mailbox_id, at, folder_stamp);
        if (s.affected() == 0)
            throw StoreError("catalog: no mailbox with id " + std::to_string(mailbox_id));
        write.commit();
    }

    std::vector<MessageRecord> messages(Id mailbox_id) override {
        return select_messages(
            " WHERE m.mailbox_id = $1 AND m.expunged_at IS NULL ORDER BY m.uidvalidity, m.uid",
            mailbox_id);
    }

    void for_each_live_file(
        Id mailbox_id, const std::function<void(Id id, const std::string& file)>& visit) override {
        m_db.for_each_row(
            "SELECT id, file FROM message WHERE mailbox_id = $1 AND expunged_at IS NULL",
            [&](const PgResult& row) { visit(row.int64(0, 0), row.text(0, 1)); }, mailbox_id);
    }

    void for_each_message_key(Id mailbox_id,
                              const std::function<void(const MessageKey& key)>& visit) override {
        m_db.for_each_row(
            "SELECT id, message_id, internaldate, size FROM message"
            " WHERE mailbox_id = $1 AND expunged_at IS NULL",
            [&](const PgResult& row) {
                const std::string message_id = row.text(0, 1);
                visit(MessageKey{row.int64(0, 0), message_id, row.int64(0, 2),
                                 static_cast<std::uint64_t>(row.int64(0, 3))});
            },
            mailbox_id);
    }

    std::vector<MessageRecord> all_messages(Id mailbox_id) override {
        return select_messages(" WHERE m.mailbox_id = $1 ORDER BY m.uidvalidity, m.uid, m.id",
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
        return live_rows_in<KnownFlags>(
            columns,
            [](const PgResult& s, int row) {
                return KnownFlags{s.int64(row, 0), static_cast<std::uint32_t>(s.int64(row, 1)),
                                  split_flags(s.text(row, 2))};
            },
            mailbox_id, uidvalidity, uids, limit);
    }

    // The live rows of `uids` under `uidvalidity`, ascending, at most
    // `limit`, as `columns` read by `read_row`. One statement per chunk of
    // ranges. LATERAL makes each range an index range scan of message_mailbox
    // (mailbox_id, uidvalidity, uid) that stops after `limit` rows: a page of
    // a large mailbox reads that page, not the mailbox (a plain join sorted
    // every row found before the LIMIT).
    template <class Row, class Read>
    std::vector<Row> live_rows_in(const std::string& columns, Read read_row, Id mailbox_id,
                                  std::uint32_t uidvalidity, const UidSet& uids,
                                  std::size_t limit) {
        const std::string sql =
            "SELECT " + columns +
            " FROM unnest($3::text::bigint[], $4::text::bigint[]) WITH ORDINALITY AS r(lo, hi, n)"
            " CROSS JOIN LATERAL (SELECT * FROM message WHERE mailbox_id = $1"
            "   AND uidvalidity = $2 AND uid BETWEEN r.lo AND r.hi AND expunged_at IS NULL"
            "   ORDER BY uid LIMIT $5) m"
            " ORDER BY r.n, m.uid LIMIT $5";
        std::vector<Row> out;
        const auto& ranges = uids.ranges();
        for (std::size_t from = 0; from < ranges.size() && out.size() < limit;
             from += kRangesPerStatement) {
            const auto to = std::min(ranges.size(), from + kRangesPerStatement);
            const auto [lo, hi] = range_arrays(ranges, from, to);
            const auto left = static_cast<std::int64_t>(
                std::min<std::size_t>(limit - out.size(), static_cast<std::size_t>(INT64_MAX)));
            auto s = m_db.query(sql, mailbox_id, std::int64_t{uidvalidity}, lo, hi, left);
            for (int row = 0; row < s.rows(); ++row) out.push_back(read_row(s, row));
        }
        return out;
    }

    std::vector<std::uint32_t> live_uidvalidities(Id mailbox_id) override {
        // One index seek per value (there are one or two), as in SQLite.
        std::vector<std::uint32_t> out;
        std::int64_t above = -1;
        for (;;) {
            auto s = m_db.query(
                "SELECT MIN(uidvalidity) FROM message WHERE mailbox_id = $1"
                " AND expunged_at IS NULL AND uidvalidity > $2",
                mailbox_id, above);
            if (s.rows() == 0 || s.is_null(0, 0)) break;
            above = s.int64(0, 0);
            out.push_back(static_cast<std::uint32_t>(above));
        }
        return out;
    }

    UidSet cataloged_uids(Id mailbox_id, std::uint32_t uidvalidity, const UidSet& uids) override {
        // As messages_in: an index range scan per range (covered by
        // message_live_uid), the cost that of the set asked about and the rows found.
        static const std::string sql =
            "SELECT m.uid FROM unnest($3::text::bigint[], $4::text::bigint[])"
            " WITH ORDINALITY AS r(lo, hi, n)"
            " CROSS JOIN LATERAL (SELECT uid FROM message WHERE mailbox_id = $1"
            "   AND uidvalidity = $2 AND uid BETWEEN r.lo AND r.hi AND expunged_at IS NULL) m"
            " ORDER BY r.n, m.uid";
        UidSet out;
        const auto& ranges = uids.ranges();
        for (std::size_t from = 0; from < ranges.size(); from += kRangesPerStatement) {
            const auto to = std::min(ranges.size(), from + kRangesPerStatement);
            const auto [lo, hi] = range_arrays(ranges, from, to);
            m_db.for_each_row(
                sql,
                [&](const PgResult& row) {
                    out.add(Uid(static_cast<std::uint32_t>(row.int64(0, 0))));
                },
                mailbox_id, std::int64_t{uidvalidity}, lo, hi);
        }
        return out;
    }

    std::optional<MessageRecord> find_message(Id mailbox_id, std::uint32_t uidvalidity,
                                              std::uint32_t uid) override {
        auto found = select_messages(
            " WHERE m.mailbox_id = $1 AND m.uidvalidity = $2 AND m.uid = $3"
            " ORDER BY m.expunged_at IS NOT NULL, m.id DESC LIMIT 1",
            mailbox_id, std::int64_t{uidvalidity}, std::int64_t{uid});
        if (found.empty()) return std::nullopt;
        return std::move(found.front());
    }

    std::optional<MessageRecord> message_by_id(Id id) override {
        auto found = select_messages(" WHERE m.id = $1", id);
        if (found.empty()) return std::nullopt;
        return std::move(found.front());
    }

    std::vector<MessageRecord> messages_by_id(const std::vector<Id>& ids) override {
        // One statement per kRangesPerStatement ids, in the order asked.
        std::vector<MessageRecord> out;
        for (std::size_t from = 0; from < ids.size(); from += kRangesPerStatement) {
            const auto to = std::min(ids.size(), from + kRangesPerStatement);
            std::string array = "{";
            for (std::size_t i = from; i < to; ++i)
                array += (i == from ? "" : ",") + std::to_string(ids[i]);
            auto found = read_messages(
                m_db.query(std::string("SELECT ") + kMessageColumns +
                               " FROM unnest($1::text::bigint[]) WITH ORDINALITY AS r(id, n)"
                               " JOIN message m ON m.id = r.id ORDER BY r.n",
                           array + "}"));
            std::move(found.begin(), found.end(), std::back_inserter(out));
        }
        return out;
    }

    Id add_message(const MessageRecord& r) override {
        WriteScope sp(*this, kRefusable);
        const auto ids = insert_messages(&r, 1);
        sp.commit();
        return ids.front();
    }

    std::vector<Id> add_messages(const std::vector<MessageRecord>& rows) override {
        // One statement per kRowsPerStatement rows: a cold backup's chunk of
        // 200 is one round trip, not 200.
        Transaction tx(*this);
        std::vector<Id> ids;
        ids.reserve(rows.size());
        for (std::size_t from = 0; from < rows.size(); from += kRowsPerStatement) {
            const auto count = std::min(kRowsPerStatement, rows.size() - from);
            const auto chunk = insert_messages(rows.data() + from, count);
            ids.insert(ids.end(), chunk.begin(), chunk.end());
        }
        tx.commit();
        return ids;
    }

    void set_line_endings(Id message_id, LineEndings form) override {
        WriteScope write(*this, kUnrefusable);
        m_db.query("UPDATE message SET line_endings = $1::text WHERE id = $2",
                   std::string(line_endings_name(form)), message_id);
        write.commit();
    }

    void update_flags(Id message_id, const std::vector<std::string>& flags, std::uint64_t modseq,
                      const std::string& file, std::int64_t at) override {
        const auto joined = join_flags(normalize_flags(flags));
        // `old` reads the flags before the update (one snapshot for the whole
        // statement), locked, so a concurrent writer cannot slip in between.
        // No constraint can refuse it: no savepoint.
        WriteScope write(*this, kUnrefusable);
        auto s = m_db.query(
            "WITH old AS (SELECT flags FROM message WHERE id = $1 FOR UPDATE),"
            " changed AS (UPDATE message SET flags = $2::bytea, modseq = $3, file = $4::text"
            "             WHERE id = $1 AND EXISTS (SELECT 1 FROM old)),"
            " history AS (INSERT INTO flag_history(message_id, at, flags)"
            "             SELECT $1, $5, $2::bytea FROM old WHERE old.flags <> $2::bytea)"
            " SELECT count(*) FROM old",
            message_id, joined, to_db(modseq), file, at);
        if (s.int64(0, 0) == 0) throw no_message(message_id);
        write.commit();
    }

    void mark_expunged(Id message_id, std::int64_t at, const std::string& attic_file) override {
        WriteScope write(*this, kUnrefusable);
        auto s = m_db.query(
            "WITH m AS (UPDATE message SET expunged_at = $2, file = $3::text WHERE id = $1"
            "           RETURNING id),"
            " closed AS (UPDATE uid_history SET to_at = $2"
            "            WHERE message_id IN (SELECT id FROM m) AND to_at IS NULL)"
            " SELECT count(*) FROM m",
            message_id, at, attic_file);
        if (s.int64(0, 0) == 0) throw no_message(message_id);
        write.commit();
    }

    void rekey_message(Id message_id, std::uint32_t uidvalidity, std::uint32_t uid,
                       const std::string& file) override {
        const std::int64_t now = std::time(nullptr);
        // The closing UPDATE and the INSERT see the same snapshot: the new
        // period is not closed with the old one.
        WriteScope sp(*this, kRefusable);
        auto s = m_db.query(
            "WITH m AS (UPDATE message SET uidvalidity = $2, uid = $3, file = $4::text"
            "           WHERE id = $1 RETURNING id),"
            " closed AS (UPDATE uid_history SET to_at = $5"
            "            WHERE message_id IN (SELECT id FROM m) AND to_at IS NULL),"
            " opened AS (INSERT INTO uid_history(message_id, uidvalidity, uid, from_at)"
            "            SELECT id, $2, $3, $5 FROM m)"
            " SELECT count(*) FROM m",
            message_id, std::int64_t{uidvalidity}, std::int64_t{uid}, file, now);
        sp.commit();
        if (s.int64(0, 0) == 0) throw no_message(message_id);
    }

    void move_messages(Id from_mailbox, Id to_mailbox) override {
        WriteScope sp(*this, kRefusable);
        m_db.query("UPDATE message SET mailbox_id = $2 WHERE mailbox_id = $1", from_mailbox,
                   to_mailbox);
        sp.commit();
    }

    std::vector<std::string> files_in_dir(const std::string& dir) override {
        // A range on the message_file index: every path that starts with "dir/"
        // sorts below "dir0" ('0' follows '/'); the columns are COLLATE "C".
        const std::string from = dir + "/";
        const std::string to = dir + "0";
        auto s = m_db.query(
            "SELECT file FROM message WHERE file >= $1::text AND file < $2::text"
            " UNION ALL SELECT file FROM label_link WHERE file >= $1::text AND file < $2::text",
            from, to);
        std::vector<std::string> out;
        for (int row = 0; row < s.rows(); ++row) {
            std::string file = s.text(row, 0);
            if (file.find('/', from.size()) == std::string::npos) out.push_back(std::move(file));
        }
        return out;
    }

    bool files_pending(Id mailbox_id) override {
        auto s = m_db.query("SELECT files_pending FROM mailbox WHERE id = $1", mailbox_id);
        return s.rows() == 0 || s.boolean(0, 0);
    }

    void set_files_pending(Id mailbox_id, bool pending) override {
        WriteScope write(*this, kUnrefusable);
        auto s = m_db.query("UPDATE mailbox SET files_pending = $2 WHERE id = $1", mailbox_id,
                            PgBool{pending});
        if (s.affected() == 0)
            throw StoreError("catalog: no mailbox with id " + std::to_string(mailbox_id));
        write.commit();
    }

    void delete_message(Id message_id) override {
        WriteScope write(*this, kUnrefusable);
        m_db.query("DELETE FROM message WHERE id = $1", message_id);
        write.commit();
    }

    std::vector<FlagChange> flag_history(Id message_id) override {
        auto s = m_db.query(
            "SELECT at, flags FROM flag_history WHERE message_id = $1 ORDER BY at, id", message_id);
        std::vector<FlagChange> out;
        for (int row = 0; row < s.rows(); ++row)
            out.push_back({message_id, s.int64(row, 0), split_flags(s.text(row, 1))});
        return out;
    }

    std::vector<UidHistoryEntry> uid_history(Id message_id) override {
        auto s = m_db.query(
            "SELECT uidvalidity, uid, from_at, to_at FROM uid_history"
            " WHERE message_id = $1 ORDER BY from_at, id",
            message_id);
        std::vector<UidHistoryEntry> out;
        for (int row = 0; row < s.rows(); ++row)
            out.push_back({static_cast<std::uint32_t>(s.int64(row, 0)),
                           static_cast<std::uint32_t>(s.int64(row, 1)), s.int64(row, 2),
                           s.optional_int64(row, 3)});
        return out;
    }

    std::vector<MessageRecord> messages_at(Id mailbox_id, std::int64_t at) override {
        // The flags (and key) in force at `at` are those of the latest history
        // entry at or before it; ties at the same second go to the later row.
        auto s = m_db.query(
            std::string("SELECT ") + kMessageColumns +
                ", (SELECT h.flags FROM flag_history h WHERE h.message_id = m.id AND h.at <= $2"
                "   ORDER BY h.at DESC, h.id DESC LIMIT 1)"
                ", k.uidvalidity, k.uid"
                " FROM message m LEFT JOIN LATERAL (SELECT u.uidvalidity, u.uid FROM uid_history u"
                "   WHERE u.message_id = m.id AND u.from_at <= $2"
                "   ORDER BY u.from_at DESC, u.id DESC LIMIT 1) k ON true"
                " WHERE m.mailbox_id = $1 AND m.added_at <= $2"
                " AND (m.expunged_at IS NULL OR m.expunged_at > $2)",
            mailbox_id, at);
        std::vector<MessageRecord> out;
        for (int row = 0; row < s.rows(); ++row) {
            auto r = read_message(s, row);
            r.flags = split_flags(s.text(row, 15));
            if (!s.is_null(row, 16)) {
                r.uidvalidity = static_cast<std::uint32_t>(s.int64(row, 16));
                r.uid = static_cast<std::uint32_t>(s.int64(row, 17));
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
        auto s = m_db.query("SELECT " + column +
                                " FROM download_usage WHERE account_id = $1 AND day = $2",
                            account_id, day);
        if (s.rows() == 0) return 0;
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.int64(0, 0)));
    }

    void add_usage(const std::string& column, Id account_id, std::int64_t day, std::uint64_t bytes) {
        WriteScope sp(*this, kRefusable);
        m_db.query("INSERT INTO download_usage(account_id, day, " + column +
                       ") VALUES ($1, $2, $3) ON CONFLICT (account_id, day) DO UPDATE SET " +
                       column + " = download_usage." + column + " + EXCLUDED." + column,
                   account_id, day, to_db(bytes));
        sp.commit();
    }

    Id begin_run(const std::string& command, std::int64_t at) override {
        WriteScope write(*this, kUnrefusable);
        auto s = m_db.query(
            "INSERT INTO run(command, started_at, status) VALUES ($1::text, $2, 'running')"
            " RETURNING id",
            command, at);
        const Id id = s.int64(0, 0);
        // A fenced catalog is a fleet worker's: the record is linked to the
        // account in the same commit, so that whoever claims the account
        // next can close it if this worker dies first (fleet/lease.hpp).
        if (m_fence)
            m_db.query(
                "UPDATE fleet_accounts SET run_id = $4::bigint WHERE name = $1::text"
                " AND lease_owner = $2::text AND lease_generation = $3::bigint",
                m_fence->account, m_fence->owner, m_fence->generation, id);
        write.commit();
        return id;
    }

    void finish_run(Id run_id, std::int64_t at, const std::string& status,
                    const std::string& report_json) override {
        WriteScope write(*this, kUnrefusable);
        auto s = m_db.query(
            "UPDATE run SET finished_at = $2, status = $3::text, report_json = $4::text"
            " WHERE id = $1",
            run_id, at, status, report_json);
        if (s.affected() == 0)
            throw StoreError("catalog: no run with id " + std::to_string(run_id));
        write.commit();
    }

    std::optional<RunRecord> last_run(const std::string& command) override {
        auto s = m_db.query(
            "SELECT id, command, started_at, finished_at, status, report_json"
            " FROM run WHERE command = $1::text ORDER BY started_at DESC, id DESC LIMIT 1",
            command);
        if (s.rows() == 0) return std::nullopt;
        return RunRecord{s.int64(0, 0),          s.text(0, 1), s.int64(0, 2),
                         s.optional_int64(0, 3), s.text(0, 4), s.text(0, 5)};
    }

    void add_restore_entry(const RestoreJournalEntry& e) override {
        WriteScope sp(*this, kRefusable);
        m_db.query(
            "INSERT INTO restore_journal(target_account, target_mailbox, source_message_id,"
            " target_uidvalidity, target_uid, appended_at, flags_checked)"
            " VALUES ($1::text, $2::bytea, $3, $4, $5, $6, $7)",
            e.target_account, e.target_mailbox, e.source_message_id,
            std::int64_t{e.target_uidvalidity}, std::int64_t{e.target_uid}, e.appended_at,
            PgBool{e.flags_checked});
        sp.commit();
    }

    bool restored(const std::string& target_account, const std::string& target_mailbox,
                  Id source_message_id) override {
        return restore_entry(target_account, target_mailbox, source_message_id).has_value();
    }

    std::optional<RestoreJournalEntry> restore_entry(const std::string& target_account,
                                                     const std::string& target_mailbox,
                                                     Id source_message_id) override {
        auto s = m_db.query(
            "SELECT target_uidvalidity, target_uid, appended_at, flags_checked"
            " FROM restore_journal WHERE target_account = $1::text AND target_mailbox = $2::bytea"
            " AND source_message_id = $3 ORDER BY appended_at DESC, id DESC LIMIT 1",
            target_account, target_mailbox, source_message_id);
        if (s.rows() == 0) return std::nullopt;
        return RestoreJournalEntry{target_account,
                                   target_mailbox,
                                   source_message_id,
                                   static_cast<std::uint32_t>(s.int64(0, 0)),
                                   static_cast<std::uint32_t>(s.int64(0, 1)),
                                   s.int64(0, 2),
                                   s.boolean(0, 3)};
    }

    void set_gmail_message(const GmailMessage& g, std::int64_t at) override {
        const auto joined = join_labels(g.labels);
        Transaction tx(*this);
        // The message row locked: a concurrent writer of the same message
        // waits here, and then sees these labels as the recorded ones.
        auto before = m_db.query(
            "SELECT g.labels FROM message m LEFT JOIN gmail_message g ON g.message_id = m.id"
            " WHERE m.id = $1 FOR UPDATE OF m",
            g.message_id);
        m_db.query(
            "INSERT INTO gmail_message (message_id, msgid, thrid, labels, linked)"
            " VALUES ($1, $2, $3, $4::bytea, false) ON CONFLICT (message_id) DO UPDATE"
            " SET msgid = EXCLUDED.msgid, thrid = EXCLUDED.thrid, labels = EXCLUDED.labels,"
            " linked = false",
            g.message_id, to_db(g.msgid), to_db(g.thrid), joined);
        if (before.rows() == 0 || before.is_null(0, 0) || before.text(0, 0) != joined)
            m_db.query(
                "INSERT INTO label_history (message_id, at, labels) VALUES ($1, $2, $3::bytea)",
                g.message_id, at, joined);
        tx.commit();
    }

    std::optional<GmailMessage> gmail_message(Id message_id) override {
        auto s = m_db.query("SELECT msgid, thrid, labels FROM gmail_message WHERE message_id = $1",
                            message_id);
        if (s.rows() == 0) return std::nullopt;
        return GmailMessage{message_id, static_cast<std::uint64_t>(s.int64(0, 0)),
                            static_cast<std::uint64_t>(s.int64(0, 1)), split_labels(s.text(0, 2))};
    }

    std::vector<LabelChange> label_history(Id message_id) override {
        auto s =
            m_db.query("SELECT at, labels FROM label_history WHERE message_id = $1 ORDER BY at, id",
                       message_id);
        std::vector<LabelChange> out;
        for (int row = 0; row < s.rows(); ++row)
            out.push_back({message_id, s.int64(row, 0), split_labels(s.text(row, 1))});
        return out;
    }

    std::vector<LabelLink> label_links(Id message_id) override {
        auto s = m_db.query(
            "SELECT label, file FROM label_link WHERE message_id = $1 ORDER BY label", message_id);
        std::vector<LabelLink> out;
        for (int row = 0; row < s.rows(); ++row) out.push_back({s.text(row, 0), s.text(row, 1)});
        return out;
    }

    void set_label_links(Id message_id, const std::vector<LabelLink>& links) override {
        Transaction tx(*this);
        m_db.query("DELETE FROM label_link WHERE message_id = $1", message_id);
        for (const auto& l : links)
            m_db.query(
                "INSERT INTO label_link (message_id, label, file) VALUES ($1, $2::bytea, $3::text)",
                message_id, l.label, l.file);
        m_db.query("UPDATE gmail_message SET linked = true WHERE message_id = $1", message_id);
        tx.commit();
    }

    std::vector<std::string> linked_labels(Id mailbox_id) override {
        auto s = m_db.query(
            "SELECT DISTINCT l.label FROM label_link l JOIN message m ON m.id = l.message_id"
            " WHERE m.mailbox_id = $1 ORDER BY l.label",
            mailbox_id);
        std::vector<std::string> out;
        for (int row = 0; row < s.rows(); ++row) out.push_back(s.text(row, 0));
        return out;
    }

    std::vector<Id> unlinked_gmail_messages(Id mailbox_id, std::size_t limit) override {
        auto s = m_db.query(
            "SELECT g.message_id FROM gmail_message g JOIN message m ON m.id = g.message_id"
            " WHERE NOT g.linked AND m.mailbox_id = $1 ORDER BY g.message_id LIMIT $2",
            mailbox_id,
            static_cast<std::int64_t>(
                std::min<std::size_t>(limit, static_cast<std::size_t>(INT64_MAX))));
        std::vector<Id> out;
        for (int row = 0; row < s.rows(); ++row) out.push_back(s.int64(row, 0));
        return out;
    }

    void mark_restore_flags_checked(const std::string& target_account,
                                    const std::string& target_mailbox,
                                    const std::vector<Id>& source_message_ids) override {
        if (source_message_ids.empty()) return;
        // One statement (atomic, one round trip), the ids as an array literal.
        std::string ids = "{";
        for (Id id : source_message_ids) ids += (ids.size() > 1 ? "," : "") + std::to_string(id);
        WriteScope write(*this, kUnrefusable);
        m_db.query(
            "UPDATE restore_journal SET flags_checked = true WHERE target_account = $1::text"
            " AND target_mailbox = $2::bytea AND source_message_id = ANY ($3::text::bigint[])",
            target_account, target_mailbox, ids + "}");
        write.commit();
    }

    std::uint64_t round_trips() const { return m_db.round_trips(); }

  private:
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

    // Around each write method. A write that a constraint may refuse (unique,
    // foreign key), inside the caller's transaction: a savepoint, so that the
    // write failing undoes itself and leaves the transaction usable (as a
    // failed statement does in SQLite). Writes no constraint can refuse go
    // without: a savepoint costs two round trips, and update_flags runs once
    // per changed message. Outside a transaction: nothing (the statement
    // commits on its own, atomically), unless the catalog is fenced: then a
    // transaction, whose COMMIT checks the fence.
    static constexpr bool kRefusable = true;
    static constexpr bool kUnrefusable = false;
    class WriteScope {
      public:
        WriteScope(PostgresCatalog& c, bool refusable)
            : m_catalog(c), m_active(c.m_depth > 0 ? refusable : c.m_fence.has_value()) {
            if (m_active) m_catalog.begin();
        }
        WriteScope(const WriteScope&) = delete;
        WriteScope& operator=(const WriteScope&) = delete;
        ~WriteScope() {
            if (m_active && !m_done) m_catalog.rollback();
        }
        void commit() {
            if (m_active) m_catalog.commit();
            m_done = true;
        }

      private:
        PostgresCatalog& m_catalog;
        bool m_active;
        bool m_done = false;
    };

    static std::string idle_in_transaction_setting(const std::optional<PostgresWriteFence>& fence) {
        if (!fence || fence->idle_in_transaction.count() <= 0) return "";
        return "; SET idle_in_transaction_session_timeout TO " +
               std::to_string(fence->idle_in_transaction.count());
    }

    static std::string savepoint(int depth) { return "imapkeep_sp" + std::to_string(depth); }

    // Before the outermost COMMIT: is the lease still ours? The row stays
    // locked FOR SHARE until the COMMIT, so no claim can take it in between
    // (a claimer's SKIP LOCKED passes it by). On failure the transaction is
    // rolled back and LeaseLost thrown; any other error also ends it.
    void check_fence() {
        bool held = false;
        try {
            held = !m_fence_lost &&
                   m_db.query(
                           "SELECT 1 FROM fleet_accounts WHERE name = $1::text"
                           " AND lease_owner = $2::text AND lease_generation = $3::bigint"
                           " FOR SHARE",
                           m_fence->account, m_fence->owner, m_fence->generation)
                           .rows() == 1;
        } catch (...) {
            end_transaction("ROLLBACK");
            throw;
        }
        if (held) return;
        end_transaction("ROLLBACK");
        if (!m_fence_lost) {
            m_fence_lost = true;
            if (m_fence->on_lost) m_fence->on_lost();
        }
        throw lease_lost();
    }

    LeaseLost lease_lost() const {
        return LeaseLost("catalog: the lease on fleet account " + m_fence->account +
                         " is no longer ours (it expired and another worker took it, or the "
                         "account was removed): nothing was committed");
    }

    static StoreError no_message(Id id) {
        return StoreError("catalog: no message with id " + std::to_string(id));
    }

    template <class... Args>
    std::vector<MessageRecord> select_messages(const std::string& where, const Args&... args) {
        return read_messages(m_db.query(
            std::string("SELECT ") + kMessageColumns + " FROM message m" + where, args...));
    }

    // The three rows of each of `count` new messages (message, first flag
    // and uid history entries) in one statement: one round trip. The caller
    // holds a transaction or savepoint when there are more statements.
    std::vector<Id> insert_messages(const MessageRecord* rows, std::size_t count) {
        PgParams params;
        for (std::size_t i = 0; i < count; ++i) {
            const auto& r = rows[i];
            params.add(r.mailbox_id)
                .add(std::int64_t{r.uidvalidity})
                .add(std::int64_t{r.uid})
                .add(r.internaldate)
                .add(std::int64_t{r.internaldate_zone})
                .add(to_db(r.size))
                .add(r.sha256)
                .add(r.message_id)
                .add(join_flags(normalize_flags(r.flags)))
                .add(to_db(r.modseq))
                .add(r.file)
                .add(r.added_at)
                .add(r.expunged_at)
                .add(line_endings_name(r.line_endings));
        }
        auto s = m_db.run(insert_messages_sql(count), params);
        return ids_in_row_order(s, rows, count);
    }

    // RETURNING gives no order: the ids come sorted, and identity values are
    // drawn in VALUES order, so sorted ids are the rows' order. Checked on
    // each row's key rather than trusted.
    static std::vector<Id> ids_in_row_order(const PgResult& s, const MessageRecord* rows,
                                            std::size_t count) {
        if (static_cast<std::size_t>(s.rows()) != count)
            throw StoreError("catalog: " + std::to_string(count) + " messages added, " +
                             std::to_string(s.rows()) + " ids returned");
        std::vector<Id> ids;
        ids.reserve(count);
        for (int row = 0; row < s.rows(); ++row) {
            const auto& r = rows[row];
            if (s.int64(row, 1) != r.mailbox_id || s.int64(row, 2) != std::int64_t{r.uid} ||
                s.int64(row, 3) != std::int64_t{r.uidvalidity})
                throw StoreError("catalog: the ids of added messages came in another order");
            ids.push_back(s.int64(row, 0));
        }
        return ids;
    }

    static std::string insert_messages_sql(std::size_t count) {
        constexpr int kColumns = 14;
        std::string values;
        for (std::size_t i = 0; i < count; ++i) {
            const int p = static_cast<int>(i) * kColumns;
            auto n = [&](int column) { return "$" + std::to_string(p + column); };
            values += (i == 0 ? "(" : ", (") + n(1) + ", " + n(2) + ", " + n(3) + ", " + n(4) +
                      ", " + n(5) + ", " + n(6) + ", " + n(7) + "::text, " + n(8) + "::bytea, " +
                      n(9) + "::bytea, " + n(10) + ", " + n(11) + "::text, " + n(12) + ", " +
                      n(13) + ", " + n(14) + "::text)";
        }
        return "WITH m AS (INSERT INTO message(mailbox_id, uidvalidity, uid, internaldate,"
               " internaldate_zone, size, sha256, message_id, flags, modseq, file, added_at,"
               " expunged_at, line_endings) VALUES " +
               values +
               " RETURNING id, mailbox_id, uid, uidvalidity, flags, added_at, expunged_at),"
               " f AS (INSERT INTO flag_history(message_id, at, flags)"
               "   SELECT id, added_at, flags FROM m),"
               " u AS (INSERT INTO uid_history(message_id, uidvalidity, uid, from_at, to_at)"
               "   SELECT id, uidvalidity, uid, added_at, expunged_at FROM m)"
               " SELECT id, mailbox_id, uid, uidvalidity FROM m ORDER BY id";
    }

    // The snapshot's transaction (PostgresCatalogOptions::snapshot), with
    // the migrations a new or older catalog needs applied inside it.
    void open_snapshot() {
        m_db.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
        m_depth = 1;
        try {
            apply_postgres_migrations_in_transaction(m_db, m_schema,
                                                     compiled_postgres_migrations());
        } catch (...) {
            end_transaction("ROLLBACK");
            throw;
        }
    }

    // The outermost transaction ends, whatever the server answers.
    void end_transaction(const char* how) noexcept {
        try {
            m_db.exec(how);
        } catch (const StoreError&) {
            // The connection is gone, or the server ended the transaction.
        }
        m_depth = 0;
        m_db.allow_reconnect(true);
    }

    // BEGIN and, when writers take turns, the catalog's advisory lock, in one
    // round trip. The lock is the transaction's: COMMIT or ROLLBACK frees it.
    void begin_outermost() {
        if (!m_serialize_writers) {
            m_db.exec("BEGIN");
            return;
        }
        try {
            // The key is our own integer: no parameter needed.
            m_db.exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(m_lock_key) + ")");
        } catch (const StoreError& e) {
            try {
                m_db.exec("ROLLBACK");
            } catch (const StoreError&) {
                // BEGIN itself failed: there is nothing to roll back.
            }
            throw StoreError(std::string(e.what()) +
                             " (another writer held the catalog for lock_timeout)");
        }
    }

    PgConnection m_db;
    std::string m_schema;
    bool m_serialize_writers;
    std::int64_t m_lock_key;
    // 1 for a snapshot, whose own transaction callers never end.
    int m_base_depth;
    int m_depth = 0;
    std::optional<PostgresWriteFence> m_fence;
    // The fence refused a commit: every later write is refused too.
    bool m_fence_lost = false;
};

}  // namespace

std::unique_ptr<Catalog> open_postgres_catalog(const PostgresCatalogOptions& options) {
    return std::make_unique<PostgresCatalog>(options);
}

std::uint64_t postgres_round_trips(const Catalog& catalog) {
    const auto* postgres = dynamic_cast<const PostgresCatalog*>(&catalog);
    return postgres ? postgres->round_trips() : 0;
}

// host and dbname as libpq itself reads them (URI or key=value); the
// password is never looked at.
std::string describe_postgres_catalog(const PostgresCatalogOptions& options) {
    char* error = nullptr;
    PQconninfoOption* parsed = libpq().PQconninfoParse(options.conninfo.c_str(), &error);
    if (!parsed) {
        if (error) libpq().PQfreemem(error);
        return "PostgreSQL (unreadable connection string), schema " + options.schema;
    }
    std::string host = "localhost", db;
    for (auto* o = parsed; o->keyword; ++o) {
        if (!o->val) continue;
        if (std::string(o->keyword) == "host") host = o->val;
        if (std::string(o->keyword) == "dbname") db = o->val;
    }
    libpq().PQconninfoFree(parsed);
    return "PostgreSQL " + host + (db.empty() ? "" : "/" + db) + ", schema " + options.schema;
}

int postgres_catalog_schema_version() {
    const auto& migrations = compiled_postgres_migrations();
    return migrations.empty() ? 0 : migration_version(migrations.back().name);
}

}  // namespace imapkeep::store
