// Where a store's message bytes live ([store] backend in the config): Maildir
// files under store.path ("local", the default), or content-addressed objects
// in S3 ("postgres+s3", store/s3_message_store.hpp) with a spool directory
// STORE/spool. sync, archive and the commands get their MessageStore here
// and never see which.
#pragma once

#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/blob_ledger.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/s3_message_store.hpp>
#include <memory>
#include <string>

#include "cli/config.hpp"

namespace imapkeep::cli {

bool messages_in_s3(const Config& config);

// Opens the message store (a dry run's: read_only). The S3 secret key is
// fetched here (SecretError when its command or file fails). An S3 store
// that writes claims its objects from `imapkeep gc` through a connection of
// its own to the catalog (catalog_place.hpp's open_blob_ledger). Errors of
// the backend: store::StoreError.
std::unique_ptr<store::MessageStore> open_message_store(const Config& config, bool read_only);

// The S3 client settings of [store.s3] (the secret fetched: SecretError when
// its command or file fails), for the store and for doctor's check.
s3::S3Config s3_client_config(const Config& config);

// The S3 store's settings of [store.s3] (the secret fetched), without claims.
store::S3StoreOptions s3_store_options(const Config& config, bool read_only);

// Before an S3 store writes or gc deletes: the bucket prefix must be this
// catalog's (store/s3_prefix_owner.hpp), and is made so when nobody owns it.
// One owned by another catalog is a ConfigError (exit 2); S3 failures are
// s3::S3Error.
void claim_s3_prefix(const Config& config, const store::S3StoreOptions& store,
                     store::BlobLedger& ledger);

// For messages: store.path, or "s3://BUCKET/PREFIX at ENDPOINT".
std::string message_store_name(const Config& config);

}  // namespace imapkeep::cli
