// What fuzz_sync checks in the store after every backup run (DESIGN.md
// "Invariants"): each catalog row's file is there with the recorded size and
// hash (invariant 2), no file lies outside the store or outside the layout,
// no (mailbox, UIDVALIDITY, UID) is live twice, no two rows share a file, and
// with expunged = keep no row is ever lost between runs.
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/util/sha256.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "fuzz_check.hpp"

namespace imapkeep::fuzz {

namespace fs = std::filesystem;

struct StoredRow {
    std::string sha256;
    std::uint64_t size = 0;
    bool operator==(const StoredRow&) const = default;
};
using StoredRows = std::map<store::Id, StoredRow>;

// A catalog path: relative, no "." or ".." or empty component, in the
// account's live tree or its attic.
inline bool well_formed_file(const std::string& file, const std::string& account) {
    if (file.rfind("mail/" + account + "/", 0) != 0 && file.rfind("attic/" + account + "/", 0) != 0)
        return false;
    for (const auto& part : fs::path(file))
        if (part.empty() || part == "." || part == "..") return false;
    return file.find("//") == std::string::npos;
}

inline void check_file(store::MessageStore& messages, const store::MessageRecord& m,
                       const std::string& account, std::set<std::string>& files) {
    check(well_formed_file(m.file, account), "a catalog file path stays in the account's trees");
    const std::string path = messages.absolute(messages.locate(m.file));
    std::error_code ec;
    check(fs::is_regular_file(fs::symlink_status(path, ec)), "every catalog row has its file");
    // The file may hold the LF form of the message (line_endings): its
    // original bytes are what the catalog records.
    const auto original = store::digest_original(path, m.line_endings);
    check(original.size == m.size, "a stored file has the recorded size");
    check(original.sha256 == m.sha256, "a stored file has the recorded hash");
    if (m.line_endings == store::LineEndings::Wire)
        check(fs::file_size(path, ec) == m.size && !ec, "a byte-for-byte file has the recorded size");
    check(files.insert(path).second, "no two catalog rows share a file");
}

// Every row of every mailbox of `account`; returns them for check_kept.
inline StoredRows check_catalog(store::Catalog& catalog, store::MessageStore& messages,
                                const std::string& account) {
    StoredRows rows;
    auto id = catalog.find_account(account);
    if (!id) return rows;
    std::set<std::string> files;
    std::set<std::string> live_folders;
    for (const auto& mailbox : catalog.mailboxes(*id, true)) {
        const bool live_mailbox = !mailbox.deleted_at;
        if (live_mailbox)
            check(live_folders.insert(mailbox.folder).second, "no two live mailboxes share a folder");
        std::set<std::pair<std::uint32_t, std::uint32_t>> live_keys;
        for (const auto& m : catalog.all_messages(mailbox.id)) {
            check_file(messages, m, account, files);
            if (!m.expunged_at)
                check(live_keys.emplace(m.uidvalidity, m.uid).second,
                      "no (mailbox, UIDVALIDITY, UID) is live twice");
            rows[m.id] = StoredRow{m.sha256, m.size};
        }
    }
    return rows;
}

// A row keeps its bytes for life, and with expunged = keep (`mirror` false)
// nothing stored ever goes away: every row of the run before is still there
// (its file was checked by check_catalog). Mirroring deletes rows, and SQLite
// may give a deleted row's id to a new one: there an id may change bytes.
inline void check_kept(const StoredRows& before, const StoredRows& after, bool mirror) {
    if (mirror) return;
    for (const auto& [id, row] : before) {
        auto it = after.find(id);
        check(it != after.end(), "expunged = keep: no catalog row is lost");
        check(it->second == row, "a catalog row's bytes never change");
    }
}

// Nothing escaped the store: the fence dirs around it hold only the way in,
// and inside it every path is the catalog, a tree of `account` or a marker
// that one was made durable (STORE/.durable/TREE.ACCOUNT); no symlinks.
inline void check_layout(const fs::path& fence, const fs::path& root, const std::string& account) {
    for (fs::path dir = fence; dir != root;) {
        std::size_t entries = 0;
        fs::path inner;
        for (const auto& e : fs::directory_iterator(dir)) {
            ++entries;
            inner = e.path();
        }
        check(entries == 1 && root.string().rfind(inner.string(), 0) == 0,
              "no file outside the store dir");
        dir = inner;
    }
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        check(!it->is_symlink(), "no symlink in the store");
        auto rel = fs::relative(it->path(), root);
        auto first = rel.begin()->string();
        if (first == "mail" || first == "attic") {
            if (std::distance(rel.begin(), rel.end()) > 1)
                check(std::next(rel.begin())->string() == account, "the trees hold only the account's folders");
            continue;
        }
        if (first == ".durable") {  // markers of the trees made durable once (maildir_store.cpp)
            if (std::distance(rel.begin(), rel.end()) > 1) {
                const auto marker = std::next(rel.begin())->string();
                check(marker == "mail." + account || marker == "attic." + account,
                      "STORE/.durable holds only the account's tree markers");
            }
            continue;
        }
        check(first.rfind("catalog.sqlite", 0) == 0 || first == ".lock", "only the catalog beside the trees");
    }
}

}  // namespace imapkeep::fuzz
