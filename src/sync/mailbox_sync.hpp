// Syncing one mailbox into the store (private to the sync layer).
#pragma once

#include <atomic>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/sync/backup.hpp>
#include <imapkeep/sync/plan.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "sync/flag_changes.hpp"
#include "sync/gmail_labels.hpp"
#include "sync/pacer.hpp"

namespace imapkeep::sync {

class CommitQueue;

// UIDs per UID SEARCH command when asking which of a set still exist: keeps
// one reply line far below the line limit without ESEARCH (130k+ UIDs).
constexpr std::uint64_t kSearchUids = 20000;

// Message-ID from a BODY[HEADER.FIELDS (MESSAGE-ID)] section (RFC 5322 §3.6.4),
// unfolded and trimmed.
std::string parse_message_id(const std::string& header);

// A body that arrived whole, waiting for its chunk's commit.
struct Arrived {
    std::unique_ptr<store::PendingMessage> pending;
    std::vector<std::string> flags;
    std::int64_t internaldate = 0;
    int zone = 0;
    std::string message_id;
    std::uint64_t modseq = 0;
    std::optional<GmailFetched> gmail;  // All Mail of a Gmail account
};

// How commands address a listed mailbox: the bytes LIST sent (invariant 6),
// or the encoded name for a mailbox that was not listed this run.
imap::MailboxName listed_name(imap::Client& client, const ServerMailbox& mailbox);

enum class SyncPath { Qresync, Condstore, Plain };
const char* path_name(SyncPath path);

// What every mailbox worker shares for one account run.
struct AccountRun {
    AccountRun(const AccountConfig& a, const BackupOptions& o);
    const AccountConfig& account;
    const BackupOptions& options;

  private:
    std::unique_ptr<PaceClock> m_own_clock;  // when options.clock is null
  public:
    Pacer pacer;
    // The account's connection settings, reading through the byte rate limit
    // when there is one: every connection of the run opens with these.
    imap::ConnectOptions connect;
    store::Id account_id = 0;
    SyncPath best_path = SyncPath::Plain;
    // Set when the server is Gmail (X-GM-EXT-1 with a \All mailbox): All Mail
    // is synced as the one copy, the label folders are links to it.
    std::optional<GmailLayout> gmail;
    // A label the store has a folder for is no longer listed (renamed or
    // deleted on the server): All Mail is synced even if LIST-STATUS says it
    // is unchanged, with every message's labels asked again, not only
    // CHANGEDSINCE (gmail_labels_gone()).
    bool gmail_relabel_all = false;
    // Set when the config or --mailbox select All Mail only through label
    // views (mailboxes = ["INBOX"]): All Mail downloads the messages they
    // choose (keep_labelled). Empty: All Mail is synced whole.
    LabelFilter gmail_label_filter;
    std::atomic<std::uint64_t> steps{0};
    std::mutex expected_mutex;
    std::map<std::string, std::uint64_t> expected;
    // Held while a folder is chosen and its mailbox record saved, so two
    // workers never pick the same free folder (one folder per live mailbox).
    std::mutex folders;

    // Progress totals: each mailbox's estimate of new messages (already in
    // Progress::messages_total) until its real count replaces it.
    void expect(const std::string& mailbox, std::uint64_t messages);
    // The real count of `mailbox` replaces its estimate (once; later counts of
    // the same mailbox add up). counted(name, 0, 0) when a sync ends.
    void counted(const std::string& mailbox, std::uint64_t messages, std::uint64_t bytes);

    // Counts one durable step; the test hook stops the run after N of them,
    // and a raised BackupOptions::stop at the first one (throws StopRequested).
    void step();
    // Throws StopRequested when BackupOptions::stop is raised.
    void stop_if_asked() const;
    // The daily budget (pacing.hpp): drops from `wanted` what today's budget
    // does not admit, counts it in `report`, and returns the first UID left
    // for later (the mailbox's mark must not pass it), if any. A message this
    // run admitted before (a sync tried again after a throttled fetch) is
    // not charged twice.
    std::optional<std::uint32_t> hold_for_budget(
        std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted, MailboxReport& report);
    // Inside a transaction: the budget usage admitted since the last save.
    // Returns the bytes saved, for put_back() after a rollback.
    std::uint64_t save_usage(store::Catalog& catalog);
    // A pacing line for BackupOptions::pacing_note.
    void note(const std::string& line);
    // Announces the run's first change (BackupOptions::before_first_change),
    // once; call it on the account's thread before workers start.
    void changing() {
        std::call_once(m_changing, [&] {
            if (options.before_first_change) options.before_first_change();
        });
    }

    // One durable step: `body` changes files and catalog rows; then the file
    // renames are made durable, the catalog transaction commits, and the step
    // counts, with the `saved` messages it made durable (Progress::messages_saved).
    // Any exception rolls the catalog back (files are found again by
    // MessageStore::locate on the next run).
    template <class Body>
    void durable_step(store::Catalog& catalog, store::MessageStore& messages, Body&& body,
                      std::uint64_t saved = 0) {
        changing();
        locked_step(
            catalog,
            [&] {
                body();
                messages.sync_committed();
            },
            saved);
    }

    // Before deleting files another writer may own (the orphan sweep, tmp/
    // cleanup): an empty transaction, whose commit a fenced catalog (a fleet
    // worker's, store/postgres_catalog.hpp) refuses with LeaseLost once
    // another worker holds the account, so a stale worker does not delete
    // the files the new holder renamed but has not cataloged yet. Leaves the
    // window of the deletes themselves. SQLite: no write, no flush.
    void confirm_writer(store::Catalog& catalog) const {
        if (options.dry_run) return;
        catalog.begin();
        try {
            catalog.commit();
        } catch (...) {
            catalog.rollback();
            throw;
        }
    }

    // The same step for changes whose files can move before the catalog is
    // locked: `files` renames (and writes no row), the directories it touched
    // are made durable, and only then is the catalog's write lock taken for
    // `rows`. Workers of other mailboxes then wait for SQL alone, not for
    // renames and directory fsyncs (issue 10). The order the invariants ask
    // for is unchanged: every rename is durable before the commit that names
    // it, and a kill before that commit leaves files MessageStore::locate
    // finds again.
    template <class Files, class Rows>
    void durable_step_files_first(store::Catalog& catalog, store::MessageStore& messages,
                                  Files&& files, Rows&& rows, std::uint64_t saved = 0) {
        changing();
        files();
        messages.sync_committed();
        locked_step(catalog, rows, saved);
    }

  private:
    // `rows` in one catalog transaction with the budget usage; a failure
    // rolls both back. Counts the step and its `saved` messages.
    template <class Rows>
    void locked_step(store::Catalog& catalog, Rows&& rows, std::uint64_t saved) {
        catalog.begin();
        std::uint64_t usage = 0;
        try {
            rows();
            usage = save_usage(catalog);
            catalog.commit();
        } catch (...) {
            catalog.rollback();
            pacer.put_back(usage);
            throw;
        }
        if (saved != 0 && options.progress) options.progress->messages_saved += saved;
        step();
    }

    std::once_flag m_changing;
    std::mutex m_note_mutex;
    std::mutex m_admitted_mutex;
    std::map<std::string, UidSet> m_admitted;  // by mailbox: UIDs the budget admitted this run
};

// LIST-STATUS (or STATUS) proves the mailbox unchanged since `record` was
// synced: same UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ. Only a mod-sequence can
// prove it (a flag change moves nothing else), so never on the plain path.
bool unchanged_since(const store::MailboxRecord& record, const imap::StatusData& status,
                     SyncPath best_path);

// The same proof, where no HIGHESTMODSEQ was listed (the plain path), for a
// mailbox that was empty and still is: UIDVALIDITY and UIDNEXT unchanged,
// MESSAGES 0, and no live catalog row (an empty mailbox has no flags to
// change; rows would mean expunges to record).
bool proven_unchanged(store::Catalog& catalog, const store::MailboxRecord& record,
                      const imap::StatusData& status, SyncPath best_path);

// Files a mail reader renamed (flags, new/ -> cur/) get the catalog's flags and
// path back, in one durable step: the live tree mirrors the server. Costs one
// listing of cur/ and new/ and a read of the mailbox's rows when nothing was
// renamed.
void undo_reader_renames(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                         const store::MailboxRecord& record);

// Puts a known mailbox's live folder back as the catalog has it: tmp/
// leftovers of a killed run removed, reader renames undone. Skipped, for three
// stats, when the folder's stamp is the one a run recorded after doing it, so
// nothing was added, removed or renamed there since. Sets
// record.folder_stamp for the caller to save, and returns whether it changed;
// it is saved only after this work is durable, so a kill in between just
// does it again. Throws what the store and catalog throw.
bool tidy_folder(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                 store::MailboxRecord& record);

class MailboxSync {
  public:
    MailboxSync(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                store::MessageStore& messages);

    // Brings one mailbox up to date. `status` is what LIST-STATUS/STATUS said, if
    // anything. Errors of this mailbox are thrown (the caller records them);
    // StopRequested passes through.
    MailboxReport sync(const ServerMailbox& mailbox, const std::optional<imap::StatusData>& status);

    // Called (once, on the sync's thread) when the mailbox will ask the
    // server nothing more: its new mail has all arrived and what is left is
    // committing it (issue 10). The caller may then hand the connection to
    // the next mailbox; this sync never touches it again, and a failure
    // after it is this mailbox's alone. A short body or a UID without a
    // whole body is asked about first; a dry run never calls it.
    void release_connection_with(std::function<void()> release) { m_release = std::move(release); }

  private:
    // What EXAMINE said, and the path it leaves.
    struct Examined {
        imap::SelectData selected;
        SyncPath path = SyncPath::Plain;
        bool qresync_used = false;  // EXAMINE carried QRESYNC parameters
    };

    store::MailboxRecord load_record(const ServerMailbox& mailbox);
    bool skip_unchanged(store::MailboxRecord& record, const ServerMailbox& mailbox,
                        const std::optional<imap::StatusData>& listed_status);
    Examined examine(const ServerMailbox& mailbox, const store::MailboxRecord& record, bool is_new);
    bool reconcile_known(store::MailboxRecord& record, const Examined& examined);
    // QRESYNC only when the EXAMINE carried its parameters, else CONDSTORE;
    // plain (every known message) when the server's HIGHESTMODSEQ went below
    // the catalog's mark.
    static SyncPath known_path(const store::MailboxRecord& record, const Examined& examined);
    // QRESYNC brought the known messages' changes with the EXAMINE, and
    // applying them sends no command: fetch_new applies them on its commit
    // thread, so the server sends the new mail's bodies, and this thread
    // writes them, while the changes' files move (issue 10, the 1% changed
    // run).
    bool can_defer_reconcile(const store::MailboxRecord& record, const Examined& examined) const;
    // CONDSTORE and the plain path ask the server for the changes (commands),
    // but applying what they found sends none: that part waits for fetch_new
    // the same way.
    bool can_defer_apply(const Examined& examined) const;
    // Runs a step of the known messages' reconciliation; false when it failed
    // with this mailbox's error (recorded), which still lets new mail be
    // fetched. A dead connection, a throttling server and a stop pass through.
    bool guarded(const std::function<void()>& step);
    // Applies deferred changes, once; false when none were deferred.
    bool reconcile_deferred(store::MailboxRecord& record);
    void finish(store::MailboxRecord& record, const Examined& examined, bool reconciled);
    // The UIDs of `range` the server still has, as ranges.
    UidSet server_uids(const UidSet& range);
    void remove_orphans(const store::MailboxRecord& record);
    // A new mailbox's record: its own folder (allocate_folder) and the row,
    // saved together under AccountRun::folders.
    void save_new_record(store::MailboxRecord& record);
    void stamp_after_writes(store::MailboxRecord& record);
    bool uids_went_back(const store::MailboxRecord& record, const Examined& examined);
    void handle_uidvalidity_change(store::MailboxRecord& record, std::uint32_t new_uidvalidity);
    void sync_known(store::MailboxRecord& record, SyncPath path, const imap::SelectData& selected);
    // sync_known's part that asks the server: what changed, not applied yet.
    FlagDiff list_known(store::MailboxRecord& record, SyncPath path, const imap::SelectData& selected);
    void apply_changes(const FlagDiff& diff);
    void apply_flags(const FlagDiff& diff);
    void apply_expunges(const std::vector<store::Id>& ids);
    // A message file moved for a change, waiting for its catalog row.
    struct MovedFile {
        store::MessageRecord row;        // as the catalog had it
        std::vector<std::string> flags;  // the server's (a flag change)
        std::string file;                // where it is now ("" when removed: mirroring)
    };
    using Changed = std::vector<std::pair<store::Id, std::vector<std::string>>>;
    // One durable step for changed[flags_from, flags_to) and
    // expunged[gone_from, gone_to): files first, then rows.
    void apply_range(const Changed& changed, std::size_t flags_from, std::size_t flags_to,
                     const std::vector<store::Id>& expunged, std::size_t gone_from,
                     std::size_t gone_to);
    // Renames files to the server's flags; writes no row.
    std::vector<MovedFile> rename_for_flags(const Changed& changed, std::size_t start,
                                            std::size_t end);
    // Moves files of expunged messages to the attic (or removes them); writes no row.
    std::vector<MovedFile> move_expunged(const std::vector<store::Id>& ids, std::size_t start,
                                         std::size_t end);
    void record_flags(const std::vector<MovedFile>& moved);
    void record_expunged(const std::vector<MovedFile>& moved);
    void retire(store::Id id);
    void retire_stale(const store::MailboxRecord& record);
    // known_mail.cpp: the catalog in windows of bounded size.
    struct KnownRows {
        std::vector<store::KnownFlags> rows;
        UidSet span;  // the UIDs this window answers for
    };
    // The next window: up to `rows` live rows of `scope` at or above `from`.
    KnownRows read_window(const store::MailboxRecord& record, std::uint32_t from,
                          const UidSet& scope, std::size_t rows);
    std::uint32_t max_known_uid(const store::MailboxRecord& record);
    // What the server said about known messages, kept across windows.
    struct ServerChanges {
        SyncPath path = SyncPath::Plain;
        bool full = true;  // every flag asked for (plain, or no mod-sequence yet)
        const imap::SelectData* selected = nullptr;
        FlagChanges changed;                                       // QRESYNC, CONDSTORE
        std::optional<UidSet> present;                             // CONDSTORE
        std::map<std::uint32_t, std::vector<std::string>> labels;  // Gmail: X-GM-LABELS
    };
    // The known UIDs whose rows can hold a change (all of them on a full pass).
    UidSet known_scope(const store::MailboxRecord& record, ServerChanges& server);
    void fetch_changed_since(const store::MailboxRecord& record, ServerChanges& server);
    // The fetch items that ask for known messages' flags (and Gmail labels).
    imap::FetchItems known_items() const;
    std::size_t window_rows() const;
    // Gmail: messages of one window whose labels differ from the catalog's.
    void plan_labels(const KnownRows& window, const ServerChanges& server);
    void apply_labels();
    // Gmail: the links of cataloged messages not linked yet (this run's new
    // mail, or a killed run's), each batch one durable step.
    void link_pending(const store::MailboxRecord& record);
    FlagDiff plan_window(const KnownRows& window, ServerChanges& server);
    struct FullWindow;
    FlagDiff full_pass(const store::MailboxRecord& record, const UidSet& scope, ServerChanges& server);
    void apply_known(FlagDiff& diff);
    // Downloads every UID >= from_uid the catalog does not have yet and moves
    // the high-water mark as far as every body below it is durable: up to
    // `server_uidnext` only when all listed UIDs arrived whole or are gone.
    // Bodies that did not arrive whole become errors of the report.
    void fetch_new(store::MailboxRecord& record, std::uint32_t from_uid,
                   std::optional<Uid> server_uidnext);
    using Listing = std::vector<std::pair<std::uint32_t, std::uint64_t>>;  // uid, RFC822.SIZE
    struct NewMail;
    Listing list_new_uids(std::uint32_t from_uid);
    Listing drop_cataloged(const store::MailboxRecord& record, Listing wanted);
    void count_new(const Listing& wanted);
    void download(store::MailboxRecord& record, const std::vector<UidSet>& chunks, NewMail& state);
    // Deferred changes, queued on `commits` ahead of the first chunk's
    // commit: applied while the new mail's FETCHes are answered and read.
    void reconcile_while_fetching(store::MailboxRecord& record, NewMail& state,
                                  CommitQueue& commits);
    void receive(imap::FetchData& d, const store::MailboxRecord& record, NewMail& state);
    void accept_body(std::uint32_t uid, Arrived a, NewMail& state);
    void count_body(const Arrived& a);
    // After the chunks: the bodies shorter than their RFC822.SIZE that the
    // server says are whole are committed (Quirk(OVH Hosted Exchange)).
    void confirm_short_bodies(store::MailboxRecord& record, NewMail& state);
    bool sweep_if_pending(const store::MailboxRecord& record);
    void mark_files_pending(const store::MailboxRecord& record, NewMail& state);
    void remove_refused(const std::vector<store::MessageRecord>& rows) noexcept;
    void settle_marker(const NewMail& state, bool nothing_wanted);
    struct ReadyChunk;
    // On the reading thread: the chunk's bodies leave `state` for the commit
    // thread. `last`: the run's last chunk, whose commit clears files_pending.
    ReadyChunk take_chunk(const UidSet& chunk, NewMail& state, bool last);
    void keep_arrived(store::MailboxRecord& record, const std::vector<UidSet>& unfinished,
                      NewMail& state, CommitQueue& commits);
    void release_connection();
    void requeue_refused(const UidSet& chunk, const imap::Completion& completion, NewMail& state,
                         std::vector<UidSet>& queue);
    // On the commit thread (CommitQueue), one chunk at a time, in order.
    void commit_chunk(store::MailboxRecord& record, ReadyChunk& ready, NewMail& state);
    void report_incomplete(NewMail& state);
    std::int64_t now() const;

    AccountRun& m_run;
    imap::Client& m_client;
    store::Catalog& m_catalog;
    store::MessageStore& m_messages;
    MailboxReport m_report;
    // All Mail of a Gmail account: its label folders, and the label changes found.
    std::unique_ptr<LabelView> m_labels;
    std::vector<std::pair<store::Id, std::vector<std::string>>> m_relabel;
    // QRESYNC's changes, taken from the EXAMINE as they arrive (examine()).
    FlagChanges m_examined_changes;
    // The files_pending marker of the mailbox (Catalog::files_pending), when
    // EXAMINE announced new mail: set in the commit of the known messages'
    // changes, so the first batch of new files needs no commit of its own.
    enum class Marker { Untouched, SetWithChanges, Unspent };
    struct PendingMarker {
        store::Id mailbox_id = 0;
        bool wanted = false;  // new mail announced, marker clear before this run
        Marker state = Marker::Untouched;
    } m_marker;
    // The mailbox's final save (finish) folded into the commit of its last
    // batch of new mail: one commit fewer for each mailbox that gets new
    // mail. Set by sync() for the mailboxes whose last write is that batch
    // (not Gmail's All Mail: its label links come after it).
    struct Closing {
        const Examined* examined = nullptr;
        bool reconciled = false;
        bool saved = false;  // the last batch's commit saved the final record
    };
    std::optional<Closing> m_closing;
    // Known messages' changes left for fetch_new (can_defer_reconcile).
    struct Deferred {
        const Examined* examined = nullptr;
        std::optional<FlagDiff> listed;  // set: asked already, only applying is left
        bool done = false;
        bool reconciled = false;
    };
    std::optional<Deferred> m_deferred;
    std::function<void()> m_release;  // release_connection_with
    bool m_released = false;          // m_client is another mailbox's now
    bool closed() const { return m_closing && m_closing->saved; }
    // The fields finish() saves: the flag high-water mark, the path, the time.
    void close_record(store::MailboxRecord& record, const Examined& examined,
                      bool reconciled) const;
    // Whether this run announced new mail and found no files pending.
    void plan_marker(const store::MailboxRecord& record, const Examined& examined);
    void clear_unspent_marker(const store::MailboxRecord& record);
};

}  // namespace imapkeep::sync
