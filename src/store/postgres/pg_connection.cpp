#include "store/postgres/pg_connection.hpp"

#include <charconv>
#include <cstring>
#include <set>

#include "store/postgres/libpq.hpp"

namespace imapkeep::store {
namespace {

// SQLSTATEs (PostgreSQL's Appendix A) another attempt may not meet: class 08
// (connection exception), 40001 serialization_failure, 40P01
// deadlock_detected, 53300 too_many_connections, 55P03 lock_not_available
// (a lock_timeout), 57P01-57P03 (the server shutting down or starting).
bool transient_state(const std::string& state) {
    static const std::set<std::string> kTransient{"40001", "40P01", "53300", "55P03",
                                                  "57P01", "57P02", "57P03"};
    return state.rfind("08", 0) == 0 || kTransient.count(state) > 0;
}

// libpq's words (its own, and the server's FATAL at startup) for a server
// that is not there or not ready yet. Everything else that ends a connection
// attempt (an unknown database or role, a refused password, a conninfo libpq
// cannot parse, a certificate) is the settings' fault.
bool transient_connect_failure(const std::string& message) {
    static const char* const kPassing[] = {
        "Connection refused", "timeout expired", "Connection timed out", "Network is unreachable",
        "No route to host", "Connection reset", "server closed the connection unexpectedly",
        "could not receive data from server", "could not send data to server",
        "Temporary failure in name resolution", "the database system is starting up",
        "the database system is shutting down", "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "the database system is not accepting connections", "too many clients already",
        "remaining connection slots are reserved", "SSL SYSCALL error"};
    for (const char* text : kPassing)
        if (message.find(text) != std::string::npos) return true;
    return false;
}

class PgError final : public StoreError {
  public:
    PgError(const std::string& message, bool transient)
        : StoreError(message), m_transient(transient) {}
    bool transient() const noexcept override { return m_transient; }

  private:
    bool m_transient;
};

// Type OIDs of catalog/pg_type.h (stable across versions; the server headers
// are not needed for these few).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;

std::string big_endian(std::uint64_t value, int bytes) {
    std::string out(static_cast<std::size_t>(bytes), '\0');
    for (int i = bytes - 1; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
        value >>= 8;
    }
    return out;
}

std::uint64_t read_big_endian(const char* data, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(data[i]);
    return value;
}

// A signed binary integer of `bytes` bytes (two's complement, network order).
std::int64_t read_signed(const char* data, int bytes) {
    const std::uint64_t raw = read_big_endian(data, bytes);
    const int unused = 64 - 8 * bytes;
    if (unused == 0) return static_cast<std::int64_t>(raw);
    return static_cast<std::int64_t>(raw << unused) >> unused;
}

// The first line of a statement, for error messages.
std::string_view first_line(std::string_view sql) {
    const auto end = sql.find('\n');
    sql = sql.substr(0, end);
    return sql.size() > 160 ? sql.substr(0, 160) : sql;
}

void ignore_notice(void*, const char*) {
    // "schema already exists, skipping" and the like: not for the user's terminal.
}

}  // namespace

PgParams& PgParams::add(std::int64_t value) {
    m_values.push_back(big_endian(static_cast<std::uint64_t>(value), 8));
    m_null.push_back(false);
    m_types.push_back(kInt8Oid);
    return *this;
}

PgParams& PgParams::add(std::string_view value) {
    m_values.emplace_back(value);
    m_null.push_back(false);
    m_types.push_back(0);
    return *this;
}

PgParams& PgParams::add(PgBool value) {
    m_values.emplace_back(1, value.value ? '\1' : '\0');
    m_null.push_back(false);
    m_types.push_back(kBoolOid);
    return *this;
}

PgParams& PgParams::add(const std::optional<std::int64_t>& value) {
    if (value) return add(*value);
    m_values.emplace_back();
    m_null.push_back(true);
    m_types.push_back(kInt8Oid);
    return *this;
}

std::vector<const char*> PgParams::values() const {
    std::vector<const char*> out;
    out.reserve(m_values.size());
    for (std::size_t i = 0; i < m_values.size(); ++i)
        out.push_back(m_null[i] ? nullptr : m_values[i].data());
    return out;
}

std::vector<int> PgParams::lengths() const {
    std::vector<int> out;
    out.reserve(m_values.size());
    for (const auto& v : m_values) out.push_back(static_cast<int>(v.size()));
    return out;
}

PgResult::~PgResult() {
    if (m_result) libpq().PQclear(m_result);
}

int PgResult::rows() const { return libpq().PQntuples(m_result); }

std::int64_t PgResult::affected() const {
    const char* n = libpq().PQcmdTuples(m_result);
    std::int64_t value = 0;
    std::from_chars(n, n + std::strlen(n), value);
    return value;
}

std::string PgResult::status() const { return libpq().PQcmdStatus(m_result); }

bool PgResult::is_null(int row, int column) const {
    return libpq().PQgetisnull(m_result, row, column) != 0;
}

std::int64_t PgResult::int64(int row, int column) const {
    if (is_null(row, column)) return 0;
    const char* data = libpq().PQgetvalue(m_result, row, column);
    const int length = libpq().PQgetlength(m_result, row, column);
    if (libpq().PQfformat(m_result, column) == 0) {  // text: a simple query's result
        if (length == 1 && (data[0] == 't' || data[0] == 'f')) return data[0] == 't';
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(data, data + length, value);
        if (ec != std::errc() || end != data + length)
            throw StoreError("catalog: column " + std::to_string(column) + " is not a number");
        return value;
    }
    switch (libpq().PQftype(m_result, column)) {
        case kInt8Oid:
        case kInt4Oid:
        case kInt2Oid:
        case kBoolOid:
            return read_signed(data, length);
        case kOidOid:
            return static_cast<std::int64_t>(read_big_endian(data, length));
        default:
            throw StoreError("catalog: column " + std::to_string(column) + " (type " +
                             std::to_string(libpq().PQftype(m_result, column)) +
                             ") is not an integer");
    }
}

std::optional<std::int64_t> PgResult::optional_int64(int row, int column) const {
    if (is_null(row, column)) return std::nullopt;
    return int64(row, column);
}

std::string PgResult::text(int row, int column) const {
    if (is_null(row, column)) return {};
    return std::string(libpq().PQgetvalue(m_result, row, column),
                       static_cast<std::size_t>(libpq().PQgetlength(m_result, row, column)));
}

PgConnection::PgConnection(const std::string& conninfo) {
    m_conn = libpq().PQconnectdb(conninfo.c_str());
    ++m_round_trips;
    if (!m_conn) throw StoreError("catalog: PostgreSQL: out of memory");
    if (libpq().PQstatus(m_conn) != CONNECTION_OK) {
        std::string message = libpq().PQerrorMessage(m_conn);
        while (!message.empty() && message.back() == '\n') message.pop_back();
        libpq().PQfinish(m_conn);
        m_conn = nullptr;
        throw CatalogUnreachable("catalog: cannot connect to PostgreSQL: " + message,
                                 transient_connect_failure(message));
    }
    libpq().PQsetNoticeProcessor(m_conn, ignore_notice, nullptr);
}

PgConnection::~PgConnection() {
    if (m_conn) libpq().PQfinish(m_conn);
}

void PgConnection::set_session(std::string sql) {
    m_session = std::move(sql);
    exec(m_session);
}

void PgConnection::reconnect_if_lost() {
    if (!m_reconnect_allowed || libpq().PQstatus(m_conn) == CONNECTION_OK) return;
    libpq().PQreset(m_conn);
    ++m_round_trips;
    if (libpq().PQstatus(m_conn) != CONNECTION_OK) {
        std::string message = libpq().PQerrorMessage(m_conn);
        while (!message.empty() && message.back() == '\n') message.pop_back();
        // The server restarting, or the network: the next attempt may find it back.
        throw PgError("catalog: lost the connection to PostgreSQL and cannot reconnect: " + message,
                      true);
    }
    // A new session: no prepared statements, no settings.
    m_prepared.clear();
    if (!m_session.empty()) {
        ++m_round_trips;
        checked(libpq().PQexec(m_conn, m_session.c_str()), m_session);
    }
}

PgResult PgConnection::exec(const std::string& sql) {
    reconnect_if_lost();
    ++m_round_trips;
    return checked(libpq().PQexec(m_conn, sql.c_str()), sql);
}

const std::string& PgConnection::prepared(const std::string& sql, const PgParams& params) {
    reconnect_if_lost();
    auto found = m_prepared.find(sql);
    if (found != m_prepared.end()) return found->second;
    std::string name = "imapkeep_" + std::to_string(m_prepared.size() + 1);
    ++m_round_trips;
    checked(
        libpq().PQprepare(m_conn, name.c_str(), sql.c_str(), params.size(), params.types().data()),
        sql);
    return m_prepared.emplace(sql, std::move(name)).first->second;
}

PgResult PgConnection::run(const std::string& sql, const PgParams& params) {
    const auto& name = prepared(sql, params);
    const auto values = params.values();
    const auto lengths = params.lengths();
    const std::vector<int> binary(static_cast<std::size_t>(params.size()), 1);
    ++m_round_trips;
    return checked(libpq().PQexecPrepared(m_conn, name.c_str(), params.size(), values.data(),
                                          lengths.data(), binary.data(), 1),
                   sql);
}

void PgConnection::stream(const std::string& sql, const PgParams& params,
                          const std::function<void(const PgResult&)>& visit) {
    const auto& name = prepared(sql, params);
    const auto values = params.values();
    const auto lengths = params.lengths();
    const std::vector<int> binary(static_cast<std::size_t>(params.size()), 1);
    ++m_round_trips;
    if (!libpq().PQsendQueryPrepared(m_conn, name.c_str(), params.size(), values.data(),
                                     lengths.data(), binary.data(), 1))
        fail(nullptr, sql);
    libpq().PQsetSingleRowMode(m_conn);
    try {
        while (pg_result* r = libpq().PQgetResult(m_conn)) {
            const auto status = libpq().PQresultStatus(r);
            if (status == PGRES_SINGLE_TUPLE) {
                PgResult row(r);
                visit(row);
            } else if (status == PGRES_TUPLES_OK) {
                libpq().PQclear(r);
            } else {
                fail(r, sql);  // clears r
            }
        }
    } catch (...) {
        drain();
        throw;
    }
}

std::string PgConnection::drain() {
    std::string first_error;
    while (pg_result* r = libpq().PQgetResult(m_conn)) {
        const auto status = libpq().PQresultStatus(r);
        if (first_error.empty() && status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK &&
            status != PGRES_COMMAND_OK)
            first_error = libpq().PQresultErrorMessage(r);
        libpq().PQclear(r);
    }
    return first_error;
}

std::string PgConnection::quote_identifier(std::string_view name) const {
    char* quoted = libpq().PQescapeIdentifier(m_conn, name.data(), name.size());
    if (!quoted)
        throw StoreError("catalog: bad SQL identifier: " +
                         std::string(libpq().PQerrorMessage(m_conn)));
    std::string out(quoted);
    libpq().PQfreemem(quoted);
    return out;
}

PgResult PgConnection::checked(pg_result* result, std::string_view sql) {
    const auto status = result ? libpq().PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
    fail(result, sql);
}

void PgConnection::fail(pg_result* result, std::string_view sql) const {
    std::string message =
        result ? libpq().PQresultErrorMessage(result) : libpq().PQerrorMessage(m_conn);
    std::string state;
    if (result) {
        if (const char* s = libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE)) state = s;
        libpq().PQclear(result);
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    const bool lost = libpq().PQstatus(m_conn) == CONNECTION_BAD;
    if (lost) message += " (the connection to PostgreSQL is lost)";
    throw PgError("catalog: " + std::string(first_line(sql)) + ": " +
                      (state.empty() ? "" : "[" + state + "] ") + message,
                  lost || transient_state(state));
}

}  // namespace imapkeep::store
