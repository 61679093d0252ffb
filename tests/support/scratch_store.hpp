// A scratch backup store for tests: a temp dir, a SQLite catalog + Maildir
// store in it, and a comparable snapshot of both. Shared by the sync tests
// (against the model server) and the integration tests (against Dovecot).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>
#include <imapkeep/util/sha256.hpp>
#include <map>
#include <set>
#include <string>
#include <tuple>

namespace imapkeep::testing {

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
        options.stop_after_steps = stop_after;
        return backup(account, options);
    }
    // With the caller's options; open_catalog is this store's.
    sync::AccountReport backup(const sync::AccountConfig& account, sync::BackupOptions options) {
        options.open_catalog = [path = (root / "catalog.sqlite").string()] { return store::open_sqlite_catalog(path); };
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
