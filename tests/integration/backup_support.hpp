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

inline imap::ConnectOptions dovecot_options(int user = 1) {
    imap::ConnectOptions o;
    o.host = env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1");
    o.port = std::stoi(env("IMAPKEEP_TEST_IMAP_PORT").value_or("143"));
    o.tls = imap::TlsMode::None;
    o.allow_plaintext_auth = true;
    o.user = env(user == 1 ? "IMAPKEEP_TEST_USER" : "IMAPKEEP_TEST_USER2").value_or("user1");
    std::string pw = env(user == 1 ? "IMAPKEEP_TEST_PASSWORD" : "IMAPKEEP_TEST_PASSWORD2").value_or("");
    o.password = [pw] { return pw; };
    o.read_timeout = std::chrono::seconds(30);
    return o;
}

inline std::string unique_name(const std::string& stem) {
    std::random_device rd;
    return stem + std::to_string(rd() % 1000000);
}

}  // namespace imapkeep::testing
