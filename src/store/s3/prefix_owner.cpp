#include <imapkeep/s3/byte_source.hpp>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/s3_prefix_owner.hpp>

namespace imapkeep::store {

namespace {

std::string owner_key(const std::string& prefix) { return s3_key_prefix(prefix) + kPrefixOwnerKey; }

std::string where(const S3StoreOptions& store) {
    return "s3://" + store.bucket + "/" + owner_key(store.prefix);
}

// The object holds "catalog <id>\n"; anything else is not ours to trust.
std::string owner_text(const std::string& catalog_id) { return "catalog " + catalog_id + "\n"; }

}  // namespace

void claim_s3_prefix(const S3StoreOptions& store, const std::string& catalog_id) {
    if (catalog_id.empty()) throw StoreError("an empty catalog id cannot own " + where(store));
    s3::S3Client client(store.client);
    const std::string key = owner_key(store.prefix);
    const std::string mine = owner_text(catalog_id);
    if (client.head_object(store.bucket, key)) {
        std::string found;
        client.get_object(store.bucket, key, [&](std::string_view bytes) {
            if (found.size() < 4096) found.append(bytes.substr(0, 4096 - found.size()));
        });
        if (found == mine) return;
        std::string named = found.rfind("catalog ", 0) == 0 ? found.substr(8) : found;
        while (!named.empty() && (named.back() == '\n' || named.back() == '\r')) named.pop_back();
        throw PrefixOwnedElsewhere(
            where(store) + " says the prefix belongs to catalog " + named +
            ", not to this one (" + catalog_id +
            "): gc of either would delete the other's messages. Give each catalog a prefix "
            "of its own ([store.s3] prefix)");
    }
    s3::MemorySource body(mine);
    client.put_object(store.bucket, key, body);
}

}  // namespace imapkeep::store
