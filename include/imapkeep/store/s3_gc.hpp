// Garbage collection of the S3 message store (s3_message_store.hpp):
// `imapkeep gc`. Deletes the objects under the store's prefix that no catalog
// row names, safely while backups run on any number of hosts.
//
// The referenced set is the whole catalog (BlobLedger::referenced: message
// rows live or expunged, Gmail label links), never one account: a bucket and
// prefix are shared by every account of the catalog.
//
// One run lists <prefix>blobs/ page by page (a page in memory at a time), and
// for each object (blob_ledger.hpp argues why this is safe):
// - named by a row: kept (its mark, if any, removed);
// - not named, no mark, LastModified older than the grace: marked now;
// - not named, no mark, younger: kept (an upload whose row is on its way);
// - marked less than a grace ago: kept, waiting;
// - marked a grace ago or more: swept (BlobLedger::sweep: rows checked again
//   under the mark's row lock, then DELETE).
// So an object goes at the earliest one grace after a run first saw it
// unreferenced and old, at the next run after that. Keys under the prefix
// that are not blob keys ("blobs/ab/cd/<sha256>" whose ab/cd agree) are
// never touched. After a whole listing, marks of objects no longer listed
// are dropped.
//
// A dry run reads only: it counts what it would mark and what it would
// delete now (marked long enough and unreferenced at the time it looks), and
// writes no mark.
//
// Errors: s3::S3Error / S3StoreError from S3, StoreError from the catalog;
// the first one ends the run (what was deleted so far stays deleted, marks
// stay: running again is safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <imapkeep/store/blob_ledger.hpp>
#include <imapkeep/store/s3_message_store.hpp>
#include <string>

namespace imapkeep::store {

inline constexpr std::chrono::seconds kDefaultGcGrace{7 * 24 * 3600};

struct S3GcOptions {
    // How old an unreferenced object must be to be marked, and how old its
    // mark must be to be deleted. It must exceed the longest time between a
    // writer's claim or upload and its catalog commit.
    std::chrono::seconds grace = kDefaultGcGrace;
    bool dry_run = false;
    // The run's clock, seconds since 1970; 0: the system clock.
    std::int64_t now = 0;
    // Each object deleted (a dry run: each it would delete), its absolute
    // "s3://BUCKET/PREFIX..." name and size. May be empty.
    std::function<void(const std::string& name, std::uint64_t size)> on_delete;
    // Tests: called inside a sweep's transaction after its rows were checked,
    // just before the object's DELETE (the key as rows name it).
    std::function<void(const std::string& file)> before_delete;
    // Tests: called before each sweep's transaction, after the page's rows
    // were looked up (the key as rows name it).
    std::function<void(const std::string& file)> before_sweep;
};

struct S3GcReport {
    std::uint64_t objects = 0;     // blob objects listed
    std::uint64_t bytes = 0;       // their sizes
    std::uint64_t referenced = 0;  // named by a row
    std::uint64_t young = 0;       // unreferenced, newer than the grace
    std::uint64_t marked = 0;      // marked by this run (dry run: would be)
    std::uint64_t waiting = 0;     // marked before, less than a grace ago
    std::uint64_t deleted = 0;     // deleted (dry run: would be)
    std::uint64_t deleted_bytes = 0;
    std::uint64_t kept_at_sweep = 0;  // marked long enough, but named or claimed at the sweep
    std::uint64_t other_keys = 0;     // under the prefix, not blob keys: left alone
    std::uint64_t forgotten_marks = 0;
};

// `store` gives endpoint, credentials, bucket and prefix (nothing else is
// used); `ledger` is the catalog's (postgres_blob_ledger.hpp).
S3GcReport collect_s3_garbage(const S3StoreOptions& store, BlobLedger& ledger,
                              const S3GcOptions& options);

}  // namespace imapkeep::store
