// The catalog: what the store knows about accounts, mailboxes, messages, flag
// history, runs and restores. `sync` and `archive` only see this interface
// (DESIGN.md "Store"); SQLite (sqlite_catalog.hpp) is the one implementation.
//
// Errors: every method throws StoreError. Not thread-safe: one Catalog per
// thread (each opens its own connection; SQLite WAL serialises writers).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace imapkeep::store {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using Id = std::int64_t;

struct MailboxRecord {
    Id id = 0;
    Id account_id = 0;
    std::string name;             // server name, UTF-8 (decoded from modified UTF-7)
    std::string delimiter;        // "" when the server has none (NIL)
    std::string folder;           // Maildir++ folder relative to the account root ("" = INBOX)
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;           // high-water mark: every UID below is durable
    std::uint64_t highestmodseq = 0;     // high-water mark for flags/expunges
    std::string mailboxid;               // RFC 8474 MAILBOXID, "" if unknown
    std::string sync_path;               // "QRESYNC" | "CONDSTORE" | "plain" | ""
    std::optional<std::int64_t> last_sync_at;  // epoch seconds of the last successful sync
    std::optional<std::int64_t> deleted_at;    // the server no longer has it
};

struct MessageRecord {
    Id id = 0;
    Id mailbox_id = 0;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    std::int64_t internaldate = 0;       // epoch seconds
    int internaldate_zone = 0;           // seconds east of UTC as the server gave it
    std::uint64_t size = 0;              // RFC822.SIZE == bytes stored
    std::string sha256;                  // hex of the stored bytes
    std::string message_id;              // Message-ID header value, "" if none
    std::vector<std::string> flags;      // sorted, without \Recent
    std::uint64_t modseq = 0;
    std::string file;                    // path relative to the store root
    std::int64_t added_at = 0;
    std::optional<std::int64_t> expunged_at;
};

struct FlagChange {
    Id message_id;
    std::int64_t at;
    std::vector<std::string> flags;  // the full set from `at` on
};

struct RunRecord {
    Id id = 0;
    std::string command;             // "backup", "restore", ...
    std::int64_t started_at = 0;
    std::optional<std::int64_t> finished_at;
    std::string status;              // "running" | "ok" | "partial" | "failed"
    std::string report_json;
};

struct RestoreJournalEntry {
    std::string target_account;
    std::string target_mailbox;
    Id source_message_id;
    std::uint32_t target_uidvalidity = 0;  // 0 without UIDPLUS
    std::uint32_t target_uid = 0;          // 0 without UIDPLUS
    std::int64_t appended_at = 0;
};

class Catalog {
public:
    virtual ~Catalog() = default;

    // Transactions nest only by counting: the outermost commit is the real one.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    virtual Id ensure_account(const std::string& name) = 0;
    virtual std::optional<Id> find_account(const std::string& name) = 0;
    virtual std::vector<std::string> account_names() = 0;

    // Mailboxes of an account, including deleted ones when asked.
    virtual std::vector<MailboxRecord> mailboxes(Id account_id, bool include_deleted = false) = 0;
    virtual std::optional<MailboxRecord> find_mailbox(Id account_id, const std::string& name) = 0;
    // Inserts (id == 0) or updates every field. Returns the id.
    virtual Id save_mailbox(const MailboxRecord& mailbox) = 0;

    // Live (not expunged) messages of a mailbox, ordered by uid.
    virtual std::vector<MessageRecord> messages(Id mailbox_id) = 0;
    // Every message ever seen in the mailbox, expunged ones included.
    virtual std::vector<MessageRecord> all_messages(Id mailbox_id) = 0;
    virtual std::optional<MessageRecord> find_message(Id mailbox_id, std::uint32_t uidvalidity,
                                                      std::uint32_t uid) = 0;
    virtual std::optional<MessageRecord> message_by_id(Id id) = 0;
    // Inserts a message and its first flag-history entry. Returns the id.
    virtual Id add_message(const MessageRecord& message) = 0;
    // Records new flags (and their history entry at `at`), modseq and file path.
    virtual void update_flags(Id message_id, const std::vector<std::string>& flags,
                              std::uint64_t modseq, const std::string& file, std::int64_t at) = 0;
    // Marks expunged at `at`, with the file's new (attic) path.
    virtual void mark_expunged(Id message_id, std::int64_t at, const std::string& attic_file) = 0;
    // Re-keys a message after a UIDVALIDITY change; the old uid stays in history.
    virtual void rekey_message(Id message_id, std::uint32_t uidvalidity, std::uint32_t uid,
                               const std::string& file) = 0;
    // Moves every message of `from` to `to` (mailbox renamed on the server).
    virtual void move_messages(Id from_mailbox, Id to_mailbox) = 0;
    // Deletes message rows outright (expunged = "mirror").
    virtual void delete_message(Id message_id) = 0;

    virtual std::vector<FlagChange> flag_history(Id message_id) = 0;

    // The state of a mailbox at `at` (epoch): messages added at or before and not
    // expunged by then, with the flags they had at that moment.
    virtual std::vector<MessageRecord> messages_at(Id mailbox_id, std::int64_t at) = 0;

    virtual Id begin_run(const std::string& command, std::int64_t at) = 0;
    virtual void finish_run(Id run_id, std::int64_t at, const std::string& status,
                            const std::string& report_json) = 0;
    virtual std::optional<RunRecord> last_run(const std::string& command) = 0;

    virtual void add_restore_entry(const RestoreJournalEntry& entry) = 0;
    virtual bool restored(const std::string& target_account, const std::string& target_mailbox,
                          Id source_message_id) = 0;
};

}  // namespace imapkeep::store
