// How mailbox names become paths in an export, and names on a restore target.
// Every export file name derives from (mailbox, UIDVALIDITY, UID) only, never
// from the time of the run, so that an export straight from a server (--url) and
// an export from a backup of it give the same tree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::archive {

// Splits a mailbox name at its hierarchy delimiter ("" = flat: one level).
std::vector<std::string> split_mailbox(std::string_view name, std::string_view delimiter);

// One path component for a mailbox level (mbox and eml trees). UTF-8 is kept;
// "%", "/", bytes < 0x20 and 0x7F become "%XX"; a leading "." too, so no level
// is hidden, "." or ".."; an empty level is "%". Reversible.
std::string escape_path_level(std::string_view level);

// "A/B" (delimiter "/") -> "A/B" with each level escaped; INBOX in any case -> "INBOX".
// A level longer than 250 bytes (255 with ".mbox") is cut and ended with "~"
// and 16 hex digits of the SHA-256 of the whole level.
std::string mailbox_relative_path(std::string_view name, std::string_view delimiter);

// Maildir++ folder as Dovecot lays it out: "" for INBOX, else "." + levels in
// modified UTF-7 joined by ".", each level escaped "%XX" for "%", ".", "/",
// control bytes (the same rule as the store's folder_for). Invalid UTF-8 is
// escaped byte by byte. A folder longer than 255 bytes is cut the same way.
std::string maildir_folder(std::string_view name, std::string_view delimiter);

// "<uidvalidity>.<uid>": the stem of every exported message file.
std::string message_stem(std::uint32_t uidvalidity, std::uint32_t uid);

// Mailbox patterns: sync::mailbox_selected (include/imapkeep/sync/plan.hpp).

// The restore target's name for a source mailbox: the prefix's levels (split at
// "/" or the target delimiter), then the source's levels, joined with the target
// delimiter. Without a prefix INBOX stays INBOX. A flat target (no delimiter)
// keeps the source delimiter as plain text.
std::string target_mailbox_name(std::string_view source, std::string_view source_delimiter,
                                std::string_view prefix, std::string_view target_delimiter);

}  // namespace imapkeep::archive
