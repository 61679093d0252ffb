#include <imapkeep/s3/byte_source.hpp>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/s3_prefix_owner.hpp>

#include <optional>

namespace imapkeep::store {

namespace {

std::string owner_key(const std::string& prefix) { return s3_key_prefix(prefix) + kPrefixOwnerKey; }

std::string where(const S3StoreOptions& store) {
    return "s3://" + store.bucket + "/" + owner_key(store.prefix);
}

// The object holds "catalog <id>\n"; anything else is not ours to trust.
std::string owner_text(const std::string& catalog_id) { return "catalog " + catalog_id + "\n"; }

// The owner's text, or nullopt when the prefix has none.
std::optional<std::string> read_owner(s3::S3Client& client, const S3StoreOptions& store) {
    const std::string key = owner_key(store.prefix);
    if (!client.head_object(store.bucket, key)) return std::nullopt;
    std::string found;
    client.get_object(store.bucket, key, [&](std::string_view bytes) {
        if (found.size() < 4096) found.append(bytes.substr(0, 4096 - found.size()));
    });
    return found;
}

[[noreturn]] void refuse(const S3StoreOptions& store, const std::string& catalog_id,
                         const std::string& found) {
    std::string named = found.rfind("catalog ", 0) == 0 ? found.substr(8) : found;
    while (!named.empty() && (named.back() == '\n' || named.back() == '\r')) named.pop_back();
    throw PrefixOwnedElsewhere(where(store) + " says the prefix belongs to catalog " + named +
                               ", not to this one (" + catalog_id +
                               "): gc of either would delete the other's messages. Give each "
                               "catalog a prefix of its own ([store.s3] prefix)");
}

}  // namespace

// An owner is written only where there is none (a conditional PUT), so of
// catalogs that find the prefix unowned at the same moment one writes it and
// the others read it on their next pass and are refused.
void claim_s3_prefix(const S3StoreOptions& store, const std::string& catalog_id) {
    if (catalog_id.empty()) throw StoreError("an empty catalog id cannot own " + where(store));
    s3::S3Client client(store.client);
    const std::string mine = owner_text(catalog_id);
    constexpr int kPasses = 3;  // a racer's conditional write in flight (409) may fail after all
    for (int pass = 0; pass < kPasses; ++pass) {
        if (auto found = read_owner(client, store)) {
            if (*found == mine) return;
            refuse(store, catalog_id, *found);
        }
        s3::MemorySource body(mine);
        if (client.put_object_if_absent(store.bucket, owner_key(store.prefix), body)) return;
    }
    throw StoreError("could not settle which catalog owns " + where(store) +
                     ": other writers kept it busy; try again");
}

}  // namespace imapkeep::store
