// An S3 prefix belongs to one catalog (s3_prefix_owner.hpp): gc deletes what
// no row of its own catalog names, so a second catalog on the same prefix is
// refused before it writes or collects anything.
#include <catch2/catch.hpp>
#include <imapkeep/store/postgres_blob_ledger.hpp>
#include <imapkeep/store/s3_prefix_owner.hpp>

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
