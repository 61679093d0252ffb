// Message files: a Maildir++ tree per account (STORE/mail/ACCOUNT/) and its
// attic (STORE/attic/ACCOUNT/), same layout. INBOX is the account root; mailbox
// "A/B" (delimiter "/") is folder ".A.B". A message file's mtime is its
// INTERNALDATE and its ":2," suffix carries the system flags (D F R S T).
//
// Bytes are stored exactly as the server sent them. A put is: write into tmp/,
// fsync (batched by the caller via sync_pending()), rename into cur/. Errors throw
// StoreError. One MessageStore may be shared by threads working on different
// folders.
#pragma once

#include <imapkeep/store/catalog.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::store {

// A message being received. Bytes go straight to a file in tmp/ and are hashed
// as they arrive, so memory stays flat whatever the size.
class PendingMessage {
public:
    virtual ~PendingMessage() = default;
    virtual void write(std::string_view chunk) = 0;
    virtual std::uint64_t size() const = 0;
    virtual std::string sha256_hex() const = 0;  // valid after finish()
    // Closes and fsyncs the tmp file (unless fsync is deferred by the store).
    virtual void finish() = 0;
    // Deletes the tmp file if not committed.
    virtual void discard() noexcept = 0;
};

class MessageStore {
public:
    virtual ~MessageStore() = default;

    // Folder name for a mailbox: INBOX -> "", "A/B" with delimiter "/" -> ".A.B".
    // Escapes "..", "/", a leading ".", the Maildir++ separator inside a level,
    // control characters, so the result never leaves the account root.
    virtual std::string folder_for(const std::string& mailbox, const std::string& delimiter) = 0;

    // Starts a message in ACCOUNT/FOLDER/tmp/ (creating the Maildir if needed).
    virtual std::unique_ptr<PendingMessage> begin(const std::string& account,
                                                  const std::string& folder) = 0;
    // Makes every finished PendingMessage durable (one fsync pass) — call before
    // commit() of a batch.
    virtual void sync_pending() = 0;
    // Renames into cur/ with the flag suffix, sets mtime to internaldate, and returns
    // the path relative to the store root. `uid` goes into the unique name.
    virtual std::string commit(PendingMessage& message, const std::string& account,
                               const std::string& folder, std::uint32_t uid,
                               std::int64_t internaldate,
                               const std::vector<std::string>& flags) = 0;

    // Renames the file so its ":2," suffix matches `flags`. Returns the new relative path.
    virtual std::string set_flags(const std::string& file, const std::vector<std::string>& flags) = 0;
    // Moves a live file into the attic (same relative layout). Returns the new path.
    virtual std::string move_to_attic(const std::string& file) = 0;
    // Moves a file to another folder of the same tree (UIDVALIDITY rekey, rename).
    virtual std::string move_to_folder(const std::string& file, const std::string& account,
                                       const std::string& folder) = 0;
    virtual void remove(const std::string& file) = 0;
    // Absolute path of a relative store path.
    virtual std::string absolute(const std::string& file) const = 0;
    // Removes tmp/ leftovers from an interrupted run (files not in the catalog).
    virtual std::size_t clean_tmp(const std::string& account) = 0;
    virtual const std::string& root() const = 0;
};

// The Maildir++ implementation rooted at `store_root`.
std::unique_ptr<MessageStore> open_maildir_store(const std::string& store_root);

// ":2," flag letters for a flag list (D F R S T, sorted), ignoring keywords.
std::string maildir_flag_suffix(const std::vector<std::string>& flags);

}  // namespace imapkeep::store
