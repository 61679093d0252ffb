// imapkeep restore (issue 4): APPEND backed-up messages to an account (another
// one, or the source itself), with their flags (never \Recent) and original
// INTERNALDATE, optionally as the mailboxes were at a point in time.
//
// - Target names: target_mailbox_name() (names.hpp) with the target's
//   delimiter, which LIST "" "" tells; missing mailboxes are CREATEd (the
//   Client encodes names in modified UTF-7).
// - APPENDs are pipelined when the literal can go without waiting for "+"
//   (LITERAL+, or LITERAL- for <= 4096 bytes); otherwise they go one at a time.
//   Each body is read from its file, checked against the catalog's SHA-256 and
//   handed to the Client, which drops it once written: one body in memory.
//   MULTIAPPEND is not used: a refused message would fail its whole batch
//   (RFC 3502 §6.3.11 is all-or-nothing), and pipelined LITERAL+ APPENDs save
//   the same round trips.
// - Idempotent: each APPEND that succeeded is recorded in the catalog's restore
//   journal (with APPENDUID under UIDPLUS), committed in small batches. A
//   journaled message is never appended again. For a target mailbox that
//   existed before this run (so it may hold messages of a run that was killed
//   between APPEND and journal commit), every unjournaled message is first
//   looked for with UID SEARCH HEADER Message-ID (message_id_criterion()); one
//   match per copy counts as already there. A message without a usable
//   Message-ID is looked for by exact size and having no Message-ID.
// - APPENDLIMIT (RFC 7889) from CAPABILITY: larger messages are reported and
//   skipped; a NO from the server is reported with its text; the others go on.
// - Nothing here throws for server or message trouble: it is graded into the
//   report (message, mailbox, account). StoreError escapes for catalog trouble.
#pragma once

#include <imapkeep/imap/connect.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/sync/backup.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::archive {

struct RestoreOptions {
    std::string source_account;
    std::vector<std::string> mailbox_patterns;  // source mailboxes; empty = all
    std::string prefix;                         // e.g. "Restored/"
    std::optional<std::int64_t> at;             // epoch; unset = the current state
    bool dry_run = false;                       // LIST/EXAMINE/SEARCH only: no CREATE, no APPEND
    std::size_t pipeline_depth = 32;            // APPENDs in flight at most
    std::size_t journal_batch = 32;             // journal entries per catalog commit
    // Test hook: when the Nth APPEND of the run completes, stop as a kill would:
    // that APPEND and the uncommitted journal batch are not recorded, and
    // RestoreStopped is thrown. 0 = never.
    std::uint64_t stop_after_appends = 0;
};

struct RestoreStopped {};

struct RestoreFailure {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    std::string reason;
};

struct RestoreMailboxReport {
    std::string source;
    std::string target;
    bool create = false;              // missing on the target (created unless dry run)
    std::uint64_t to_append = 0;      // messages selected and not already there
    std::uint64_t appended = 0;
    std::uint64_t already = 0;        // journaled, or found on the target
    std::uint64_t bytes = 0;          // bytes of to_append (dry run) / appended
    std::vector<RestoreFailure> failures;
    std::string error;                // mailbox-level (CREATE refused, ...)
    bool failed() const { return !error.empty() || !failures.empty(); }
};

struct RestoreReport {
    std::string source_account;
    std::string target_account;
    std::vector<RestoreMailboxReport> mailboxes;
    std::string error;                // account-level
    bool connect_failed = false;
    imap::ConnectError::Kind error_kind = imap::ConnectError::Kind::Network;
    bool transient = false;
    bool failed() const;
};

RestoreReport restore_account(const sync::AccountConfig& target, store::Catalog& catalog,
                              store::MessageStore& messages, const RestoreOptions& options);

// UID SEARCH criteria that find a Message-ID: HEADER Message-ID "<value>"
// quoted per RFC 3501 §4.3 ('"' and '\\' escaped). nullopt when the value
// cannot be sent safely as a quoted string (empty, CR, LF, NUL, 8-bit, or over
// 998 bytes): the caller falls back to another check.
std::optional<std::string> message_id_criterion(std::string_view message_id);

// APPENDLIMIT=n from a capability list (RFC 7889 §3), nullopt if absent or
// without a value (per-mailbox limits are not consulted).
std::optional<std::uint64_t> append_limit(const std::vector<std::string>& capabilities);

}  // namespace imapkeep::archive
