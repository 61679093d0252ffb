#include "cli/catalog_place.hpp"

#include <filesystem>
#include <imapkeep/store/postgres_blob_ledger.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include "cli/store_session.hpp"

namespace imapkeep::cli {

bool catalog_in_postgres(const Config& config) { return !config.catalog_postgres.empty(); }

std::string sqlite_catalog_path(const Config& config) {
    return config.store_path + "/catalog.sqlite";
}

namespace {

store::PostgresCatalogOptions postgres_options(const Config& config) {
    store::PostgresCatalogOptions options;
    options.conninfo = config.catalog_postgres;
    options.schema = config.catalog_schema;
    return options;
}

}  // namespace

std::string catalog_name(const Config& config) {
    if (!catalog_in_postgres(config)) return sqlite_catalog_path(config);
    return store::describe_postgres_catalog(postgres_options(config));
}

bool catalog_exists(const Config& config) {
    return catalog_in_postgres(config) || std::filesystem::exists(sqlite_catalog_path(config));
}

std::unique_ptr<store::Catalog> open_catalog(const Config& config) {
    if (!catalog_in_postgres(config)) {
        const std::string path = sqlite_catalog_path(config);
        check_catalog_file(path);
        return store::open_sqlite_catalog(path);
    }
    return store::open_postgres_catalog(postgres_options(config));
}

CatalogOpener catalog_opener(const Config& config) {
    return [config] { return open_catalog(config); };
}

std::shared_ptr<store::BlobLedger> open_blob_ledger(const Config& config) {
    if (!catalog_in_postgres(config))
        throw ConfigError(config.file + ": gc marks need a PostgreSQL catalog ([store] catalog)");
    return store::open_postgres_blob_ledger(postgres_options(config));
}

std::unique_ptr<store::Catalog> open_catalog_snapshot(const Config& config) {
    if (!catalog_in_postgres(config)) {
        const std::string path = sqlite_catalog_path(config);
        check_catalog_file(path);
        return store::open_sqlite_catalog_snapshot(path);
    }
    auto options = postgres_options(config);
    options.snapshot = true;
    return store::open_postgres_catalog(options);
}

}  // namespace imapkeep::cli
