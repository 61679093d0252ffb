// Shared pieces of the backup integration tests: the Dovecot from
// scripts/test-env/up.sh, a scratch store, and a comparable snapshot of it.
#pragma once

#include <imapkeep/imap/connect.hpp>

#include "support/scratch_store.hpp"
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>
#include <imapkeep/util/sha256.hpp>

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

inline bool have_server(ServerKind kind) {
    return env(kind == ServerKind::Dovecot ? "IMAPKEEP_TEST_IMAP_PORT" : "IMAPKEEP_TEST_CYRUS_PORT").has_value();
}

// Plain-TCP LOGIN as user1/2/3 on either server (same passwords, from the env).
inline imap::ConnectOptions server_options(ServerKind kind, int user = 1) {
    if (kind == ServerKind::Dovecot) return dovecot_options(user);
    imap::ConnectOptions o = dovecot_options(user);
    o.port = std::stoi(env("IMAPKEEP_TEST_CYRUS_PORT").value_or("143"));
    o.user = "user" + std::to_string(user);  // same users and passwords as Dovecot (up.sh)
    return o;
}

inline std::vector<ServerKind> all_servers() { return {ServerKind::Dovecot, ServerKind::Cyrus}; }

inline std::string unique_name(const std::string& stem) {
    std::random_device rd;
    return stem + std::to_string(rd() % 1000000);
}

}  // namespace imapkeep::testing
