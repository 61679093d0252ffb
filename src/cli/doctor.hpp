// `imapkeep doctor` (issue 11): checks that a config, its accounts and its
// store will work, one line each. Every check is a small named function; the
// ones that look at the world (DNS, TCP, TLS, login, the store) gather facts
// and hand them to a pure decision function, which the unit tests drive from
// tables.
//
// Contract: doctor never writes to the store or the server. The store is read
// (stat, statvfs, the lock probed with a shared flock that is dropped at once,
// the catalog opened read-only into memory); the server sees a login,
// CAPABILITY and LOGOUT; an OAuth2 account's token endpoint one refresh (the
// token cache gets the new access token). A password is never printed: details carry only what
// the connection layer says, which never holds a secret (secrets.hpp).
#pragma once

#include <cstdint>
#include <imapkeep/imap/connect.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/config.hpp"
#include "cli/http_post.hpp"

namespace imapkeep::cli {

enum class CheckStatus { Ok, Warn, Fail };

struct CheckResult {
    CheckStatus status = CheckStatus::Ok;
    std::string name;    // "config", "work: tcp", "store: free space"
    std::string detail;  // what was found
    std::string hint;    // WARN/FAIL: what to do
};

CheckResult ok(std::string name, std::string detail);
CheckResult warn(std::string name, std::string detail, std::string hint);
CheckResult fail(std::string name, std::string detail, std::string hint);

// "OK    work: tcp           imap.example.com:993 (12 ms)", and for WARN and
// FAIL " -- hint: ..." at the end. One line: newlines in server text become
// spaces.
std::string format_check(const CheckResult& check);

// 0 when nothing FAILed (WARN allowed), else 1.
int doctor_exit_code(const std::vector<CheckResult>& checks);

// --- config (doctor_config.cpp) -------------------------------------------

// The config file and the password files: readable by others is WARN for a
// config without secrets and FAIL for a file holding a password (backup
// refuses to run then, exit 2) unless allow_readable_secrets says it is on
// purpose (WARN). A password_file that is missing or empty, or an account with
// no password source and no IMAPKEEP_PASSWORD, FAILs too.
std::vector<CheckResult> check_config_files(const Config& config, bool have_password_env);

// --- store (doctor_store.cpp) ---------------------------------------------

// Free space below this warns: a backup that fills the disk fails mid-run.
inline constexpr std::uint64_t kLowFreeSpaceBytes = 1ull << 30;  // 1 GiB

CheckResult store_path_check(const std::string& store_path);
CheckResult free_space_check(std::uint64_t bytes_free, const std::string& where);

// What lock_holder() and the catalog's last backup say.
struct LockFacts {
    std::optional<pid_t> holder;       // a process holds the lock now (pid, 0 unknown)
    bool last_run_unfinished = false;  // the last backup began and never finished
    std::string last_run_started;      // ISO 8601, when unfinished
};
CheckResult lock_check(const LockFacts& facts);

// What check_catalog_file() and a read-only open say.
struct CatalogFacts {
    bool exists = false;
    int version = 0;        // PRAGMA user_version from the file header
    int known_version = 0;  // this build's
    std::string error;      // set: refused or could not be opened
    std::string postgres;   // set: the catalog is this PostgreSQL place (catalog_name)
};
CheckResult catalog_check(const CatalogFacts& facts);

// Every store check, in order: path, permissions, free space, lock, catalog.
std::vector<CheckResult> check_store(const Config& config);

// --- network (doctor_network.cpp, doctor_tls.cpp) -------------------------

// TLS as the probe saw it (doctor_tls.cpp).
struct TlsFacts {
    std::string handshake_error;  // set: no handshake at all
    std::string protocol;         // "TLSv1.3"
    std::string subject;          // "CN=imap.example.com"
    std::string issuer;
    std::string fingerprint;        // sha256, lower-case hex
    std::int64_t seconds_left = 0;  // until notAfter; negative: expired
    bool verify = true;             // tls_verify
    bool pinned = false;            // tls_fingerprint set
    bool pin_matched = false;
    std::string verify_error;  // chain/host name problem, "" when it verified
};
// WARN under this long before expiry.
inline constexpr std::int64_t kCertificateWarnSeconds = 14 * 24 * 3600;
CheckResult tls_check(const std::string& name, const TlsFacts& facts);

// Connects to host:port over TCP (STARTTLS first when asked) and handshakes
// without failing on verification, so the certificate can be described; then
// says whether it verified as the account's settings require.
TlsFacts probe_tls(const imap::ConnectOptions& options);

// The sync method backup will use with these capabilities (sync/backup.cpp's
// choose_path, without ENABLEing anything): "QRESYNC", "CONDSTORE" or "plain".
std::string predicted_sync_path(const std::vector<std::string>& capabilities,
                                const std::string& sync_path);
CheckResult sync_path_check(const std::string& name, const std::vector<std::string>& capabilities,
                            const std::string& sync_path, const std::vector<std::string>& disabled);

// How a failed connection reads as a check, with a hint per kind.
CheckResult connect_failure_check(const std::string& name, imap::ConnectError::Kind kind,
                                  const std::string& message);

// Every check of one account: DNS, TCP, TLS (or SSH), login, capabilities,
// sync path. Later steps are left out when an earlier one fails.
std::vector<CheckResult> check_account(const sync::AccountConfig& account);

// --- OAuth2 (doctor_oauth2.cpp) -------------------------------------------

// An account with an OAuth2 client (auth = "oauth2"): the refresh token's
// source exists (a command is only run by the refresh), then one refresh at
// the token endpoint through `post`, whose new access token goes to the
// token cache as a run's would. No token or secret is printed: details carry
// only OAuth2Error's text (oauth2_token.hpp). Who can read the token files is
// check_config_files()'s (SecretFile::token).
std::vector<CheckResult> check_oauth2(const OAuth2Settings& settings, const HttpPost& post);

}  // namespace imapkeep::cli
