// The content-addressed MessageStore (message_store.hpp) on S3-compatible
// object storage (Ceph RGW, AWS): each message's wire bytes are one object
// keyed by their SHA-256,
//
//     <prefix>blobs/ab/cd/<sha256>      (ab, cd: the hash's first two bytes)
//
// so the same message in several folders or accounts is stored once. The
// catalog holds everything else (folders, flags, UIDs, dates): nothing in S3
// changes when those do.
//
// The key handed out (MessageRecord::file) is "s3:blobs/ab/cd/<sha256>": the
// object's key below the prefix, marked "s3:" so it can never be taken for a
// Maildir path (those start with "mail/" or "attic/"). open_read() reads the
// object of MessageRef::sha256 (the key's hash when the row has none) and
// refuses, with StoreError, a key that is not this form or names another hash.
//
// Writes: begin() spools the wire bytes to a file in a directory of this
// store object's own under S3StoreOptions::spool_dir, hashing them as they
// arrive: memory stays flat whatever the size. finish() closes the file (no
// descriptor stays open per message waiting for its batch); it is unlinked
// once uploaded or discarded. Each upload claims the object from garbage
// collection (S3StoreOptions::claims, blob_ledger.hpp), then HEADs
// the object and PUTs only when it is missing (one PUT with the known hash,
// multipart from the S3Client's threshold on). sync_pending() uploads every
// message finished so far, by any thread, up to parallel_uploads at once (it
// throws the first failure once all ended); commit() uploads its message
// itself when no sync_pending() did. Invariant 1: commit() returns only once
// the object exists (a PUT that returned is durable in S3), so the caller's
// catalog commit after it is safe. Bytes are kept as they
// came (line_endings() is always Wire), so open_read() gives back exactly
// what the server sent.
//
// Reads: open_read() GETs the object into a buffer that spills to an
// anonymous spool file past 1 MiB, then hands it out in pieces. A missing
// object (404) is MessageMissing.
//
// What the Maildir-specific operations mean here:
// - set_flags, set_uid, move_to_attic, move_to_folder, link_into_folder,
//   link_as_new, link_under_new_name, locate, path_in_folder: no object
//   changes (flags and folders live in the catalog); the key is returned
//   unchanged, and a row's key stays valid through all of them.
// - link_state(): Copy when the label link's key is the copy's own (Gmail's
//   label links are catalog rows naming the copy's object), Other for any
//   other key.
// - distrust(): the next upload of that object is a PUT even when an object
//   of its size is there (verify --repair of an object with other bytes).
// - remove(): nothing. Another row (folder, account) may hold the same bytes;
//   unreferenced objects are garbage collection's business (s3_gc.hpp).
// - rename_folder, create_folder, sync_committed: nothing to do.
//   remove_folder(): true (no folder holds anything).
// - folder_files, renamed_files, remove_unknown_files, clean_folder_tmp: no
//   reader renames or leaves files in S3: empty, 0. clean_tmp(): removes the
//   spool directories of killed runs (each is locked while its store lives;
//   opening a store does it too) and returns how many files they held.
// - folder_stamp, folder_stamp_after_writes: one stable stamp, and
//   folder_unchanged() is true for it: nothing outside imapkeep changes a
//   folder here, so the sync layer never has to look.
// - absolute(): "s3://BUCKET/PREFIX<key>", for messages to people; root():
//   "s3://BUCKET/PREFIX".
//
// Threads: one store may be shared by threads (different folders); each call
// (and each of sync_pending()'s upload threads) takes an S3Client from a
// small pool (S3Client is one-thread-at-a-time) and gives it back, so there
// are at most as many clients as requests in flight at once.
//
// Errors: S3 failures throw S3StoreError (a StoreError that keeps S3's code
// and transient(): a caller may retry a transient one); a missing object on
// read throws MessageMissing; spool I/O errors throw StoreError. No message
// carries a credential.
#pragma once

#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/blob_ledger.hpp>
#include <imapkeep/store/message_store.hpp>
#include <memory>
#include <string>

namespace imapkeep::store {

struct S3StoreOptions {
    // Endpoint, region, credentials, multipart threshold and part size.
    s3::S3Config client;
    std::string bucket;
    // Prepended to every key as is: "" or something like "imapkeep/" (a
    // missing final "/" is added).
    std::string prefix;
    // Where message bytes are spooled before upload (a locked directory of
    // each store object's own in it, removed when the store is destroyed, or
    // by the next store opened after a crash) and after download (anonymous
    // files). Created if missing. Processes may share it.
    std::string spool_dir;
    // How many uploads sync_pending() runs at once (threads, each with its
    // own client and connection).
    int parallel_uploads = 8;
    // Garbage collection's writer side (blob_ledger.hpp): every object is
    // claimed before it is HEADed or PUT (sync_pending() claims its batch in
    // one call), so `imapkeep gc` never deletes one a row is about to name.
    // Shared by the store's threads (claim() is thread-safe). Null: no
    // claims (a store no gc runs on, or tests); gc is then unsafe to run.
    std::shared_ptr<BlobClaims> claims;
    // A dry run's store: begin() and commit() throw StoreError; reads work.
    // Nothing is created (spool_dir must exist for reads past 1 MiB).
    bool read_only = false;
};

// An S3 failure behind a MessageStore call: what S3 said (s3::S3Error's code,
// status, transient()) with the store operation in what().
class S3StoreError : public StoreError {
  public:
    S3StoreError(const std::string& what, const s3::S3Error& cause)
        : StoreError(what + ": " + cause.what()),
          m_code(cause.code()),
          m_http_status(cause.http_status()),
          m_transient(cause.transient()) {}
    const std::string& code() const { return m_code; }
    long http_status() const { return m_http_status; }
    bool transient() const noexcept override { return m_transient; }

  private:
    std::string m_code;
    long m_http_status = 0;
    bool m_transient = false;
};

// The object key (below the prefix) of the message with this SHA-256
// (lower-case hex, 64 digits): "blobs/ab/cd/<sha256>". std::invalid_argument
// for anything else.
std::string s3_blob_key(const std::string& sha256);

// S3StoreOptions::prefix as every key starts with it: "" stays "", anything
// else ends in "/".
std::string s3_key_prefix(std::string prefix);

// Opens the store. Does not contact S3 (a missing bucket shows at the first
// request); creates spool_dir. std::invalid_argument for a bad bucket name or
// endpoint, StoreError when spool_dir cannot be made.
std::unique_ptr<MessageStore> open_s3_message_store(const S3StoreOptions& options);

}  // namespace imapkeep::store
