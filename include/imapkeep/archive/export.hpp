// imapkeep export (issue 4): an mbox, Maildir++ or .eml archive of an
// account, from the store (optionally as it was at a point in time), or in one
// shot straight from a server (--url), with the same file names and order.
//
// Both sort mailboxes by name and messages by (UIDVALIDITY, UID); names come
// from archive_writer.hpp. A store export reads live messages (or
// Catalog::messages_at for --at) and checks each file's SHA-256 against the
// catalog as it streams it. A server export EXAMINEs each mailbox and streams
// UID FETCH BODY.PEEK[] bodies into spool files (one at a time) before adding
// them, so memory is bounded as in a backup. Flags are normalised as the
// catalog does (no \Recent, RFC 3501 spelling, sorted), so both exports agree.
//
// Failure policy: any error (missing or corrupt file, a mailbox that cannot be
// read, a dropped connection) is recorded in the report and the archive is NOT
// published: the temp tree is removed and the output path left untouched.
// Nothing here throws for those; ArchiveError only for a bad output path.
#pragma once

#include <imapkeep/archive/archive_writer.hpp>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::archive {

struct ExportOptions {
    ArchiveFormat format = ArchiveFormat::Mbox;
    std::string output;
    std::vector<std::string> mailbox_patterns;  // empty = all
    std::optional<std::int64_t> at;             // store exports only
};

struct ExportMailboxReport {
    std::string name;
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::vector<std::string> errors;
};

struct ExportReport {
    std::string output;        // where the archive is, when published
    bool published = false;
    std::vector<ExportMailboxReport> mailboxes;
    std::string error;         // account-level (not found, connect, output path)
    bool connect_failed = false;
    imap::ConnectError::Kind error_kind = imap::ConnectError::Kind::Network;
    bool transient = false;
    bool failed() const;
};

ExportReport export_from_store(store::Catalog& catalog, store::MessageStore& messages,
                               const std::string& account, const ExportOptions& options);

// `mailbox` empty = every selectable mailbox (LIST "" "*"), filtered by the patterns.
ExportReport export_from_server(const imap::ConnectOptions& connect, const std::string& mailbox,
                                const ExportOptions& options);

// imaps://USER@HOST[:PORT][/MAILBOX] (implicit TLS, default port 993) or
// imap://USER@HOST[:PORT][/MAILBOX] (STARTTLS required, default port 143; plain
// text only when `allow_plaintext`, e.g. for a server on loopback). USER and
// MAILBOX are %-decoded (RFC 3986), so "me%40example.com@host" works. A
// password in the URL is refused: it would show in the process list.
struct ExportUrl {
    imap::TlsMode tls = imap::TlsMode::Implicit;
    std::string user;
    std::string host;
    int port = 993;
    std::string mailbox;  // "" = all
};
// Throws std::invalid_argument with the reason.
ExportUrl parse_export_url(std::string_view url, bool allow_plaintext = false);

}  // namespace imapkeep::archive
