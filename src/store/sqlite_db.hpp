// A thin RAII layer over one sqlite3 connection: prepared statements cached by
// SQL text, typed binds and columns, errors as StoreError with the SQL quoted.
// Internal to the store layer (public headers never show sqlite3*).
#pragma once

#include <cstdint>
#include <functional>
#include <imapkeep/store/catalog.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/wal_checkpointer.hpp"
#include "store/wal_group_sync.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace imapkeep::store {

class SqliteDb;

// A cached statement in use: binds, steps, reads columns. Resets and clears its
// bindings when it goes out of scope so the cache can hand it out again.
class Statement {
  public:
    Statement(SqliteDb& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::optional<std::int64_t>& value);
    Statement& bind_null(int index);

    // true: a row is ready; false: done.
    bool step();
    // Runs a statement that returns no rows.
    void run();

    std::int64_t int64(int column) const;
    std::string text(int column) const;
    std::optional<std::int64_t> optional_int64(int column) const;
    bool is_null(int column) const;

  private:
    SqliteDb* m_db;
    sqlite3_stmt* m_stmt;
};

class SqliteDb {
  public:
    // Opens or creates `path`. Throws StoreError.
    explicit SqliteDb(const std::string& path);
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;
    ~SqliteDb();

    // Replaces this database's content with the file at `path`, only read
    // (SQLite's online backup: a consistent copy even while another
    // process writes it). Throws StoreError.
    void copy_from(const std::string& path);
    // PRAGMA user_version of the database at `path`, read as copy_from reads
    // (no file of it changes). Throws StoreError.
    static std::int64_t peek_user_version(const std::string& path);
    // Runs one or more statements without results (PRAGMAs, DDL, BEGIN...).
    void exec(const std::string& sql);
    // A cached prepared statement for one SQL statement.
    Statement prepare(const std::string& sql);
    std::int64_t last_insert_id() const;
    int changes() const;
    // No transaction is open on this connection (sqlite3_get_autocommit).
    bool autocommit() const;
    // Reads a PRAGMA whose value is one integer (user_version, foreign_keys).
    std::int64_t pragma_int(const std::string& name);
    std::string pragma_text(const std::string& name);

    // Closing leaves the write-ahead log as it is: no checkpoint into the
    // database file, no delete. The log holds committed transactions like
    // the database does (SQLite reads both), so nothing is lost; the
    // database file alone is then not the whole catalog, as with any open
    // WAL database. What it saves: a checkpoint's two syncs at every close,
    // and the next run's re-creation of the log (its header's sync and the
    // directory's). Checkpoints still happen, as commits grow the log past
    // wal_autocheckpoint pages. Call in WAL mode only.
    void keep_log_at_close();

    // Group commit (wal_group_sync.hpp), shared by every connection of the
    // process to this file: sets PRAGMA synchronous = NORMAL, so a commit
    // writes its frames to the log without a sync, and makes each commit
    // durable through `group` before the statement that committed returns,
    // or, while defer_log_sync() is on, in the caller's make_durable(). Also
    // takes over the log's checkpoints from SQLite's auto-checkpoint, which
    // would run inside the committing statement: make_durable() runs them,
    // after the sync. Call in WAL mode only.
    void group_commits(std::shared_ptr<WalGroupSync> group);
    // With group commits: the checkpoints make_durable() would run are asked
    // of `checkpointer` (shared by the process's connections to this file)
    // instead, unless the log has grown past what a background thread keeps
    // short (then make_durable() runs one itself, as before).
    void checkpoint_in_background(std::shared_ptr<WalCheckpointer> checkpointer) {
        m_checkpointer = std::move(checkpointer);
    }
    // One checkpoint now, through this connection; true when it did what
    // `mode` asks (wal_checkpointer.hpp): the whole log copied, and for a
    // restart no reader left on it. A restart copies passively first, then
    // holds the other connections' writes off while it copies the rest; it
    // never waits for them as long as this connection has no busy handler
    // (it gives up: false). Throws StoreError on an error; a checkpoint
    // another connection is running is none.
    bool checkpoint(CheckpointMode mode);
    // While on, a commit's sync waits for make_durable() (the caller first
    // releases what it holds, e.g. the catalog's write lock).
    void defer_log_sync(bool on) { m_defer_log_sync = on; }
    // Returns once every commit of this connection is durable. Throws
    // StoreError when the log cannot be synced.
    void make_durable();
    // `write` (one autocommitted statement), committed without a sync of its
    // own: the next sync of the log, whichever connection makes it, covers
    // it, as a log is synced whole. Only for what no change depends on.
    template <class Write>
    void commit_unsynced(Write&& write) {
        const bool deferred = std::exchange(m_defer_log_sync, true);
        try {
            write();
        } catch (...) {
            m_defer_log_sync = deferred;
            throw;
        }
        m_defer_log_sync = deferred;
        m_unsynced_ticket = 0;
    }

    // What a statement that finds the database locked does: called with the
    // number of earlier calls for the same lock; true retries, false gives
    // up (SQLITE_BUSY). It must not throw. Replaces any busy timeout.
    using BusyHandler = std::function<bool(int count)>;
    void on_busy(BusyHandler handler);

    // Throws StoreError "<what>: <sqlite message>" when rc is an error.
    [[noreturn]] void fail(int rc, std::string_view what) const;

  private:
    // "catalog PATH: message", and for a full disk also "No space left on
    // device", so that the error names the file system to free.
    [[noreturn]] void throw_error(int rc, std::string message, std::string_view what) const;

    friend class Statement;
    // A statement ended; a commit it made is made durable now unless deferred.
    void statement_done();
    void sync_log();
    void checkpoint_if_long();
    // One sqlite3_wal_checkpoint_v2 of `kind`, as checkpoint() reports it.
    bool checkpoint_once(int kind);

    sqlite3* m_db = nullptr;
    std::shared_ptr<WalGroupSync> m_group;  // null: SQLite's own syncs (synchronous = FULL)
    std::shared_ptr<WalCheckpointer> m_checkpointer;  // null: checkpoints in make_durable()
    std::uint64_t m_unsynced_ticket = 0;    // this connection's last commit, not yet durable
    int m_log_frames = 0;                   // frames in the log after that commit
    bool m_defer_log_sync = false;
    std::string m_path;
    BusyHandler m_busy;
    std::unordered_map<std::string, sqlite3_stmt*> m_cache;
};

}  // namespace imapkeep::store
