#include "store/sqlite_db.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <utility>

namespace imapkeep::store {

Statement::~Statement() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

Statement& Statement::bind(int index, std::int64_t value) {
    int rc = sqlite3_bind_int64(m_stmt, index, value);
    if (rc != SQLITE_OK) m_db->fail(rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) m_db->fail(rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
    int rc = sqlite3_bind_null(m_stmt, index);
    if (rc != SQLITE_OK) m_db->fail(rc, "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
        m_db->statement_done();
        return false;
    }
    // The statement stays usable: the destructor resets it.
    m_db->fail(rc, sqlite3_sql(m_stmt));
}

void Statement::run() {
    while (step()) {
    }
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::string Statement::text(int column) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    if (!p) return {};
    return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)));
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

namespace {

// Before SQLite initializes (the first open): no allocation statistics. With
// them, every sqlite3_malloc and free takes a global mutex, which made up
// most of the cost of cataloging a message in a cold backup (issue 10). Too
// late when something else in the process started SQLite first; then nothing
// changes.
void configure_sqlite_once() {
    static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)configured;
}

}  // namespace

SqliteDb::SqliteDb(const std::string& path) : m_path(path) {
    configure_sqlite_once();
    int rc =
        sqlite3_open_v2(path.c_str(), &m_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
        sqlite3_close(m_db);
        m_db = nullptr;
        throw StoreError("cannot open catalog " + path + ": " + message);
    }
    sqlite3_extended_result_codes(m_db, 1);
}

void SqliteDb::keep_log_at_close() {
    int on = 1;
    if (const int rc = sqlite3_file_control(m_db, "main", SQLITE_FCNTL_PERSIST_WAL, &on); rc != SQLITE_OK)
        fail(rc, "keep the write-ahead log");
    if (const int rc = sqlite3_db_config(m_db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr); rc != SQLITE_OK)
        fail(rc, "no checkpoint at close");
}

namespace {

// SQLite's own auto-checkpoint threshold (wal_autocheckpoint's default).
constexpr int kCheckpointFrames = 1000;
// A log this long (128 MB of 4 KB pages) has outgrown the background
// checkpoints: a steady stream of commits can keep each of them from
// reaching the end, and the log starts again at its head only once one does.
constexpr int kInlineCheckpointFrames = 32 * kCheckpointFrames;

}  // namespace

void SqliteDb::group_commits(std::shared_ptr<WalGroupSync> group) {
    m_group = std::move(group);
    exec("PRAGMA synchronous = NORMAL");
    // Called at the end of the statement that committed (or autocommitted),
    // once its frames are written. It must not throw.
    sqlite3_wal_hook(
        m_db,
        [](void* self, sqlite3*, const char*, int frames) noexcept -> int {
            auto* db = static_cast<SqliteDb*>(self);
            try {
                db->m_unsynced_ticket = db->m_group->committed();
            } catch (...) {
                return SQLITE_IOERR;
            }
            db->m_log_frames = frames;
            return SQLITE_OK;
        },
        this);
}

void SqliteDb::statement_done() {
    if (m_unsynced_ticket != 0 && !m_defer_log_sync) make_durable();
}

void SqliteDb::make_durable() {
    if (m_unsynced_ticket == 0) return;
    m_group->durable_through(m_unsynced_ticket, [this] { sync_log(); });
    m_unsynced_ticket = 0;
    checkpoint_if_long();
}

// Through SQLite's own file object: the same fdatasync its FULL mode makes,
// and on a connection's first sync the fsync of the directory that holds
// the log.
void SqliteDb::sync_log() {
    sqlite3_file* log = nullptr;
    int rc = sqlite3_file_control(m_db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log);
    if (rc == SQLITE_OK && (!log || !log->pMethods)) rc = SQLITE_IOERR_FSYNC;
    if (rc == SQLITE_OK) rc = log->pMethods->xSync(log, SQLITE_SYNC_NORMAL);
    if (rc != SQLITE_OK) throw_error(rc, sqlite3_errstr(rc), "sync the write-ahead log");
}

// A passive checkpoint neither waits for nor blocks the other connections;
// one they keep from finishing is tried again after a later commit.
void SqliteDb::checkpoint_if_long() {
    const int frames = std::exchange(m_log_frames, 0);
    if (m_checkpointer && frames < kInlineCheckpointFrames) {
        m_checkpointer->log_grew_to(frames);
        return;
    }
    if (frames < kCheckpointFrames) return;
    sqlite3_wal_checkpoint_v2(m_db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

bool SqliteDb::checkpoint(CheckpointMode mode) {
    // A restart first copies passively, holding no one off: the writers
    // then wait only while it copies what they committed meanwhile, not for
    // the whole log (up to 128 MB; on a slow disk that neared the 10 s a
    // writer waits for the catalog).
    if (mode == CheckpointMode::kRestart) checkpoint_once(SQLITE_CHECKPOINT_PASSIVE);
    return checkpoint_once(mode == CheckpointMode::kRestart ? SQLITE_CHECKPOINT_RESTART
                                                            : SQLITE_CHECKPOINT_PASSIVE);
}

bool SqliteDb::checkpoint_once(int kind) {
    int log_frames = 0;
    int copied_frames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(m_db, "main", kind, &log_frames, &copied_frames);
    if (rc == SQLITE_BUSY) return false;
    if (rc != SQLITE_OK) fail(rc, "checkpoint the write-ahead log");
    return copied_frames == log_frames;
}

void SqliteDb::on_busy(BusyHandler handler) {
    m_busy = std::move(handler);
    sqlite3_busy_handler(
        m_db,
        [](void* self, int count) noexcept -> int {
            try {
                return static_cast<SqliteDb*>(self)->m_busy(count) ? 1 : 0;
            } catch (...) {
                return 0;
            }
        },
        this);
}

namespace {

// A file name as the path of a "file:" URI: "%", "?" and "#" escaped.
std::string uri_path(const std::string& path) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            out += '%';
            out += kHex[static_cast<unsigned char>(c) >> 4];
            out += kHex[static_cast<unsigned char>(c) & 15];
        } else {
            out += c;
        }
    }
    return out;
}

// A connection that only reads `path` and leaves every file of it as it was.
// A log kept by the last run (keep_log_at_close) is read through its index
// opened read-only (SQLite's readonly_shm), so no reader's mark touches the
// -shm file; without one, read-write: a read-only connection to a WAL
// database would leave -wal and -shm files behind, which the last read-write
// connection removes when it closes. No page of the file is written.
int open_to_copy(const std::string& path, sqlite3** source) {
    std::error_code ec;
    if (std::filesystem::exists(path + "-wal", ec) && std::filesystem::exists(path + "-shm", ec)) {
        const std::string uri = "file:" + uri_path(path) + "?readonly_shm=1";
        const int rc = sqlite3_open_v2(uri.c_str(), source, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                                       nullptr);
        if (rc == SQLITE_OK) return rc;
        sqlite3_close(*source);
        *source = nullptr;
    }
    int rc = sqlite3_open_v2(path.c_str(), source, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        // A store on a read-only mount: read-only is all there is.
        sqlite3_close(*source);
        *source = nullptr;
        rc = sqlite3_open_v2(path.c_str(), source, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    }
    return rc;
}

}  // namespace

void SqliteDb::copy_from(const std::string& path) {
    sqlite3* source = nullptr;
    int rc = open_to_copy(path, &source);
    std::string message;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(source, 10000);
        sqlite3_backup* copy = sqlite3_backup_init(m_db, "main", source, "main");
        if (copy) {
            rc = sqlite3_backup_step(copy, -1);
            sqlite3_backup_finish(copy);
            if (rc == SQLITE_DONE) rc = SQLITE_OK;
        } else {
            rc = sqlite3_errcode(m_db);
        }
        if (rc != SQLITE_OK) message = sqlite3_errstr(rc);
    } else {
        message = source ? sqlite3_errmsg(source) : sqlite3_errstr(rc);
    }
    sqlite3_close(source);
    if (rc != SQLITE_OK) throw StoreError("cannot read catalog " + path + ": " + message);
}

std::int64_t SqliteDb::peek_user_version(const std::string& path) {
    sqlite3* source = nullptr;
    int rc = open_to_copy(path, &source);
    sqlite3_stmt* stmt = nullptr;
    std::int64_t version = 0;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(source, 10000);
        rc = sqlite3_prepare_v2(source, "PRAGMA user_version", -1, &stmt, nullptr);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            version = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    const std::string message = source ? sqlite3_errmsg(source) : sqlite3_errstr(rc);
    sqlite3_finalize(stmt);
    sqlite3_close(source);
    if (rc != SQLITE_OK) throw StoreError("cannot read catalog " + path + ": " + message);
    return version;
}

SqliteDb::~SqliteDb() {
    for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
    sqlite3_close(m_db);
}

void SqliteDb::exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string message = error ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw_error(rc, std::move(message), sql);
    }
    statement_done();
}

Statement SqliteDb::prepare(const std::string& sql) {
    auto it = m_cache.find(sql);
    if (it == m_cache.end()) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(m_db, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) fail(rc, sql);
        it = m_cache.emplace(sql, stmt).first;
    }
    return Statement(*this, it->second);
}

std::int64_t SqliteDb::last_insert_id() const { return sqlite3_last_insert_rowid(m_db); }

int SqliteDb::changes() const { return sqlite3_changes(m_db); }

bool SqliteDb::autocommit() const { return sqlite3_get_autocommit(m_db) != 0; }

std::int64_t SqliteDb::pragma_int(const std::string& name) {
    auto stmt = prepare("PRAGMA " + name);
    if (!stmt.step()) throw StoreError("catalog: PRAGMA " + name + " returned nothing");
    return stmt.int64(0);
}

std::string SqliteDb::pragma_text(const std::string& name) {
    auto stmt = prepare("PRAGMA " + name);
    if (!stmt.step()) throw StoreError("catalog: PRAGMA " + name + " returned nothing");
    return stmt.text(0);
}

void SqliteDb::fail(int rc, std::string_view what) const {
    if (m_db) rc = sqlite3_extended_errcode(m_db);
    throw_error(rc, m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc), what);
}

void SqliteDb::throw_error(int rc, std::string message, std::string_view what) const {
    if ((rc & 0xff) == SQLITE_FULL) message += " (No space left on device)";
    throw StoreError("catalog " + m_path + ": " + message + " (in: " + std::string(what.substr(0, 200)) +
                     ")");
}

}  // namespace imapkeep::store
