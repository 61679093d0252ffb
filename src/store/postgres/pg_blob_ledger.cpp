// The PostgreSQL BlobLedger (postgres_blob_ledger.hpp): the statements of
// the gc protocol that blob_ledger.hpp argues for. Lists of keys travel as
// one newline-joined TEXT parameter split by string_to_array (keys are
// "s3:blobs/..." and hold no newline), so a page of a listing is one round
// trip whatever its size.
#include <imapkeep/store/postgres_blob_ledger.hpp>
#include <mutex>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_migrations.hpp"

namespace imapkeep::store {
namespace {

constexpr const char* kKeys = "string_to_array($1::text, E'\\n')";

std::string joined(const std::vector<std::string>& files) {
    std::string out;
    for (const auto& file : files) {
        if (file.find('\n') != std::string::npos)
            throw StoreError("gc: a key with a newline: not one of the S3 store's");
        if (!out.empty()) out += '\n';
        out += file;
    }
    return out;
}

class PostgresBlobLedger final : public BlobLedger {
  public:
    explicit PostgresBlobLedger(const PostgresCatalogOptions& options) : m_db(options.conninfo) {
        if (options.schema.empty()) throw StoreError("gc: the PostgreSQL schema name is empty");
        m_db.set_session("SET search_path TO " + m_db.quote_identifier(options.schema) +
                         "; SET client_encoding TO 'UTF8'; SET synchronous_commit TO on;"
                         " SET lock_timeout TO '60s';"
                         // A server default that ended a sweep's session
                         // while it waits for S3 would free the mark's lock
                         // before its DELETE is sent (blob_ledger.hpp).
                         " SET idle_in_transaction_session_timeout TO 0");
        apply_postgres_migrations(m_db, options.schema, compiled_postgres_migrations());
        m_db.allow_reconnect(true);
    }

    void claim(const std::vector<std::string>& files) override {
        if (files.empty()) return;
        std::lock_guard lock(m_mutex);
        m_db.query(std::string("DELETE FROM gc_mark WHERE file = ANY(") + kKeys + ")",
                   joined(files));
    }

    std::set<std::string> referenced(const std::vector<std::string>& files) override {
        std::set<std::string> found;
        if (files.empty()) return found;
        std::lock_guard lock(m_mutex);
        const auto rows =
            m_db.query(std::string("SELECT file FROM message WHERE file = ANY(") + kKeys +
                           ") UNION SELECT file FROM label_link WHERE file = ANY(" + kKeys + ")",
                       joined(files));
        for (int r = 0; r < rows.rows(); ++r) found.insert(rows.text(r, 0));
        return found;
    }

    std::map<std::string, std::int64_t> marks(const std::vector<std::string>& files) override {
        std::map<std::string, std::int64_t> found;
        if (files.empty()) return found;
        std::lock_guard lock(m_mutex);
        const auto rows = m_db.query(
            std::string("SELECT file, marked_at FROM gc_mark WHERE file = ANY(") + kKeys + ")",
            joined(files));
        for (int r = 0; r < rows.rows(); ++r) found[rows.text(r, 0)] = rows.int64(r, 1);
        return found;
    }

    void mark(const std::vector<std::string>& files, std::int64_t at) override {
        if (files.empty()) return;
        std::lock_guard lock(m_mutex);
        m_db.query(std::string("INSERT INTO gc_mark(file, marked_at) SELECT unnest(") + kKeys +
                       "), $2::bigint ON CONFLICT (file) DO NOTHING",
                   joined(files), at);
    }

    void unmark(const std::vector<std::string>& files) override { claim(files); }

    bool sweep(const std::string& file, std::int64_t marked_by,
               const std::function<void()>& delete_object) override {
        std::lock_guard lock(m_mutex);
        m_db.exec("BEGIN");
        m_db.allow_reconnect(false);
        bool deleted = false;
        try {
            sweep_locked(file, marked_by, delete_object, deleted);
            const auto result = m_db.exec("COMMIT");
            if (result.status() != "COMMIT") throw StoreError("COMMIT answered " + result.status());
            m_db.allow_reconnect(true);
            return deleted;
        } catch (const StoreError& e) {
            rollback();
            // blob_ledger.hpp's residual risk: say which object, for verify.
            if (deleted)
                throw StoreError("gc: " + file + " was deleted but its sweep did not commit (" +
                                 e.what() +
                                 "); if a backup reused it meanwhile, `imapkeep verify` reports "
                                 "its row missing");
            throw;
        } catch (...) {
            rollback();
            throw;
        }
    }

    std::size_t forget_marks(std::int64_t marked_before) override {
        std::lock_guard lock(m_mutex);
        return static_cast<std::size_t>(
            m_db.query("DELETE FROM gc_mark WHERE marked_at < $1::bigint", marked_before)
                .affected());
    }

    std::string catalog_id() override {
        std::lock_guard lock(m_mutex);
        const auto rows = m_db.query("SELECT id FROM catalog_id");
        if (rows.rows() != 1)
            throw StoreError("catalog: " + std::to_string(rows.rows()) +
                             " rows in catalog_id, where its migration made one");
        return rows.text(0, 0);
    }

  private:
    void rollback() noexcept {
        try {
            m_db.exec("ROLLBACK");
        } catch (const StoreError&) {
            // The connection may be gone; the server rolls back then.
        }
        m_db.allow_reconnect(true);
    }

    // s1-s4 of blob_ledger.hpp, inside the open transaction.
    // `deleted` is set once the object is gone, whatever comes after.
    void sweep_locked(const std::string& file, std::int64_t marked_by,
                      const std::function<void()>& delete_object, bool& deleted) {
        const auto mark =
            m_db.query("SELECT marked_at FROM gc_mark WHERE file = $1::text FOR UPDATE", file);
        if (mark.rows() == 0 || mark.int64(0, 0) > marked_by) return;
        const auto named = m_db.query(
            "SELECT EXISTS (SELECT 1 FROM message WHERE file = $1::text)"
            " OR EXISTS (SELECT 1 FROM label_link WHERE file = $1::text)",
            file);
        if (named.boolean(0, 0)) {
            m_db.query("DELETE FROM gc_mark WHERE file = $1::text", file);
            return;
        }
        delete_object();
        deleted = true;
        m_db.query("DELETE FROM gc_mark WHERE file = $1::text", file);
    }

    std::mutex m_mutex;
    PgConnection m_db;
};

}  // namespace

std::unique_ptr<BlobLedger> open_postgres_blob_ledger(const PostgresCatalogOptions& options) {
    return std::make_unique<PostgresBlobLedger>(options);
}

}  // namespace imapkeep::store
