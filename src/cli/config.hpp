// The tool's configuration file (TOML, issue 3 "Command line and config" and
// issue 5 "[account.ssh]"), parsed into the option structs of the layers below.
// config.example.toml documents every key.
//
// Contract:
// - Unknown keys, wrong types, bad enum values, out-of-range numbers, duplicate
//   account names, a missing host/user and more than one password source are
//   errors. Every error is a ConfigError whose message starts with
//   "FILE:LINE: KEY: " (e.g. "config.toml:12: account.port: expected an integer
//   between 1 and 65535").
// - Secrets are never read at load time: password_command, password_file,
//   oauth2_token_command, the OAuth2 client secret and refresh token, and the
//   SSH passphrase/password commands become
//   std::functions run only when a connection needs them (secrets.hpp).
// - Relative paths and a leading "~/" are resolved against the config file's
//   directory and $HOME.
#pragma once

#include "cli/oauth2_settings.hpp"
#include "cli/retry.hpp"

#include <imapkeep/sync/backup.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <set>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::cli {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file that holds a secret: the config with an inline password, or a
// password_file. Other users must not be able to read it (permissions.hpp).
struct SecretFile {
    std::string path;
    std::string holds;           // "the password of account work"
    bool readable_ok = false;    // the account says allow_readable_secrets = true
    // An OAuth2 token file (the token cache, oauth2_refresh_token_file):
    // imapkeep writes it, so it may not exist yet, and it must be the user's
    // own (permissions.hpp).
    bool token = false;
};

// [store.s3]: where a "postgres+s3" store keeps the message bytes
// (store/s3_message_store.hpp). Path-style addressing only.
struct S3StoreConfig {
    std::string endpoint;  // "https://s3.example.org" or "http://127.0.0.1:7480"
    std::string bucket;
    std::string region = "us-east-1";
    std::string prefix;  // "" or e.g. "imapkeep/"
    std::string access_key;
    std::string ca_file;  // absolute; "" = the system's CAs
    // The secret key, fetched once on first use from secret_key_command or
    // secret_key_file. Never printed.
    std::function<std::string()> secret_key;
    // gc_grace: `imapkeep gc` deletes an unreferenced object only once it is
    // this old and was marked this long ago (store/s3_gc.hpp).
    std::chrono::seconds gc_grace{7 * 24 * 3600};
};

struct Config {
    std::string file;        // where it was read from
    std::string store_path;  // absolute; the lock (and, for postgres+s3, the spool) live here
    // [store] backend: "local" (Maildir files under store_path) or
    // "postgres+s3" (message bytes in S3, catalog in PostgreSQL).
    std::string store_backend = "local";
    S3StoreConfig s3;
    // [store] catalog: "" for STORE/catalog.sqlite, else a PostgreSQL
    // connection string or URI (catalog_place.hpp); catalog_schema its schema.
    std::string catalog_postgres;
    std::string catalog_schema = "imapkeep";
    std::vector<sync::AccountConfig> accounts;
    // Things the user asked for that deserve a line on stderr every run
    // (tls_verify = false, ...).
    std::vector<std::string> warnings;
    std::vector<SecretFile> secret_files;
    // retries / retry_delay: the top-level keys, and each account's own.
    RetryPolicy retry;
    std::map<std::string, RetryPolicy, std::less<>> account_retry;
    // "FILE:LINE: account.password: ..." for each account that will need a
    // password and names no source: an error unless IMAPKEEP_PASSWORD is set
    // (app.cpp checks it before anything runs, so it is exit 2, not 3).
    std::vector<std::string> accounts_without_password;
    // The run log (log.hpp): log_file (absolute; "" = none, --log-file wins)
    // and when syslog gets the lines: "auto" | "yes" | "no".
    std::string log_file;
    std::string syslog = "auto";
    // The accounts with an OAuth2 client (auth = "oauth2" and the oauth2_*
    // keys), by name: `imapkeep auth` runs its device flow. Their
    // ConnectOptions already get tokens from it.
    std::map<std::string, OAuth2Settings, std::less<>> oauth2;

    const sync::AccountConfig* find_account(std::string_view name) const;
    // The account's retry policy (its own keys over the top-level ones).
    RetryPolicy retry_for(std::string_view account) const;
};

// Parses TOML text; `file` names it in messages and anchors relative paths.
// Throws ConfigError.
Config parse_config(std::string_view text, const std::string& file);

// The keys the loader accepts, per table: "" (top level), "store", "account"
// and "account.ssh" -> key names. A key holding a table is listed in its
// parent ("store" and "account" at the top level, "ssh" in "account"). Taken
// from the loader's own reads (what reject_unknown() accepts), for tests that
// check the documentation names every key.
using ConfigKeys = std::map<std::string, std::set<std::string>>;
ConfigKeys accepted_config_keys();

// Reads and parses a file. A missing or unreadable file is a ConfigError too.
Config load_config(const std::string& file);

// $XDG_CONFIG_HOME/imapkeep/config.toml, else ~/.config/imapkeep/config.toml.
std::string default_config_path();

// "~" and "~/x" -> $HOME/x; relative paths -> base_dir/x; others unchanged.
std::string resolve_path(const std::string& path, const std::string& base_dir);

}  // namespace imapkeep::cli
