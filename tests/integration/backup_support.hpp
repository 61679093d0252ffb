// Shared pieces of the backup integration tests: the Dovecot from
// scripts/test-env/up.sh, a scratch store, and a comparable snapshot of it.
#pragma once

#include <imapkeep/imap/connect.hpp>

#include "support/scratch_store.hpp"
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>
#include <imapkeep/util/sha256.hpp>

#include "test_env.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace imapkeep::testing {

inline std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

inline bool have_dovecot() { return env("IMAPKEEP_TEST_IMAP_PORT").has_value(); }

// Test user N of scripts/test-env/up.sh: IMAPKEEP_TEST_USER, _USER2, _USER3, ...
inline std::string test_user(int user) {
    const std::string n = user == 1 ? "" : std::to_string(user);
    return env(("IMAPKEEP_TEST_USER" + n).c_str()).value_or("user" + std::to_string(user));
}
inline std::string test_password(int user) {
    const std::string n = user == 1 ? "" : std::to_string(user);
    return env(("IMAPKEEP_TEST_PASSWORD" + n).c_str()).value_or("");
}

inline imap::ConnectOptions dovecot_options(int user = 1) {
    imap::ConnectOptions o;
    o.host = env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1");
    o.port = std::stoi(env("IMAPKEEP_TEST_IMAP_PORT").value_or("143"));
    o.tls = imap::TlsMode::None;
    o.allow_plaintext_auth = true;
    o.user = test_user(user);
    std::string pw = test_password(user);
    o.password = [pw] { return pw; };
    o.read_timeout = std::chrono::seconds(30);
    return o;
}

// The real servers of scripts/test-env/up.sh. Tests that are about a server's
// behaviour run against each of them.
enum class ServerKind { Dovecot, Cyrus };

inline const char* server_name(ServerKind kind) { return kind == ServerKind::Dovecot ? "Dovecot" : "Cyrus"; }

inline const char* server_port_variable(ServerKind kind) {
    return kind == ServerKind::Dovecot ? "IMAPKEEP_TEST_IMAP_PORT" : "IMAPKEEP_TEST_CYRUS_PORT";
}

// Plain-TCP LOGIN as test user N on either server (up.sh gives both the same
// users and passwords).
inline imap::ConnectOptions server_options(ServerKind kind, int user = 1) {
    imap::ConnectOptions o = dovecot_options(user);
    o.port = std::stoi(env(server_port_variable(kind)).value_or("143"));
    return o;
}

inline std::vector<ServerKind> all_servers() { return {ServerKind::Dovecot, ServerKind::Cyrus}; }

// The servers a test runs on: each of all_servers() whose variables are set. A
// missing one FAILs under the test command and is skipped visibly by hand
// (test_env.hpp). A test iterates these with a DYNAMIC_SECTION named by
// server_name(), so that a failure names the server.
inline std::vector<ServerKind> servers_under_test() {
    std::vector<ServerKind> out;
    for (auto kind : all_servers())
        if (test_env_has({server_port_variable(kind)}, std::string("the test ") + server_name(kind)))
            out.push_back(kind);
    return out;
}

// The hierarchy delimiter (LIST "" "", RFC 3501 §6.3.8); "/" for a flat server.
inline std::string hierarchy_delimiter(imap::Client& c) {
    auto root = c.list("", "");
    return root.empty() || root.front().delimiter.empty() ? "/" : root.front().delimiter;
}

// `slash_path` with each "/" replaced by the server's delimiter `d`.
inline std::string with_delimiter(std::string slash_path, const std::string& d) {
    for (std::size_t pos = 0; (pos = slash_path.find('/', pos)) != std::string::npos; pos += d.size())
        slash_path.replace(pos, 1, d);
    return slash_path;
}

inline std::string unique_name(const std::string& stem) {
    std::random_device rd;
    return stem + std::to_string(rd() % 1000000);
}

}  // namespace imapkeep::testing
