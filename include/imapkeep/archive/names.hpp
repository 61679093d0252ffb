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

// How restore names a source mailbox on its target. RFC 2342 personal
// namespaces: a folder's name is the namespace prefix ("INBOX." on Courier,
// classic Cyrus and Dovecot as cPanel sets it up; "" on most servers), then its
// levels joined with the server's delimiter.
struct NameMapping {
    std::string source_delimiter;  // the source mailbox's ("" = flat)
    std::string source_prefix;     // the source's personal prefix, e.g. "INBOX." (source_personal_prefix)
    std::string prefix;            // the user's --prefix, e.g. "Restored/"
    std::string target_delimiter;  // LIST "" "" on the target ("" = flat)
    std::string target_prefix;     // the target's personal prefix (NAMESPACE), e.g. "INBOX."
    // More characters a source level must not hold on the target, turned into
    // their fullwidth form like the delimiter: those its storage refuses
    // (Quirk(Dovecot): Maildir++ refuses "." with "/" as the delimiter).
    std::string stand_in_characters;
};

// The restore target's name for a source mailbox: the source's levels below its
// personal prefix, under the user's prefix (its levels split at "/" or the
// target delimiter; levels that spell the target's personal prefix are not
// repeated), under the target's personal prefix, joined with the target
// delimiter. "INBOX.Sent" (source "INBOX.", ".") becomes "Sent" on a "/" target
// and "INBOX.Sent" again on an "INBOX." one. Without a prefix INBOX stays INBOX.
// A source level holding the target delimiter keeps it as one level: the
// delimiter character becomes its fullwidth form (RFC 3501 5.1.1 leaves the
// delimiter no other meaning), "foo.bar" on a "/" server is "foo" U+FF0E "bar" on a
// "." one, never the folder bar under foo. A flat target keeps the source
// delimiter as plain text.
std::string target_mailbox_name(std::string_view source, const NameMapping& mapping);
std::string target_mailbox_name(std::string_view source, std::string_view source_delimiter,
                                std::string_view prefix, std::string_view target_delimiter);

// The personal prefix a backed-up account had, told by its mailbox names
// (the catalog keeps no NAMESPACE): "INBOX" + delimiter when the delimiter is
// not "/" and every mailbox but INBOX is below INBOX (Courier, classic Cyrus,
// cPanel's Dovecot: all use "."), else "".
struct SourceMailbox {
    std::string name;
    std::string delimiter;
};
std::string source_personal_prefix(const std::vector<SourceMailbox>& mailboxes);

}  // namespace imapkeep::archive
