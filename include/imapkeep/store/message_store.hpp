// Message files: a Maildir++ tree per account (STORE/mail/ACCOUNT/) and its
// attic (STORE/attic/ACCOUNT/), same layout. INBOX is the account root; mailbox
// "A/B" (delimiter "/") is folder ".A.B". A message file's mtime is its
// INTERNALDATE and its ":2," suffix carries the system flags (D F R S T).
//
// A message whose bytes are pure CRLF is stored with LF line endings, anything
// else byte for byte (line_endings.hpp); read it back with open_read(), which
// gives the exact bytes the server sent. A put is: write into tmp/,
// fsync (batched by the caller via sync_pending()), rename into cur/. Errors throw
// StoreError. One MessageStore may be shared by threads working on different
// folders.
//
// Durability: finish() fsyncs the file, or leaves it for sync_pending() when
// fsync is deferred (the default): per batch, an fsync of each file, all at
// once, for up to 64 files, else one syncfs(2) of the store's file system
// where the FileSystem offers it (FileSystem::can_sync_file_system), and an
// fsync per file otherwise. commit(), set_flags(), the moves and remove()
// fsync the directories they change before returning, so once they return and
// sync_pending() has run, the catalog may record the new path.
//
// Paths handed in and out are relative to the store root and start with "mail/"
// or "attic/"; anything else (absolute, "..", empty components) is refused.
// Account names must be one plain path component (no "/", no leading ".").
// Folders are "" or what folder_for() returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/file_system.hpp>
#include <imapkeep/store/folder_files.hpp>
#include <imapkeep/store/line_endings.hpp>
#include <imapkeep/store/message_source.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imapkeep::store {

// A message being received. Bytes go straight to a file in tmp/ and are hashed
// as they arrive, so memory stays flat whatever the size. size() and
// sha256_hex() are those of the bytes written (the wire bytes), whatever form
// the file takes.
class PendingMessage {
  public:
    virtual ~PendingMessage() = default;
    virtual void write(std::string_view chunk) = 0;
    virtual std::uint64_t size() const = 0;
    virtual std::string sha256_hex() const = 0;  // valid after finish()
    // How the file holds the bytes (valid after finish()): the catalog records
    // it with the row, and readers pass it to open_read() (MessageRef).
    virtual LineEndings line_endings() const = 0;
    // Announces the INTERNALDATE (epoch seconds) that becomes the file's mtime,
    // so finish() sets it before the data fsync and it is as durable as the
    // bytes. Call before finish() (StoreError after it). Optional: commit()
    // sets and fsyncs the time itself when it was not announced, or differs.
    virtual void set_internaldate(std::int64_t epoch) = 0;
    // Closes and fsyncs the tmp file (unless fsync is deferred by the store).
    virtual void finish() = 0;
    // Deletes the tmp file if not committed.
    virtual void discard() noexcept = 0;
};

// MessageStore::link_state().
enum class LinkState { Copy, Missing, Other };

class MessageStore {
  public:
    virtual ~MessageStore() = default;

    // Folder name for a mailbox: INBOX -> "", "A/B" with delimiter "/" -> ".A.B".
    // Escapes "..", "/", a leading ".", the Maildir++ separator inside a level,
    // control characters, so the result never leaves the account root.
    //
    // `mailbox` is UTF-8. Each level is written in modified UTF-7 (RFC 3501
    // §5.1.3), as Dovecot's Maildir++ layout does, then escaped "%XX" (upper-case
    // hex) for "%", ".", "/", bytes < 0x20 and 0x7F; an empty level becomes "%".
    // Invalid UTF-8 is escaped byte by byte instead. The escape is reversible
    // (see decode_folder_level) except for a name longer than 255 bytes, which is
    // cut and suffixed with "~" and a hash (the catalog keeps the mapping).
    virtual std::string folder_for(const std::string& mailbox, const std::string& delimiter) = 0;

    // Starts a message in ACCOUNT/FOLDER/tmp/ (creating the Maildir if needed).
    virtual std::unique_ptr<PendingMessage> begin(const std::string& account,
                                                  const std::string& folder) = 0;
    // Makes every finished PendingMessage durable — call before commit() of a
    // batch. Up to 64 files finished since the last call, by any thread, are
    // fsynced together; more take one syncfs, which covers every message
    // finished before the call. With nothing finished since the last one it
    // costs nothing. Without syncfs: one fsync pass, and a message another thread's pass is
    // still fsyncing is fsynced again by commit(), so no rename ever precedes
    // its data's durability.
    virtual void sync_pending() = 0;
    // Verify found the stored bytes of `message` damaged (verify --repair):
    // the next commit of the same bytes writes them anew, never taking what
    // is there for them. Maildir: nothing to do (each commit writes a file
    // of its own). A content-addressed store (S3), which skips the upload of
    // an object that exists, uploads it again even when it exists, whatever
    // its size. Thread-safe.
    virtual void distrust(const MessageRef& message) = 0;
    // Renames into cur/ with the flag suffix and returns the path relative to the
    // store root. `uid` goes into the unique name. The mtime is `internaldate`:
    // when the message did not announce that time (set_internaldate) commit
    // sets it and fsyncs the file again before the rename.
    // With deferred fsync (the default) the rename is durable only after
    // sync_committed(): call it before the catalog transaction that records it.
    virtual std::string commit(PendingMessage& message, const std::string& account,
                               const std::string& folder, std::uint32_t uid,
                               std::int64_t internaldate,
                               const std::vector<std::string>& flags) = 0;

    // Makes every rename so far durable (commit, set_flags, the moves): one fsync
    // per directory touched. With deferred fsync (the default) call it before the
    // catalog transaction that records them. Thread-safe, and per batch
    // (invariant 8): it returns only once every rename made before the call, by
    // any thread, is durable, waiting for another thread's fsync of the same
    // directories if that one is in flight. On error the directories stay due
    // for the next call.
    virtual void sync_committed() = 0;

    // Opens a stored message for reading: its original bytes (the wire bytes,
    // whatever form `message.line_endings` says they are kept in), streamed
    // in pieces, nothing held whole (message_source.hpp). `message.file` is
    // the key the catalog row holds: what commit() or a later rename
    // returned; `lookup` says whether to follow a rename a killed run did not
    // catalog (locate()). The Maildir store reads the file by that key and
    // ignores the SHA-256; a content-addressed store reads the object of that
    // SHA-256. Thread-safe; each source is the caller's.
    // Throws MessageMissing when the message is not there, StoreError when
    // it cannot be read (or the key is not one of this store's).
    virtual std::unique_ptr<MessageSource> open_read(const MessageRef& message,
                                                     ReadLookup lookup) = 0;
    std::unique_ptr<MessageSource> open_read(const MessageRef& message) {
        return open_read(message, ReadLookup::FollowRenames);
    }

    // Renames the file so its ":2," suffix matches `flags`. Returns the new relative path.
    virtual std::string set_flags(const std::string& file,
                                  const std::vector<std::string>& flags) = 0;
    // Moves a live file into the attic (same relative layout). Returns the new path.
    // A file already in the attic (a killed run moved it) is returned as it is.
    virtual std::string move_to_attic(const std::string& file) = 0;
    // Moves a file to another folder of the same tree (UIDVALIDITY rekey, rename).
    virtual std::string move_to_folder(const std::string& file, const std::string& account,
                                       const std::string& folder) = 0;
    // A hard link of the live file `file` into another live folder, same name
    // (same inode: the bytes are on disk once). Gmail's label folders are
    // made of these. A link already there (a replayed step) is success.
    // Durable after sync_committed(). Returns the link's relative path; remove
    // it with remove(), rename it with set_flags(), like any message file.
    virtual std::string link_into_folder(const std::string& file, const std::string& account,
                                         const std::string& folder) = 0;
    // A hard link of `file` (live, or in the attic) into a live folder's cur/
    // under a new unique name, with ",U=uid" and the flags' suffix: a message
    // taken over from another mailbox's file (Gmail adoption, also of an
    // attic file) never shares its unique name, which locate() goes by, with
    // that file. A replayed call
    // makes another link (sweep the folder's unknown files). Durable after
    // sync_committed(). Returns the link's relative path.
    virtual std::string link_as_new(const std::string& file, const std::string& account,
                                    const std::string& folder, std::uint32_t uid,
                                    const std::vector<std::string>& flags) = 0;
    // `file` (live or attic) under a new unique name in its own directory: a
    // hard link, its ",U=" field and flags' suffix kept. For a file whose
    // unique name, which locate() goes by, another file of its folder shares
    // (a store converted by the older Gmail adoption: verify --repair). The
    // old name stays: remove() it once the catalog names the new one. A
    // replayed call makes another link. Durable after sync_committed().
    // Returns the new relative path.
    virtual std::string link_under_new_name(const std::string& file) = 0;
    // Deletes a file; when renamed since (other flags or U=, the other of cur/
    // and new/) the file of that unique name in the same folder and tree. It
    // never crosses into the attic or the live tree, nor to another folder, as
    // locate() does: a replayed removal of a file already gone (a label link)
    // must not delete another file of that unique name a catalog row names.
    // Callers that follow a killed run's move to the attic call locate()
    // first; a removal (mirror mode) never does. A missing file is not an
    // error (resuming after a crash), and its directory is fsynced anyway.
    virtual void remove(const std::string& file) = 0;
    // The current path of a file the catalog knows as `file`. A run killed
    // between a rename and its catalog commit leaves the file under another
    // ":2," suffix, in the other of cur/ and new/, or (a live file) in the
    // attic; this finds it by its unique base name, in its own tree first and
    // never an attic file in the live tree. One stat() when the path is right;
    // scans only after a crash. Returns `file` unchanged when nothing matches.
    virtual std::string locate(const std::string& file) = 0;
    // `file` (any tree) re-rooted in another folder of the same tree, same
    // name. Pure path arithmetic: nothing on disk changes.
    virtual std::string path_in_folder(const std::string& file, const std::string& account,
                                       const std::string& folder) const = 0;
    // A mailbox renamed on the server: moves the live folder `from` to `to`
    // (one directory rename; when `to` already exists, or `from` is INBOX, the
    // messages move one by one). Idempotent: `from` already gone is success.
    // Attic files stay where the catalog says they are. `to` may not be INBOX.
    virtual void rename_folder(const std::string& account, const std::string& from,
                               const std::string& to) = 0;
    // Deletes a live sub-folder (mailbox deleted on the server) once its cur/ and
    // new/ are empty; tmp/ leftovers go with it. Returns false, changing nothing,
    // if messages are left. INBOX ("") is never removed.
    virtual bool remove_folder(const std::string& account, const std::string& folder) = 0;
    // Creates the Maildir of a live folder (cur/ new/ tmp/, "maildirfolder" for
    // a sub-folder) so an empty mailbox has one too. Idempotent; durable when it
    // returns: the new entries and the ones a killed run left unsynced are
    // fsynced in their parents (once per folder and store object).
    virtual void create_folder(const std::string& account, const std::string& folder) = 0;
    // The catalog files (`known`, store-relative) of one live folder that a mail
    // reader renamed: same name up to ":2,", other info letters, or moved
    // between cur/ and new/. Returns (catalog path, path on disk) pairs. Costs
    // one listing of cur/ and new/, not a stat per message; files under their
    // cataloged name, or in no listing, are left out. The sync layer uses it to
    // put the server's flags back.
    virtual std::vector<std::pair<std::string, std::string>> renamed_files(
        const std::string& account, const std::string& folder,
        const std::vector<std::string>& known) = 0;
    // The files of one live folder's cur/ and new/, as a compact set
    // (folder_files.hpp). One streamed listing of each; a missing folder is
    // empty. With renamed_files() asked only about the rows this set lacks,
    // undoing a reader's renames holds the change, not the folder.
    virtual FolderFiles folder_files(const std::string& account, const std::string& folder) = 0;
    // Deletes the message files of a live folder (cur/ and new/) that are none
    // of `known`. Prefer remove_orphans() (orphans.hpp), which takes `known`
    // from every catalog row (invariant 2); this one trusts the caller's list (compared by unique
    // name, so a flag or UID rename a killed run did not catalog yet still counts as known): files
    // a killed run renamed into cur/ and never cataloged. Returns how many were removed.
    virtual std::size_t remove_unknown_files(const std::string& account, const std::string& folder,
                                             const std::vector<std::string>& known) = 0;
    // Renames the file so its ",U=" field says `uid` (after a UIDVALIDITY change
    // re-keyed it), durable after sync_committed(). Returns the new path.
    virtual std::string set_uid(const std::string& file, std::uint32_t uid) = 0;
    // Absolute path of a relative store path, for messages to people (verify,
    // repair). Never read bytes through it: open_read() is the read API.
    virtual std::string absolute(const std::string& file) const = 0;
    // What a Gmail label link (LabelLink::file) is to the copy it belongs
    // to, the message `file`, which is there (verify): the copy itself, or
    // missing, or something else. Maildir: a hard link to the copy (the same
    // inode), not a second file that only looks alike. A store whose label
    // links are catalog rows only (S3: link_into_folder() makes nothing, the
    // row holds the copy's own key): the copy's very key; any other key,
    // even one whose object is there, names no copy of this message.
    virtual LinkState link_state(const std::string& link, const std::string& file) const = 0;
    // Removes tmp/ leftovers from an interrupted run (files not in the catalog):
    // every tmp/ file of the account's live and attic trees except those a
    // PendingMessage of this store is still writing. The caller holds the account
    // lock, so no other process writes there. Returns how many were removed.
    virtual std::size_t clean_tmp(const std::string& account) = 0;
    // The same for one live folder's tmp/ (what the sync layer uses: only
    // folders with work, or whose stamp changed, can hold leftovers).
    virtual std::size_t clean_folder_tmp(const std::string& account, const std::string& folder) = 0;
    // A token that changes whenever a file is added to, removed from or renamed
    // in the live folder's cur/, new/ or tmp/ (their inodes and change times:
    // one stat each, no listing). "" when it cannot vouch for that: a
    // directory is missing, or changed less than MaildirOptions::stamp_settle
    // ago, so a change within the same clock tick could leave its time as it
    // is. Take it before looking at the folder: a later change then differs.
    virtual std::string folder_stamp(const std::string& account, const std::string& folder) = 0;
    // The stamp of a folder this process has just finished writing, for the
    // next run to compare (folder_unchanged): no stamp_settle wait, but a
    // change younger than the file system's clock tick is waited out (about
    // 10 ms) and the folder stamped again. "" when the two stamps differ
    // (someone else writes there now), a directory is missing, or the file
    // system keeps whole-second times (then only folder_stamp can vouch).
    virtual std::string folder_stamp_after_writes(const std::string& account,
                                                  const std::string& folder) = 0;
    // True when `stamp` (from folder_stamp or folder_stamp_after_writes) is
    // not empty and the folder's cur/, new/ and tmp/ are as they were then.
    virtual bool folder_unchanged(const std::string& account, const std::string& folder,
                                  const std::string& stamp) = 0;
    virtual const std::string& root() const = 0;
};

struct MaildirOptions {
    // true: finish() only closes (or queues) the file; sync_pending() makes the
    // batch durable: fsyncs together, one syncfs, or an fsync per file.
    // false: finish() fsyncs at once.
    bool defer_fsync = true;
    // Where the files go: null is the POSIX file system (posix_file_system());
    // tests pass a fault layer (tests/support/fault_file_system.hpp).
    std::shared_ptr<FileSystem> file_system;
    // true: a dry run's store. Nothing is created (not even the root), and
    // every call that would change a file or directory throws StoreError.
    bool read_only = false;
    // true: a message whose bytes are pure CRLF is stored with LF line endings
    // (line_endings.hpp), as mail readers expect. false: every message byte
    // for byte (tests of the raw form).
    bool lf_line_endings = true;
    // How long a directory must have stayed unchanged before folder_stamp()
    // vouches for it: file systems take change times from a coarse clock
    // (a jiffy on Linux). Tests shorten it.
    std::chrono::milliseconds stamp_settle{2000};
};

// Copies what a finished message says about itself into its catalog row: the
// wire size and SHA-256, and the form its file holds them in. Every writer of
// a row from a PendingMessage goes through it, so none forgets the form.
void describe_stored(const PendingMessage& message, MessageRecord& row);

// The Maildir++ implementation rooted at `store_root` (created if missing,
// unless read_only).
std::unique_ptr<MessageStore> open_maildir_store(const std::string& store_root,
                                                 const MaildirOptions& options = {});

// Inverse of folder_for's per-level escape: "%2E" -> ".", "%" -> "". Returns the
// modified UTF-7 level (nullopt if the escape is malformed).
std::optional<std::string> decode_folder_level(std::string_view level);

// The letters after ":2," for a flag list (D F R S T, sorted), ignoring keywords
// and case: {"\\Seen", "\\Draft", "$Work"} -> "DS".
std::string maildir_flag_suffix(const std::vector<std::string>& flags);

}  // namespace imapkeep::store
