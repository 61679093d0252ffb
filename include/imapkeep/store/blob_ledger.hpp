// What garbage collection of a content-addressed store (S3, s3_gc.hpp) needs
// from the catalog, and the one call writers make so that gc never deletes
// an object a row is about to name. Keys here are the catalog's form,
// "s3:blobs/ab/cd/<sha256>" (MessageRecord::file, LabelLink::file).
//
// Why this exists: the S3 store dedupes (s3_message_store.hpp). A writer HEADs
// the object, finds it there and skips the PUT, then commits a row naming it.
// A gc that lists the bucket, finds that old object unreferenced and deletes
// it between the writer's HEAD and its commit leaves a row pointing at
// nothing (invariant 1). The object's LastModified cannot tell: it is old.
//
// The protocol (table gc_mark, schema/postgres/0013_gc_marks.sql):
//   Writer, for every object it is about to trust or create (before HEAD):
//     w1  claim(): DELETE FROM gc_mark WHERE file = K   (its own commit)
//     w2  HEAD K; PUT unless there
//     w3  commit the catalog row naming K
//   gc, run after run:
//     m   mark: an object listed, unreferenced, LastModified older than the
//         grace, not marked yet: INSERT its mark with the run's time.
//     s   sweep, for a listed object whose mark is older than the grace, in
//         ONE transaction:
//           s1  SELECT its mark FOR UPDATE (none: skip)
//           s2  no row of message or label_link names K (else: unmark, keep)
//           s3  S3 DELETE K
//           s4  DELETE the mark; COMMIT
//
// Why no interleaving loses an object. Take a writer W and the sweep of K.
// - w1 commits before s1 locks: the mark is gone, s1 finds none, K stays.
// - s1 locks first: w1 waits on the row lock until the sweep ends. The sweep
//   deletes the object before it commits (s3 before s4), so once w1 goes on,
//   w2's HEAD finds no object (S3 and RGW are read-after-delete consistent)
//   and W uploads it again. If the sweep fails or dies before COMMIT, it
//   rolls back; the object may be gone already, but no row names it (s2 saw
//   none, and W, the only one that could add one, waited), and w2 uploads it.
// - W's w1 came before the mark existed (W was between w1 and w3 when gc
//   marked K): this is the one case the marks cannot see, and the grace
//   covers it: the sweep waits a grace after the mark, and s2 checks the
//   rows again inside the locking transaction, so W's row, committed within
//   the grace of its w1, keeps K. The same grace covers an upload in flight
//   whose object is new (race B): m only marks objects older than the grace.
//   Assumption: no writer holds a claimed object longer than the grace
//   without committing its row (minutes against a default of 7 days).
// - A row committed after gc listed the bucket: s2 reads the rows at the
//   sweep, not at the listing, so it is seen; a mark made from an older view
//   is only a candidate.
// - Two gc runs at once: s1's row lock makes their sweeps of one key take
//   turns; the second finds no mark. Marks are only ever a reason to wait.
// The residual risk: the sweep's session ended by the server (an admin's
// pg_terminate_backend, a dead TCP connection it notices) between s1 and
// s3 frees the lock while gc still sends the DELETE. gc keeps that window to
// one S3 request and says so if the COMMIT after it fails.
//
// Threads: claim() may be called from several threads at once (uploads run
// in parallel); the other calls are for one gc thread.
// Errors: StoreError (with the SQLSTATE, e.g. a lock_timeout while a sweep
// holds the key) from every call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace imapkeep::store {

// The writer's side: the S3 store calls it before it HEADs or PUTs.
class BlobClaims {
  public:
    virtual ~BlobClaims() = default;
    // w1 above: removes the marks of these keys, committed when it returns;
    // waits while a gc sweep holds one of them.
    virtual void claim(const std::vector<std::string>& files) = 0;
};

// gc's side.
class BlobLedger : public BlobClaims {
  public:
    // The keys among `files` that a catalog row names (message.file of live
    // and expunged rows alike, label_link.file): the whole catalog, every
    // account.
    virtual std::set<std::string> referenced(const std::vector<std::string>& files) = 0;
    // The marks among `files`: key -> marked_at.
    virtual std::map<std::string, std::int64_t> marks(const std::vector<std::string>& files) = 0;
    // Marks these keys at `at` (a key marked already keeps its older mark).
    virtual void mark(const std::vector<std::string>& files, std::int64_t at) = 0;
    // Removes their marks (referenced again).
    virtual void unmark(const std::vector<std::string>& files) = 0;
    // s1-s4 for one key: when its mark is there, at or before
    // `marked_by`, and no row names the key, calls delete_object() inside the
    // transaction and removes the mark. Returns whether it did. If
    // delete_object throws, the transaction rolls back and the exception goes on.
    virtual bool sweep(const std::string& file, std::int64_t marked_by,
                       const std::function<void()>& delete_object) = 0;
    // Removes marks made before `marked_before`: after a whole listing,
    // those are of objects no longer there (the listed ones were swept or
    // unmarked). Removing a mark is always safe: it only delays a deletion.
    virtual std::size_t forget_marks(std::int64_t marked_before) = 0;
    // The catalog's identity (made once by its migrations): what an S3
    // prefix's owner object names (s3_prefix_owner.hpp).
    virtual std::string catalog_id() = 0;
};

}  // namespace imapkeep::store
