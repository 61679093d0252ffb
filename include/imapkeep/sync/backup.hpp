// The backup engine's entry point (issue 3): pull every selected mailbox of an
// account into the store. Never writes to the server (EXAMINE, BODY.PEEK).
// Failures are graded and recorded in the report; nothing here exits.
#pragma once

#include <imapkeep/imap/connect.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/sync/pacing.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace imapkeep::sync {

enum class ExpungedPolicy { Keep, Mirror };

struct AccountConfig {
    std::string name;
    imap::ConnectOptions connect;
    std::vector<std::string> mailboxes = {"*"};  // LIST patterns to include
    std::vector<std::string> exclude;            // names or patterns (* and %) to skip
    ExpungedPolicy expunged = ExpungedPolicy::Keep;
    int connections = 4;                         // most mailboxes synced in parallel
    // What one more connection costs the run (`connection_cost_ms`): a worker
    // beyond the first connects only for work estimated at twice this
    // (src/sync/work_order.hpp), so a run with little to do stays on the
    // connection that listed. 0: every connection `connections` allows opens
    // at once (and tests of concurrency on a few small mailboxes want that).
    std::chrono::microseconds connection_cost{50'000};
    // "" picks the best the server offers; "qresync" | "condstore" | "plain" caps it
    // (for servers whose extensions misbehave, and to test each path).
    std::string sync_path;
    // Gmail (X-GM-EXT-1): All Mail is backed up as the one copy and the label
    // mailboxes become folders of links to it. Its \Trash and \Junk mailboxes
    // hold what All Mail does not: backed up only when this is set.
    bool gmail_trash_and_junk = false;
    // As a restore target that is not Gmail, what a Gmail backup's labels
    // become: "folders" (one mailbox per label) or "keywords".
    std::string restore_labels = "folders";
    // Rate limits, the daily download budget, throttle waits (pacing.hpp).
    PacingLimits pacing;
};

// Counters the engine bumps as it goes, read by another thread (the progress
// bar). messages_done/bytes_done count bodies received; messages_saved counts
// messages made durable by a catalog commit (what an interrupted run keeps).
// messages_total starts as an estimate from LIST-STATUS/STATUS taken before
// any mailbox is synced (MESSAGES for a new mailbox; the UIDNEXT gap, capped
// by MESSAGES, for a known one) and is corrected as each mailbox's real count
// is known: it may go down or up. bytes_total is whole only once
// mailboxes_uncounted is 0.
struct Progress {
    std::atomic<std::uint64_t> messages_done{0};
    std::atomic<std::uint64_t> messages_saved{0};
    std::atomic<std::uint64_t> messages_total{0};
    std::atomic<std::uint64_t> bytes_done{0};
    std::atomic<std::uint64_t> bytes_total{0};
    std::atomic<std::uint64_t> mailboxes_uncounted{0};

    // "work/INBOX": the mailbox being synced (the last one started).
    void set_current(std::string label) {
        std::lock_guard lock(m_current_mutex);
        m_current = std::move(label);
    }
    std::string current() const {
        std::lock_guard lock(m_current_mutex);
        return m_current;
    }

private:
    mutable std::mutex m_current_mutex;
    std::string m_current;
};

struct BackupOptions {
    std::vector<std::string> mailbox_filter;  // --mailbox patterns; empty = all configured
    bool dry_run = false;
    Progress* progress = nullptr;             // may be null
    // Opens one more connection to the run's catalog (SQLite file or
    // PostgreSQL schema, whatever the caller chose): each worker thread beyond
    // the first calls it once for its own. Unset: one worker, on `catalog`.
    std::function<std::unique_ptr<store::Catalog>()> open_catalog;
    // With open_catalog: a worker syncs its next mailbox on its connection
    // while the last one's final commits run (issue 10), on a thread and a
    // catalog handle of their own, opened the first time a mailbox gives the
    // connection up early. Each mailbox's own steps keep their order. Not for
    // Gmail accounts (label links span mailboxes) nor a dry run. The CLI
    // leaves it off for a catalog server, whose connections it keeps at one
    // per worker.
    bool overlap_mailboxes = true;
    // Test hook: stop (throw StopRequested) after this many durable steps. 0 = never.
    std::uint64_t stop_after_steps = 0;
    // Catalog rows read (and flags asked for) at a time when the known
    // messages' flags are listed; memory follows it. Tests make it small.
    std::size_t known_window = 5000;
    // Set (e.g. by a SIGINT handler) to stop the run: the engine checks it at
    // its durable boundaries (after each catalog commit, before each mailbox)
    // and then throws StopRequested; never in the middle of a write+commit.
    const std::atomic<bool>* stop = nullptr;
    // Progress totals for a server without LIST-STATUS: one STATUS per
    // mailbox before the sync (only worth it when a progress bar shows them).
    bool status_for_totals = false;
    // Called once per account run, on the calling thread, before the first
    // change to the store or the catalog (the CLI starts its run record
    // there); a run that changes nothing never calls it. May be empty.
    std::function<void()> before_first_change;
    // true: the records of the mailboxes found unchanged (their last-sync
    // time, their folder stamp) are not saved but left in
    // AccountReport::settled, for the caller to save with save_settled() in
    // its own transaction (the CLI's run record): a no-change run then
    // commits once. false: saved in one transaction of their own.
    bool defer_settled = false;
    // Pacing's clock (pacing.hpp); null = the real one. Tests pass a fake
    // one so that back-offs and rate limits cost no real time.
    PaceClock* clock = nullptr;
    // Called (from any worker thread, one call at a time) with a line about
    // pacing: a throttling server's request and the wait it got, a connection
    // given up. May be empty.
    std::function<void(const std::string&)> pacing_note;
};

enum class FailureScope { None, Message, Mailbox, Account };

struct MailboxReport {
    std::string name;
    std::string path;          // "QRESYNC" | "CONDSTORE" | "plain" | "skipped" | "unchanged"
    std::uint64_t new_messages = 0;
    // Gmail, a store from before Gmail support: All Mail's messages whose
    // stored copy in a label folder became theirs, with no download (not
    // in new_messages or bytes). A dry run counts those it would adopt.
    std::uint64_t adopted = 0;
    std::uint64_t flag_changes = 0;
    std::uint64_t expunged = 0;
    std::uint64_t bytes = 0;
    double seconds = 0;
    bool created = false, deleted = false, renamed = false, uidvalidity_reset = false;
    std::string renamed_from;
    std::vector<std::string> errors;
    // What the run did that the user should know of although nothing failed
    // (at most one line per kind): bodies kept shorter than the server's
    // RFC822.SIZE, UIDs the server gave again. Not errors: failed() ignores them.
    std::vector<std::string> warnings;
    // Path "skipped": why this mailbox is not backed up, e.g. a server folder
    // that holds no mail (reserved_mailboxes.hpp). A note, not an error.
    std::string skipped;
    // The error is the connection dying (EOF, reset, timeout), or the message
    // store failing for a while (store::StoreError::transient: S3's network):
    // another attempt may succeed where this one did not.
    bool connection_lost = false;
    // New messages left on the server for a later run by the daily budget
    // (or the server's daily limit): not an error, and not done either.
    std::uint64_t deferred = 0;
    std::uint64_t deferred_bytes = 0;  // their RFC822.SIZE
    // The server's daily limit stopped this mailbox before it could count
    // what is left (deferred is then a lower bound).
    bool deferred_uncounted = false;
    // Gmail, --mailbox naming label views (INBOX, "Work"): All Mail was
    // synced for the messages with those labels only; these are the
    // patterns. Empty otherwise.
    std::vector<std::string> labels;
    bool failed() const { return !errors.empty(); }
};

// A mailbox a run found unchanged (Catalog::mark_checked).
struct SettledMailbox {
    store::Id mailbox_id = 0;
    std::int64_t checked_at = 0;
    std::string folder_stamp;
};

struct AccountReport {
    std::string account;
    std::vector<MailboxReport> mailboxes;
    // Set when the account could not be reached at all.
    std::string error;
    imap::ConnectError::Kind error_kind = imap::ConnectError::Kind::Network;
    bool connect_failed = false;
    bool transient = false;
    // BackupOptions::mailbox_filter patterns that matched no mailbox of the
    // configured scope on the server (a typo, or a mailbox excluded or gone).
    std::vector<std::string> unmatched_patterns;
    // BackupOptions::defer_settled: what is left to save, see save_settled().
    std::vector<SettledMailbox> settled;
    // Pacing: the daily budget (PacingLimits::daily_download_bytes) or the
    // server's daily limit left messages for the next run. budget_reason is
    // "daily_download_mb" or the server's words.
    bool budget_reached = false;
    std::string budget_reason;
    std::uint64_t budget_used = 0;   // bytes downloaded today, this run included
    std::uint64_t budget_limit = 0;  // 0 = no budget
    // Waits a throttling server asked for during the run.
    std::uint64_t throttle_waits = 0;
    // Messages left by the budget, over all mailboxes (a lower bound when
    // one was stopped uncounted).
    std::uint64_t messages_left() const {
        std::uint64_t n = 0;
        for (const auto& m : mailboxes) n += m.deferred;
        return n;
    }
    std::uint64_t bytes_left() const {
        std::uint64_t n = 0;
        for (const auto& m : mailboxes) n += m.deferred_bytes;
        return n;
    }
    // Some were left uncounted (the server's daily limit stopped the run).
    bool messages_left_uncounted = false;
};

// Thrown by the stop_after_steps hook and when BackupOptions::stop is set; the
// store is then consistent (the next run resumes).
struct StopRequested {};

AccountReport backup_account(const AccountConfig& account, store::Catalog& catalog,
                             store::MessageStore& messages, const BackupOptions& options);

// Saves the records a run with BackupOptions::defer_settled left in
// `report.settled`, inside the caller's transaction (Catalog::begin/commit).
// Skipping it (a kill first) loses nothing: the next run settles them again.
// Throws StoreError.
void save_settled(store::Catalog& catalog, const AccountReport& report);

}  // namespace imapkeep::sync
