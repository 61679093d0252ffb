// Names in the Maildir++ tree: mailbox -> folder escaping, unique file names,
// the ":2," info suffix, and parsing of store-relative paths. Pure string work,
// no I/O, so every rule is table-tested.
//
// Layout (relative to the store root):
//   TREE/ACCOUNT/[FOLDER/]SUB/NAME   TREE = mail | attic, SUB = cur | new | tmp,
//                                    FOLDER = "" (INBOX) or ".A.B" (Maildir++)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::store {

// Longest directory entry name on Linux file systems (NAME_MAX).
constexpr std::size_t kMaxNameBytes = 255;

// See MessageStore::folder_for for the rules.
std::string escape_folder_level(std::string_view level_utf8);
std::string folder_for_mailbox(std::string_view mailbox, std::string_view delimiter);

// A folder argument is "" or one component that starts with "." and is neither
// "." nor ".." and holds no "/" or NUL. Throws StoreError otherwise.
void check_folder(std::string_view folder);
// An account is one component: not empty, no leading ".", no "/" or NUL.
void check_account(std::string_view account);

// "<time>.<pid>_<counter>.<host>" (the classic Maildir unique name, with a
// process-wide counter so threads never collide). The pid is taken once per
// process (util::process_id), not by a syscall per name.
std::string unique_name(std::int64_t now);

// NAME without its info suffix: "x,U=5:2,S" -> "x,U=5".
std::string_view base_name(std::string_view name);
// NAME with the info suffix ":2,<letters>".
std::string with_info(std::string_view name, std::string_view letters);
// The part of NAME that never changes: no ",U=" field, no info suffix.
// "x,U=5:2,S" -> "x".
std::string_view unique_part(std::string_view name);
// NAME with its ",U=" field set to `uid`, info suffix kept.
std::string with_uid(std::string_view name, std::uint32_t uid);

struct StorePath {
    std::string tree;  // "mail" | "attic"
    std::string account;
    std::string folder;  // "" for INBOX
    std::string sub;     // "cur" | "new" | "tmp"
    std::string name;

    std::string dir() const;       // TREE/ACCOUNT[/FOLDER]/SUB
    std::string relative() const;  // dir() + "/" + name
};

// Parses and checks a store-relative path (no "..", no absolute path, the layout
// above). Throws StoreError on anything else.
StorePath parse_store_path(std::string_view relative);

}  // namespace imapkeep::store
