// imapkeep restore (issue 4): APPEND backed-up messages to an account (another
// one, or the source itself), with their flags (never \Recent) and original
// INTERNALDATE, optionally as the mailboxes were at a point in time.
//
// - Target names: target_mailbox_name() (names.hpp) with the target's
//   delimiter, which LIST "" "" tells, and its personal namespace prefix,
//   which NAMESPACE tells ("" without it); the source's prefix is told by the
//   account's backed-up names (source_personal_prefix). Missing mailboxes are
//   CREATEd (the Client encodes names in modified UTF-7). A CREATE refused
//   (NO) for a name whose source level holds "." or "/" (not the target's
//   delimiter) is tried once more with those in fullwidth form
//   (NameMapping::stand_in_characters), and that name is used from then on,
//   also by later runs that find it on the target. Two source mailboxes
//   never share a target mailbox (Gmail label folders aside, which gather
//   on purpose): the second one fails with RestoreMailboxReport::error.
//   On a target that ignores case (Quirk(Gmail), Quirk(O365)), found by
//   LIST after a CREATE of a name that shares its case-folded form with
//   another, a source mailbox the target takes for another one's folder is
//   restored as "NAME (N)" instead, its children below it, with a note.
//   Names that differ only in the case of a leading INBOX level are one
//   folder on every server (RFC 3501 §5.1): all but the first go apart so.
//   A mailbox whose parent cannot hold folders (Quirk(Dovecot): mbox
//   files, "[CANNOT] Mailbox doesn't allow inferior mailboxes") goes beside
//   it, "A/B" as "A" U+FF0F "B", its children below that, with a note.
// - APPENDs are pipelined when the literal can go without waiting for "+"
//   (LITERAL+, or LITERAL- for <= 4096 bytes); with LITERAL+ and MULTIAPPEND,
//   small messages go in bounded MULTIAPPEND batches (a refused batch is sent
//   again message by message, so only the refused one fails). At most two
//   batches' worth is unanswered at a time: a server still executes what a
//   killed client had sent, and a rerun should not have long to wait for it.
//   Each body is read from its file and checked against the catalog's SHA-256.
// - Flags: only those the target can take are sent (not an atom, e.g. a Gmail
//   label with "]", or not in PERMANENTFLAGS without "\*": dropped and counted
//   in dropped_keywords). After the APPENDs the target's flags of each new
//   message are compared and the missing ones set with UID STORE (servers that
//   drop flags on APPEND); a date it did not keep is counted (dates_not_kept).
//   The new UIDs come from APPENDUID, or without UIDPLUS are found by SHA-256
//   above the UIDNEXT seen before the APPENDs.
// - Idempotent, also when killed at any moment: each APPEND that succeeded is
//   journaled in the catalog (with its UID under UIDPLUS), committed in small
//   batches; a journaled message is never appended again. A message is known
//   by its SHA-256: in a target mailbox that existed before this run, every
//   unjournaled message is first looked for by size and then by the SHA-256 of
//   the candidates' bodies (what a killed run appended but did not journal);
//   one target copy satisfies one source copy (target_index.hpp).
// - A dry run changes nothing, anywhere: no CREATE, no APPEND, no STORE, no
//   journal entry; the target is only EXAMINEd.
// - Every backed-up mailbox is created on the target, also an empty one.
// - APPENDLIMIT (RFC 7889) from CAPABILITY, or per mailbox from STATUS
//   (APPENDLIMIT) when the capability has no value: larger messages are
//   reported and not sent; a NO from the server is reported with its text;
//   the others go on.
//   A refusal for size (refused_as_too_big) fails that message, and every one
//   at least as large fails unsent.
// - A connection the server closes with a BYE (Quirk(O365): after 10
//   refused commands; or AccessTokenExpired, which first renews the OAuth2
//   token as the backup does, and fails as an auth error, exit 3, when a
//   fresh token is ended too) is opened again and the mailbox goes on where it was,
//   as after a kill: what the dead connection appended is found on the
//   target, never appended twice; a message refused in this run is not sent
//   again. A cut without a BYE, or a BYE before anything was appended or
//   refused on that connection, ends the run as before (the CLI retries).
//   Each renewal is told in RestoreReport::notes.
// - A mailbox the target reserves (sync/reserved_mailboxes.hpp) is skipped
//   with a note: nothing is CREATEd or APPENDed there.
// - Pacing (issue 12): the target's PacingLimits pace the APPENDs
//   (max_messages_per_second counts each message, max_bytes_per_second its
//   bytes) and its daily_upload_bytes is a budget per UTC day, across runs:
//   the catalog keeps what each run uploaded to the target (uploaded_on(),
//   under the target's account row, made for it), in the transactions that
//   journal the APPENDs. A message the budget does not admit is not sent;
//   it and every later one are counted as left (RestoreMailboxReport::left),
//   and the mailboxes after it are only counted (journal look-ups, nothing
//   sent): RestoreReport::budget_reached. A message larger than the whole
//   budget goes alone on a day nothing was uploaded yet. A dry run neither
//   spends nor checks the budget.
// - A throttling target (imap::server_hint: RFC 5530 [UNAVAILABLE], [INUSE],
//   [LIMIT], Quirk(O365) "Suggested Backoff Time", a BYE that asks to wait)
//   gets the wait it asks for and the same APPEND again, at most
//   PacingLimits::throttle_retries times in a row. A target that says no
//   more for now stops the restore the way the budget does, never failing a
//   message (RestoreReport::left_for): its daily limit (Quirk(Gmail):
//   "Account exceeded command or bandwidth limits"), a full quota
//   ([OVERQUOTA]: nothing more fits until space is freed), or still
//   throttling after those waits. What it did not take is counted as left,
//   APPENDs already sent are answered and journaled first, and the next run
//   sends exactly the rest (the journal, and what is found on the target).
// - Nothing here throws for server or message trouble: it is graded into the
//   report (message, mailbox, account). StoreError escapes for catalog trouble.
#pragma once

#include <imapkeep/imap/connect.hpp>
#include <imapkeep/imap/errors.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/sync/backup.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
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
    bool dry_run = false;                       // LIST/EXAMINE/FETCH only: changes nothing anywhere
    // The previous restore run did not finish (killed): the server may still be
    // executing the APPENDs it had sent, so each existing target mailbox is
    // watched until it stops changing before it is compared (target_settle).
    bool resume_after_kill = false;
    // How long a target mailbox must stay unchanged to count as settled.
    std::chrono::milliseconds settle_quiet{1000};
    std::size_t pipeline_depth = 32;            // APPENDs in flight at most
    std::size_t journal_batch = 32;             // journal entries per catalog commit
    // Test hook: when the Nth APPEND of the run completes, stop as a kill would:
    // that APPEND and the uncommitted journal batch are not recorded, and
    // RestoreStopped is thrown. 0 = never.
    std::uint64_t stop_after_appends = 0;
    // Raised by SIGINT/SIGTERM (cli::StopSignals): a throttle wait ends at
    // once and the run stops, what is journaled kept (RestoreReport::stopped).
    const std::atomic<bool>* stop = nullptr;
    // Throttle waits' clock; null = the real one. Tests pass a fake.
    sync::PaceClock* clock = nullptr;
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
    // Keywords the target cannot take (not an atom, or not in its
    // PERMANENTFLAGS without \*): keyword -> messages restored without it.
    std::map<std::string, std::uint64_t> dropped_keywords;
    std::uint64_t flags_fixed = 0;    // messages whose flags the APPEND lost, set again by STORE
    std::uint64_t dates_not_kept = 0; // messages whose INTERNALDATE the target did not keep
    std::vector<RestoreFailure> failures;
    std::string error;                // mailbox-level (CREATE refused, ...)
    // Not restored on purpose, and why: a name the target reserves for what is
    // not mail (Quirk(O365): Files, sync/reserved_mailboxes.hpp). A note, not
    // a failure: the mailbox can be restored under another name (--prefix).
    std::string skipped;
    // Left for a later run by the daily upload budget: messages not journaled
    // for this target and not sent, and their bytes.
    std::uint64_t left = 0;
    std::uint64_t left_bytes = 0;
    bool failed() const { return !error.empty() || !failures.empty(); }
};

struct RestoreReport {
    std::string source_account;
    std::string target_account;
    // What the user should learn that is no failure, one line each, in the
    // order it happened: an OAuth2 access token the target ended mid-run and
    // that was renewed (sync::renew_expired_token), as a backup notes it.
    std::vector<std::string> notes;
    std::vector<RestoreMailboxReport> mailboxes;
    std::string error;                // account-level
    bool connect_failed = false;
    imap::ConnectError::Kind error_kind = imap::ConnectError::Kind::Network;
    bool transient = false;
    // A throttling target's waits (each also a line in notes): the target's
    // PacingLimits bound them (throttle_retries, max_wait).
    std::uint64_t throttle_waits = 0;
    bool stopped = false;             // by SIGINT/SIGTERM; error says so
    // The daily upload budget (PacingLimits::daily_upload_bytes), or the
    // target (left_for), left messages for a later run: no failure, but not
    // done either (the CLI exits 75). used: bytes uploaded to the target
    // today, this run's included; limit 0: no budget.
    bool budget_reached = false;
    std::string budget_reason;  // "daily_upload_mb", or the target's words
    // What the rest waits for: this run's own daily upload budget, or the
    // target, which said its daily limit is spent (Quirk(Gmail): "Account
    // exceeded command or bandwidth limits"), that it is full ([OVERQUOTA]:
    // space must be freed first, no day ends it), or kept throttling after
    // PacingLimits::throttle_retries waits.
    enum class LeftFor { UploadBudget, TargetDailyLimit, TargetFull, TargetThrottling };
    LeftFor left_for = LeftFor::UploadBudget;
    // The target stopped the run before the mailboxes were looked at (at
    // login): messages_left() counts nothing, yet something is left.
    bool left_uncounted = false;
    std::uint64_t budget_used = 0;
    std::uint64_t budget_limit = 0;
    std::uint64_t messages_left() const;
    std::uint64_t bytes_left() const;
    bool failed() const;
};

RestoreReport restore_account(const sync::AccountConfig& target, store::Catalog& catalog,
                              store::MessageStore& messages, const RestoreOptions& options);

// APPENDLIMIT=n from a capability list (RFC 7889 §3), nullopt if absent or
// without a value (per-mailbox limits are not consulted).
std::optional<std::uint64_t> append_limit(const std::vector<std::string>& capabilities);

// The target refused an APPEND for the message's size: the response code
// TOOBIG (RFC 7889 §4, RFC 4469 §7), or without it the words servers use
// (Quirk(O365): "Maximum size of appendable message has been exceeded").
// Such a message fails alone, and no larger one is sent in the same run.
bool refused_as_too_big(const imap::Completion& completion);

}  // namespace imapkeep::archive
