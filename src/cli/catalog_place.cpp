#include "cli/catalog_place.hpp"

#include <libpq-fe.h>

#include <filesystem>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include "cli/store_session.hpp"

namespace imapkeep::cli {

bool catalog_in_postgres(const Config& config) { return !config.catalog_postgres.empty(); }

std::string sqlite_catalog_path(const Config& config) {
    return config.store_path + "/catalog.sqlite";
}

namespace {

// host and dbname of a connection string, read by libpq itself (URI or
// key=value); a password in it is never looked at.
std::string postgres_place(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (!options) {
        if (error) PQfreemem(error);
        return "PostgreSQL (unreadable connection string)";
    }
    std::string host = "localhost", db;
    for (auto* o = options; o->keyword; ++o) {
        if (!o->val) continue;
        if (std::string(o->keyword) == "host") host = o->val;
        if (std::string(o->keyword) == "dbname") db = o->val;
    }
    PQconninfoFree(options);
    return "PostgreSQL " + host + (db.empty() ? "" : "/" + db);
}

}  // namespace

std::string catalog_name(const Config& config) {
    if (!catalog_in_postgres(config)) return sqlite_catalog_path(config);
    return postgres_place(config.catalog_postgres) + ", schema " + config.catalog_schema;
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
    store::PostgresCatalogOptions options;
    options.conninfo = config.catalog_postgres;
    options.schema = config.catalog_schema;
    return store::open_postgres_catalog(options);
}

CatalogOpener catalog_opener(const Config& config) {
    return [config] { return open_catalog(config); };
}

}  // namespace imapkeep::cli
