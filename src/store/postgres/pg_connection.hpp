// A thin RAII layer over one libpq connection, the PostgreSQL twin of
// sqlite_db.hpp: prepared statements cached by SQL text, values sent and read
// in binary form (no quoting, no parsing of numbers, any bytes in a BYTEA),
// errors as StoreError with the SQLSTATE and the statement quoted. Internal to
// the store layer (public headers never show PGconn*).
#pragma once

#include <cstdint>
#include <functional>
#include <imapkeep/store/catalog.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace imapkeep::store {

// A boolean parameter. A tag type, because a plain bool overload would catch
// every pointer (a string literal would bind as true).
struct PgBool {
    bool value;
};

// The parameters of one statement, in binary form. Strings have no type of
// their own: the server takes the column's (TEXT or BYTEA), and both keep the
// bytes as given (TEXT checks they are UTF-8).
class PgParams {
  public:
    PgParams& add(std::int64_t value);
    PgParams& add(std::string_view value);
    PgParams& add(PgBool value);
    PgParams& add(const std::optional<std::int64_t>& value);

    int size() const { return static_cast<int>(m_values.size()); }
    const std::vector<unsigned>& types() const { return m_types; }
    // Pointers into this object: valid while it lives unchanged.
    std::vector<const char*> values() const;
    std::vector<int> lengths() const;

  private:
    std::vector<std::string> m_values;
    std::vector<bool> m_null;
    std::vector<unsigned> m_types;  // Oid; 0 = let the server infer it
};

// The rows of one statement, read column by column (binary format).
class PgResult {
  public:
    explicit PgResult(pg_result* result) : m_result(result) {}
    PgResult(PgResult&& other) noexcept : m_result(other.m_result) { other.m_result = nullptr; }
    PgResult(const PgResult&) = delete;
    PgResult& operator=(const PgResult&) = delete;
    PgResult& operator=(PgResult&&) = delete;
    ~PgResult();

    int rows() const;
    // Rows an INSERT, UPDATE or DELETE touched.
    std::int64_t affected() const;
    // The command tag ("COMMIT", "ROLLBACK", "INSERT 0 1"...).
    std::string status() const;

    bool is_null(int row, int column) const;
    // BIGINT, INTEGER, SMALLINT or BOOLEAN (0/1); NULL reads as 0, as in SQLite.
    std::int64_t int64(int row, int column) const;
    std::optional<std::int64_t> optional_int64(int row, int column) const;
    bool boolean(int row, int column) const { return int64(row, column) != 0; }
    // TEXT or BYTEA, the bytes as stored; NULL reads as "".
    std::string text(int row, int column) const;

  private:
    pg_result* m_result;
};

class PgConnection {
  public:
    // Connects with a libpq connection string or URI ("" = the PG* environment
    // variables and libpq's defaults). Throws StoreError naming what failed,
    // never the password.
    explicit PgConnection(const std::string& conninfo);
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;
    ~PgConnection();

    // Session settings (SET ...): run now, and again after each reconnect.
    void set_session(std::string sql);
    // Whether a lost connection may be opened again before the next
    // statement. The caller allows it only outside a transaction: the work
    // of an open transaction is gone with its connection, and a COMMIT sent
    // on a new one would answer "COMMIT" for nothing. The statement that
    // meets the loss still fails: it may have been done or not.
    void allow_reconnect(bool allowed) { m_reconnect_allowed = allowed; }

    // One or more statements without parameters (DDL, BEGIN, SAVEPOINT...), in
    // one round trip. Returns the last statement's result.
    PgResult exec(const std::string& sql);
    // One statement through the cache of prepared statements: prepared on its
    // first use (with the parameter types of that use), then only executed.
    PgResult run(const std::string& sql, const PgParams& params = {});
    template <class... Args>
    PgResult query(const std::string& sql, const Args&... args) {
        PgParams params;
        (params.add(args), ...);
        return run(sql, params);
    }

    // One statement's rows, one at a time (libpq's single-row mode): memory
    // stays flat whatever the number of rows. `visit` gets a one-row result
    // and must not use this connection. If it throws, the rest of the rows
    // are read and dropped, then the exception goes on.
    template <class... Args>
    void for_each_row(const std::string& sql, const std::function<void(const PgResult&)>& visit,
                      const Args&... args) {
        PgParams params;
        (params.add(args), ...);
        stream(sql, params, visit);
    }

    // An SQL identifier, quoted for the statement text ("my schema").
    std::string quote_identifier(std::string_view name) const;

    // Round trips to the server since the connection opened (each exec, each
    // prepare, each execute): what the tests count instead of timing.
    std::uint64_t round_trips() const { return m_round_trips; }

  private:
    void reconnect_if_lost();
    const std::string& prepared(const std::string& sql, const PgParams& params);
    void stream(const std::string& sql, const PgParams& params,
                const std::function<void(const PgResult&)>& visit);
    // Reads what is left of a streamed statement; its first error, if any.
    std::string drain();
    PgResult checked(pg_result* result, std::string_view sql);
    [[noreturn]] void fail(pg_result* result, std::string_view sql) const;

    pg_conn* m_conn = nullptr;
    std::unordered_map<std::string, std::string> m_prepared;  // SQL -> statement name
    std::uint64_t m_round_trips = 0;
    std::string m_session;
    bool m_reconnect_allowed = false;
};

}  // namespace imapkeep::store
