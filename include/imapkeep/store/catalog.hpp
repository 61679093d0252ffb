// The catalog: what the store knows about accounts, mailboxes, messages, flag
// history, runs and restores. `sync` and `archive` only see this interface
// (DESIGN.md "Store"). Implementations: SQLite (sqlite_catalog.hpp), the
// embedded default, and PostgreSQL (postgres_catalog.hpp); the store contract
// tests (tests/store/catalog_contract_test.cpp) run on both.
//
// Errors: every method throws StoreError. Not thread-safe: one Catalog per
// thread (each opens its own connection; writers take turns).
//
// Flags are normalised on the way in: \Recent is dropped, the five system flags
// get their RFC 3501 spelling (\seen -> \Seen), the list is sorted and deduplicated.
// Times are epoch seconds supplied by the caller, so tests can replay a timeline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <imapkeep/store/line_endings.hpp>
#include <imapkeep/util/types.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::store {

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
    // A failure another attempt may not meet: a remote message store's
    // network, or its server busy (S3StoreError). The backup's retry policy
    // applies to it as to a dropped IMAP connection. Local errors: false.
    virtual bool transient() const noexcept { return false; }
};

// The catalog's server (PostgreSQL) gave no session. transient(): it is down,
// starting, shutting down or full, or the network failed, so a later run may
// get one. Otherwise the settings are wrong (a database or role name, a
// password, pg_hba.conf, the conninfo itself): no retry helps until the user
// fixes them.
class CatalogUnreachable : public StoreError {
  public:
    CatalogUnreachable(const std::string& message, bool transient)
        : StoreError(message), m_transient(transient) {}
    bool transient() const noexcept override { return m_transient; }

  private:
    bool m_transient;
};

// A transaction the catalog refused before COMMIT reached the server:
// nothing of it was committed, for certain (unlike a COMMIT whose answer was
// lost). A caller may undo what it did for that transaction alone, e.g.
// remove the message files it renamed for the refused rows.
class NotCommitted : public StoreError {
  public:
    using StoreError::StoreError;
};

using Id = std::int64_t;

struct MailboxRecord {
    Id id = 0;
    Id account_id = 0;
    std::string name;       // server name, UTF-8 (decoded from modified UTF-7)
    std::string delimiter;  // "" when the server has none (NIL)
    std::string folder;     // Maildir++ folder relative to the account root ("" = INBOX)
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;                 // high-water mark: every UID below is durable
    std::uint64_t highestmodseq = 0;           // high-water mark for flags/expunges
    std::string mailboxid;                     // RFC 8474 MAILBOXID, "" if unknown
    std::string sync_path;                     // "QRESYNC" | "CONDSTORE" | "plain" | ""
    std::optional<std::int64_t> last_sync_at;  // epoch seconds of the last successful sync
    std::optional<std::int64_t> deleted_at;    // the server no longer has it
    // MessageStore::folder_stamp() when a run last found the folder clean (no
    // tmp/ leftovers, no reader renames); "" when none did. Opaque here.
    std::string folder_stamp;
};

struct MessageRecord {
    Id id = 0;
    Id mailbox_id = 0;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    std::int64_t internaldate = 0;   // epoch seconds
    int internaldate_zone = 0;       // seconds east of UTC as the server gave it
    std::uint64_t size = 0;          // RFC822.SIZE: the bytes the server sent
    std::string sha256;              // hex of the bytes the server sent
    std::string message_id;          // Message-ID header value, "" if none
    std::vector<std::string> flags;  // sorted, without \Recent
    std::uint64_t modseq = 0;
    std::string file;  // path relative to the store root
    // How `file` holds those bytes; read it with store::read_original().
    LineEndings line_endings = LineEndings::Wire;
    std::int64_t added_at = 0;
    std::optional<std::int64_t> expunged_at;
};

// What comparing flags needs of a live message, and nothing else (no path,
// hash or Message-ID): a plain-path run reads one of these for every known
// message, and building whole MessageRecords took most of its time (issue 10).
struct KnownFlags {
    Id id = 0;
    std::uint32_t uid = 0;
    std::vector<std::string> flags;  // sorted, without \Recent
};

// What a UIDVALIDITY re-match needs of a live message, and nothing else (no
// path, hash or flags): its id and its key. `message_id` is valid only during
// the visit that gets it.
struct MessageKey {
    Id id = 0;
    std::string_view message_id;  // "" if none
    std::int64_t internaldate = 0;
    std::uint64_t size = 0;
};

struct FlagChange {
    Id message_id;
    std::int64_t at;
    std::vector<std::string> flags;  // the full set from `at` on
};

struct RunRecord {
    Id id = 0;
    std::string command;  // "backup", "restore", ...
    std::int64_t started_at = 0;
    std::optional<std::int64_t> finished_at;
    // "running" | "ok" | "partial" | "failed" | "interrupted" | "budget" (the
    // daily download budget left messages for the next run)
    std::string status;
    std::string report_json;
};

// One validity period of a message's (UIDVALIDITY, UID): RFC 3501 §2.3.1.1 lets a
// server renumber a mailbox, so the old key is kept for the restore journal.
struct UidHistoryEntry {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    std::int64_t from_at = 0;
    std::optional<std::int64_t> to_at;  // unset while the key is current
};

struct RestoreJournalEntry {
    std::string target_account;
    std::string target_mailbox;
    Id source_message_id;
    std::uint32_t target_uidvalidity = 0;  // 0 without UIDPLUS
    std::uint32_t target_uid = 0;          // 0 without UIDPLUS
    std::int64_t appended_at = 0;
    // Whether the flags the target kept were checked (and the missing ones set)
    // after the APPEND: false from the APPEND until then.
    bool flags_checked = true;
};

// Gmail (X-GM-EXT-1): the ids and labels of a message of All Mail. Labels are
// the server's wire strings (modified UTF-7, "\\Inbox" for system labels),
// sorted and deduplicated by the catalog.
struct GmailMessage {
    Id message_id = 0;
    std::uint64_t msgid = 0;  // X-GM-MSGID
    std::uint64_t thrid = 0;  // X-GM-THRID
    std::vector<std::string> labels;
};

struct LabelChange {
    Id message_id;
    std::int64_t at;
    std::vector<std::string> labels;  // the full set from `at` on
};

// A hard link of a message's file into the folder of one of its labels (the
// Maildir view of a label). `file` is store-relative, like MessageRecord::file.
struct LabelLink {
    std::string label;
    std::string file;
};

class Catalog {
  public:
    virtual ~Catalog() = default;

    // Transactions nest: the outermost commit is the real one (nothing is visible
    // to other connections or durable before it). An inner rollback() undoes only
    // the work since its own begin() (a SAVEPOINT); the outer transaction goes on.
    // commit()/rollback() without a begin() throw / do nothing.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    virtual Id ensure_account(const std::string& name) = 0;
    virtual std::optional<Id> find_account(const std::string& name) = 0;
    virtual std::vector<std::string> account_names() = 0;

    // Mailboxes of an account, including deleted ones when asked.
    virtual std::vector<MailboxRecord> mailboxes(Id account_id, bool include_deleted = false) = 0;
    // The live mailbox of that name, else the most recently deleted one.
    virtual std::optional<MailboxRecord> find_mailbox(Id account_id, const std::string& name) = 0;
    // Inserts (id == 0) or updates every field. Returns the id.
    virtual Id save_mailbox(const MailboxRecord& mailbox) = 0;
    // A mailbox found unchanged at `at`: sets last_sync_at and folder_stamp,
    // nothing else (never a high-water mark), so a late write cannot undo a sync.
    virtual void mark_checked(Id mailbox_id, std::int64_t at, const std::string& folder_stamp) = 0;

    // Live (not expunged) messages of a mailbox, ordered by uid.
    virtual std::vector<MessageRecord> messages(Id mailbox_id) = 0;
    // The file of every live message of the mailbox, streamed: nothing is kept
    // per row, so a caller can check a folder of any size in bounded memory.
    // `visit` must not use the catalog.
    virtual void for_each_live_file(
        Id mailbox_id, const std::function<void(Id id, const std::string& file)>& visit) = 0;
    // The key of every live message of the mailbox, streamed, in no particular
    // order: nothing is kept per row, so a caller can re-match a mailbox of any
    // size in memory of its own choosing. `visit` must not use the catalog.
    virtual void for_each_message_key(Id mailbox_id,
                                      const std::function<void(const MessageKey& key)>& visit) = 0;
    // Every message ever seen in the mailbox, expunged ones included.
    virtual std::vector<MessageRecord> all_messages(Id mailbox_id) = 0;
    // Live messages of the mailbox under `uidvalidity` whose uid is in `uids`,
    // ordered by uid, at most `limit` of them (the lowest UIDs). One index range
    // scan per range of `uids`: the cost follows the set asked about and the rows
    // found, not the size of the mailbox. With a limit, a caller pages through a
    // mailbox in bounded memory (ask again above the last UID returned).
    virtual std::vector<MessageRecord> messages_in(Id mailbox_id, std::uint32_t uidvalidity,
                                                   const UidSet& uids,
                                                   std::size_t limit = SIZE_MAX) = 0;
    // messages_in's rows, with only what comparing flags needs.
    virtual std::vector<KnownFlags> known_flags_in(Id mailbox_id, std::uint32_t uidvalidity,
                                                   const UidSet& uids,
                                                   std::size_t limit = SIZE_MAX) = 0;
    // The UIDVALIDITY values the mailbox's live messages carry, ascending.
    virtual std::vector<std::uint32_t> live_uidvalidities(Id mailbox_id) = 0;
    // The same question, answered with UIDs only (kept as ranges).
    virtual UidSet cataloged_uids(Id mailbox_id, std::uint32_t uidvalidity, const UidSet& uids) = 0;
    // The live message with that key, else the most recent expunged one.
    virtual std::optional<MessageRecord> find_message(Id mailbox_id, std::uint32_t uidvalidity,
                                                      std::uint32_t uid) = 0;
    virtual std::optional<MessageRecord> message_by_id(Id id) = 0;
    // message_by_id for each of `ids`, in their order; an id with no row is
    // left out. One read of the catalog for them all (one snapshot, one round
    // trip): a run that renames a few hundred files for their flags asked once
    // per file, and each ask was a transaction of its own.
    virtual std::vector<MessageRecord> messages_by_id(const std::vector<Id>& ids) = 0;
    // Inserts a message, its first flag-history entry and its first uid-history
    // entry, both at added_at. A second live row with the same (mailbox,
    // uidvalidity, uid) is refused with StoreError. Returns the id.
    virtual Id add_message(const MessageRecord& message) = 0;
    // add_message for each, all or none: one savepoint for the batch instead
    // of one per row (a cold backup catalogs 200 rows per chunk).
    virtual std::vector<Id> add_messages(const std::vector<MessageRecord>& messages) {
        begin();
        try {
            std::vector<Id> ids;
            ids.reserve(messages.size());
            for (const auto& m : messages) ids.push_back(add_message(m));
            commit();
            return ids;
        } catch (...) {
            rollback();
            throw;
        }
    }
    // Records new flags (and their history entry at `at`), modseq and file path.
    // No history entry is written when the flags did not change, so this is also
    // how a file move (same flags) is recorded.
    virtual void update_flags(Id message_id, const std::vector<std::string>& flags,
                              std::uint64_t modseq, const std::string& file, std::int64_t at) = 0;
    // Records that the message's file (a new copy written by verify --repair)
    // holds its bytes in form `form`. Call in the transaction that records
    // the new file.
    virtual void set_line_endings(Id message_id, LineEndings form) = 0;
    // Marks expunged at `at`, with the file's new (attic) path; closes its uid period.
    virtual void mark_expunged(Id message_id, std::int64_t at, const std::string& attic_file) = 0;
    // Re-keys a message after a UIDVALIDITY change; the old uid stays in history
    // (its period ends, the new one starts, at the current wall-clock time).
    virtual void rekey_message(Id message_id, std::uint32_t uidvalidity, std::uint32_t uid,
                               const std::string& file) = 0;
    // Moves every message of `from` to `to` (mailbox renamed on the server).
    virtual void move_messages(Id from_mailbox, Id to_mailbox) = 0;
    // Deletes message rows outright (expunged = "mirror"), with their history.
    // Restore-journal entries stay, with source_message_id set to 0.
    virtual void delete_message(Id message_id) = 0;

    // The files that message rows name directly in `dir` (store-relative, no
    // trailing "/", e.g. "mail/acct/.A/cur"): rows of every mailbox and account,
    // live or deleted, message live or expunged, and the label links (Gmail).
    // For orphan cleanup (invariant 2).
    virtual std::vector<std::string> files_in_dir(const std::string& dir) = 0;

    // The orphan-sweep marker (invariant 2, store/orphans.hpp). While set, the
    // mailbox's folder may hold files no row references: a writer sets it (a
    // durable commit of its own) before it renames the first file of a run into
    // the folder, and clears it in the transaction that catalogs the last one.
    // A new mailbox has it set, and so has every mailbox of a catalog older than
    // schema 4, so each folder is swept at least once. save_mailbox() leaves it
    // alone. Unknown mailbox id: files_pending() is true, set_files_pending()
    // throws.
    virtual bool files_pending(Id mailbox_id) = 0;
    virtual void set_files_pending(Id mailbox_id, bool pending) = 0;

    // Oldest first.
    virtual std::vector<FlagChange> flag_history(Id message_id) = 0;
    // Oldest first; the last entry is the current key unless the message was expunged.
    virtual std::vector<UidHistoryEntry> uid_history(Id message_id) = 0;

    // The state of a mailbox at `at` (epoch): messages added at or before and not
    // expunged by then, with the flags and (uidvalidity, uid) they had at that
    // moment. Ordered by (uidvalidity, uid).
    virtual std::vector<MessageRecord> messages_at(Id mailbox_id, std::int64_t at) = 0;

    // The daily download budget (schema 7): bytes `account_id` downloaded on
    // `day` (days since 1970-01-01, UTC). add_downloaded() adds to the day's
    // total; call it in the transaction that catalogs what was fetched.
    virtual std::uint64_t downloaded_on(Id account_id, std::int64_t day) = 0;
    virtual void add_downloaded(Id account_id, std::int64_t day, std::uint64_t bytes) = 0;
    // The daily upload budget (schema 12): bytes restores APPENDed to
    // `account_id` (the target's account row) on `day`, kept apart from its
    // downloads in the same ledger. add_uploaded() goes in the transaction
    // that journals the APPENDs.
    virtual std::uint64_t uploaded_on(Id account_id, std::int64_t day) = 0;
    virtual void add_uploaded(Id account_id, std::int64_t day, std::uint64_t bytes) = 0;

    virtual Id begin_run(const std::string& command, std::int64_t at) = 0;
    // begin_run for a run whose record nothing reads back to decide what to
    // do (a backup's: `status` and `doctor` show it; a restore's decides
    // whether it resumes, so it takes begin_run). The record may be durable
    // only with the next commit that is synced: a power cut before that
    // loses the record of a run none of whose changes was committed. By
    // default begin_run.
    virtual Id begin_run_unsynced(const std::string& command, std::int64_t at) {
        return begin_run(command, at);
    }
    virtual void finish_run(Id run_id, std::int64_t at, const std::string& status,
                            const std::string& report_json) = 0;
    virtual std::optional<RunRecord> last_run(const std::string& command) = 0;

    virtual void add_restore_entry(const RestoreJournalEntry& entry) = 0;
    virtual bool restored(const std::string& target_account, const std::string& target_mailbox,
                          Id source_message_id) = 0;
    // The latest journal entry for that source message and target, if any.
    virtual std::optional<RestoreJournalEntry> restore_entry(const std::string& target_account,
                                                             const std::string& target_mailbox,
                                                             Id source_message_id) = 0;
    // Marks every journal entry of these source messages into that target as
    // flags_checked.
    // --- Gmail labels (schema 7) ---
    // Records a message's Gmail ids and labels; a label-history entry at `at`
    // when the labels differ from the recorded ones (or none were recorded).
    // Marks the message unlinked until set_label_links().
    virtual void set_gmail_message(const GmailMessage& message, std::int64_t at) = 0;
    virtual std::optional<GmailMessage> gmail_message(Id message_id) = 0;
    // Oldest first.
    virtual std::vector<LabelChange> label_history(Id message_id) = 0;
    // The label links of a message, by label.
    virtual std::vector<LabelLink> label_links(Id message_id) = 0;
    // Replaces the message's label links (files_in_dir() lists them too) and
    // marks it linked.
    virtual void set_label_links(Id message_id, const std::vector<LabelLink>& links) = 0;
    // The labels that have links among the mailbox's messages, once each.
    virtual std::vector<std::string> linked_labels(Id mailbox_id) = 0;
    // Messages of the mailbox with a Gmail row not marked linked (at most
    // `limit`, lowest ids first).
    virtual std::vector<Id> unlinked_gmail_messages(Id mailbox_id, std::size_t limit) = 0;

    virtual void mark_restore_flags_checked(const std::string& target_account,
                                            const std::string& target_mailbox,
                                            const std::vector<Id>& source_message_ids) = 0;
};

}  // namespace imapkeep::store
