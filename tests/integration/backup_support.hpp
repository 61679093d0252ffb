// Shared pieces of the backup integration tests: the Dovecot from
// scripts/test-env/up.sh, a scratch store, and a comparable snapshot of it.
#pragma once

#include <imapkeep/imap/connect.hpp>
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

// Plain-TCP LOGIN as user1/2/3 (passN) on either server.
inline imap::ConnectOptions server_options(ServerKind kind, int user = 1) {
    if (kind == ServerKind::Dovecot) return dovecot_options(user);
    imap::ConnectOptions o = dovecot_options(user);
    o.port = std::stoi(env("IMAPKEEP_TEST_CYRUS_PORT").value_or("143"));
    o.user = "user" + std::to_string(user);
    std::string pw = "pass" + std::to_string(user);
    o.password = [pw] { return pw; };
    return o;
}

inline std::vector<ServerKind> all_servers() { return {ServerKind::Dovecot, ServerKind::Cyrus}; }

inline std::string unique_name(const std::string& stem) {
    std::random_device rd;
    return stem + std::to_string(rd() % 1000000);
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "imapkeep-it.XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

struct Store {
    std::filesystem::path root;
    std::unique_ptr<store::Catalog> catalog;
    std::unique_ptr<store::MessageStore> messages;
    explicit Store(const std::filesystem::path& r) : root(r) { open(); }
    void open() {
        catalog = store::open_sqlite_catalog((root / "catalog.sqlite").string());
        messages = store::open_maildir_store(root.string());
    }
    sync::AccountReport backup(const sync::AccountConfig& account, std::uint64_t stop_after = 0) {
        sync::BackupOptions options;
        options.catalog_path = (root / "catalog.sqlite").string();
        options.stop_after_steps = stop_after;
        return sync::backup_account(account, *catalog, *messages, options);
    }
};

// Everything about a store that must be the same after an interrupted+resumed
// run as after an uninterrupted one: catalog rows and the files' folders,
// contents and flag suffixes (the unique part of a name is not compared).
struct Snapshot {
    std::multiset<std::tuple<std::string, std::uint32_t, std::string, std::string, bool>> messages;
    std::multiset<std::tuple<std::string, std::string, std::string>> files;  // dir, sha, suffix
    std::size_t tmp_files = 0;
    bool operator==(const Snapshot&) const = default;
};

inline Snapshot snapshot(Store& s, const std::string& account) {
    Snapshot snap;
    auto id = s.catalog->find_account(account);
    if (id) {
        for (const auto& mb : s.catalog->mailboxes(*id, true)) {
            for (const auto& m : s.catalog->all_messages(mb.id)) {
                std::string flags;
                for (const auto& f : m.flags) flags += f + " ";
                snap.messages.emplace(mb.name, m.uid, m.sha256, flags, m.expunged_at.has_value());
            }
        }
    }
    namespace fs = std::filesystem;
    for (const char* top : {"mail", "attic"}) {
        fs::path base = s.root / top;
        if (!fs::exists(base)) continue;
        for (const auto& e : fs::recursive_directory_iterator(base)) {
            if (!e.is_regular_file()) continue;
            auto dir = e.path().parent_path();
            auto leaf = dir.filename().string();
            if (leaf == "tmp") {
                ++snap.tmp_files;
                continue;
            }
            if (leaf != "cur" && leaf != "new") continue;
            auto name = e.path().filename().string();
            auto colon = name.find(":2,");
            std::string suffix = colon == std::string::npos ? "" : name.substr(colon);
            snap.files.emplace(fs::relative(dir, s.root).string(),
                               util::sha256_file_hex(e.path().string()), suffix);
        }
    }
    return snap;
}

}  // namespace imapkeep::testing
