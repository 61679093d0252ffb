// An S3 prefix belongs to one catalog (s3_prefix_owner.hpp): gc deletes what
// no row of its own catalog names, so a second catalog on the same prefix is
// refused before it writes or collects anything.
#include <catch2/catch.hpp>
#include <imapkeep/store/postgres_blob_ledger.hpp>
#include <imapkeep/store/s3_prefix_owner.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "catalog_backends.hpp"
#include "message_store_backends.hpp"

using namespace imapkeep;
using namespace imapkeep::store;

namespace {

std::shared_ptr<BlobLedger> ledger_of(test::PostgresBackend& pg) {
    pg.open();  // the schema and its migrations
    PostgresCatalogOptions options;
    options.conninfo = pg.conninfo();
    options.schema = pg.schema();
    return open_postgres_blob_ledger(options);
}

std::string object_text(test::S3Backend& s3, const std::string& key) {
    std::string text;
    s3.client().get_object(s3.options().bucket, key, [&](std::string_view b) { text += b; });
    return text;
}

}  // namespace

TEST_CASE("an S3 prefix is claimed by the first catalog and refused to any other",
          "[store][s3][postgres]") {
    auto first = test::make_postgres_backend();
    auto second = test::make_postgres_backend();
    auto s3 = test::make_s3_backend();
    if (!first || !second || !s3) return;
    auto mine = ledger_of(*first);
    auto theirs = ledger_of(*second);
    REQUIRE(mine->catalog_id() != theirs->catalog_id());
    CHECK(mine->catalog_id() == ledger_of(*first)->catalog_id());  // stable

    claim_s3_prefix(s3->options(), mine->catalog_id());
    std::string prefix = s3->options().prefix;
    if (prefix.back() != '/') prefix += '/';
    CHECK(object_text(*s3, prefix + kPrefixOwnerKey) == "catalog " + mine->catalog_id() + "\n");
    // Again: the same catalog goes on.
    CHECK_NOTHROW(claim_s3_prefix(s3->options(), mine->catalog_id()));

    std::string refused;
    try {
        claim_s3_prefix(s3->options(), theirs->catalog_id());
    } catch (const PrefixOwnedElsewhere& e) {
        refused = e.what();
    }
    INFO(refused);
    CHECK(refused.find("belongs to catalog " + mine->catalog_id()) != std::string::npos);
    CHECK(refused.find(theirs->catalog_id()) != std::string::npos);
    // Still the first one's.
    CHECK(object_text(*s3, prefix + kPrefixOwnerKey) == "catalog " + mine->catalog_id() + "\n");
}

// Catalogs that find no owner at the same moment: one gets the prefix, every
// other is refused there and then (a conditional PUT), not from its next
// run, after its first backup wrote objects the owner's gc would delete.
TEST_CASE("catalogs racing for an unowned S3 prefix: exactly one owns it", "[store][s3]") {
    auto s3 = test::make_s3_backend();
    if (!s3) return;
    constexpr int kRounds = 10, kRacers = 6;
    for (int round = 0; round < kRounds; ++round) {
        S3StoreOptions options = s3->options();
        options.prefix += "race-" + std::to_string(round) + "/";
        std::vector<std::string> owned;
        std::mutex mutex;
        std::atomic<int> ready{0};
        std::vector<std::thread> racers;
        for (int i = 0; i < kRacers; ++i)
            racers.emplace_back([&, i] {
                const std::string id = "racer-" + std::to_string(i);
                for (++ready; ready < kRacers;) std::this_thread::yield();
                try {
                    claim_s3_prefix(options, id);
                    std::lock_guard lock(mutex);
                    owned.push_back(id);
                } catch (const PrefixOwnedElsewhere&) {
                }
            });
        for (auto& t : racers) t.join();
        const std::string key = s3_key_prefix(options.prefix) + kPrefixOwnerKey;
        INFO("round " << round);
        REQUIRE(owned.size() == 1);
        CHECK(object_text(*s3, key) == "catalog " + owned.front() + "\n");
        s3->client().delete_object(options.bucket, key);
    }
}
