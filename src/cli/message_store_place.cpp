#include "cli/message_store_place.hpp"

#include <imapkeep/store/s3_message_store.hpp>
#include <imapkeep/store/s3_prefix_owner.hpp>

#include "cli/catalog_place.hpp"

namespace imapkeep::cli {

bool messages_in_s3(const Config& config) { return config.store_backend == "postgres+s3"; }

s3::S3Config s3_client_config(const Config& config) {
    const S3StoreConfig& c = config.s3;
    s3::S3Config client;
    client.endpoint = c.endpoint;
    client.region = c.region;
    client.ca_file = c.ca_file;
    client.credentials = {c.access_key, c.secret_key()};
    return client;
}

store::S3StoreOptions s3_store_options(const Config& config, bool read_only) {
    const S3StoreConfig& c = config.s3;
    store::S3StoreOptions options;
    options.client = s3_client_config(config);
    options.bucket = c.bucket;
    options.prefix = c.prefix;
    options.spool_dir = config.store_path + "/spool";
    options.read_only = read_only;
    return options;
}

std::unique_ptr<store::MessageStore> open_message_store(const Config& config, bool read_only) {
    if (messages_in_s3(config)) {
        auto options = s3_store_options(config, read_only);
        // A dry run writes nothing, so it has nothing to claim.
        if (!read_only) {
            auto ledger = open_blob_ledger(config);
            claim_s3_prefix(config, options, *ledger);
            options.claims = std::move(ledger);
        }
        return store::open_s3_message_store(options);
    }
    store::MaildirOptions options;
    options.read_only = read_only;
    return store::open_maildir_store(config.store_path, options);
}

void claim_s3_prefix(const Config& config, const store::S3StoreOptions& store,
                     store::BlobLedger& ledger) {
    try {
        store::claim_s3_prefix(store, ledger.catalog_id());
    } catch (const store::PrefixOwnedElsewhere& e) {
        throw ConfigError(config.file + ": [store.s3]: " + e.what());
    }
}

std::string message_store_name(const Config& config) {
    if (!messages_in_s3(config)) return config.store_path;
    return "s3://" + config.s3.bucket + "/" + config.s3.prefix + " at " + config.s3.endpoint;
}

}  // namespace imapkeep::cli
