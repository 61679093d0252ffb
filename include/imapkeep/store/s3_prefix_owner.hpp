// An S3 store's bucket prefix belongs to one catalog (issue 13). `imapkeep
// gc` deletes the objects under its prefix that no row of *its* catalog
// names, so a second catalog (another PostgreSQL schema or database) writing
// under the same prefix would lose its messages to the first one's gc, and
// the reverse.
//
// The first writer (a backup, a worker) or gc of a prefix leaves an object
// there, kPrefixOwnerKey, holding its catalog's id (BlobLedger::catalog_id);
// every later one reads it and goes on only when it names its own catalog.
// gc lists only "blobs/", so it never touches that object.
//
// Errors: PrefixOwnedElsewhere when the object names another catalog (a
// configuration to fix: not transient); s3::S3Error from the requests.
// The owner is written with a conditional PUT (If-None-Match: *), so of
// catalogs that find no owner at the same instant exactly one writes it and
// the others are refused at once. A store that ignores the condition
// overwrites instead: then the later writer stays, and the other catalog is
// refused from its next run.
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/s3_message_store.hpp>

#include <string>

namespace imapkeep::store {

inline constexpr const char* kPrefixOwnerKey = "imapkeep-catalog";

class PrefixOwnedElsewhere : public StoreError {
  public:
    using StoreError::StoreError;
};

// Reads the prefix's owner, and writes it when there is none. `store` gives
// the client settings, bucket and prefix.
void claim_s3_prefix(const S3StoreOptions& store, const std::string& catalog_id);

}  // namespace imapkeep::store
