#include "store/postgres/libpq.hpp"

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/util/on_demand_library.hpp>
#include <string>

namespace imapkeep::store {
namespace {

LibPq load() {
    static const util::OnDemandLibrary library({"libpq.so.5"}, "libpq5", "a PostgreSQL catalog");
    LibPq api{};
#define IMAPKEEP_BIND(name) api.name = library.function<decltype(&::name)>(#name)
    IMAPKEEP_BIND(PQclear);
    IMAPKEEP_BIND(PQcmdStatus);
    IMAPKEEP_BIND(PQcmdTuples);
    IMAPKEEP_BIND(PQconnectdb);
    IMAPKEEP_BIND(PQconninfoFree);
    IMAPKEEP_BIND(PQconninfoParse);
    IMAPKEEP_BIND(PQerrorMessage);
    IMAPKEEP_BIND(PQescapeIdentifier);
    IMAPKEEP_BIND(PQexec);
    IMAPKEEP_BIND(PQexecPrepared);
    IMAPKEEP_BIND(PQfformat);
    IMAPKEEP_BIND(PQfinish);
    IMAPKEEP_BIND(PQfreemem);
    IMAPKEEP_BIND(PQftype);
    IMAPKEEP_BIND(PQgetResult);
    IMAPKEEP_BIND(PQgetisnull);
    IMAPKEEP_BIND(PQgetlength);
    IMAPKEEP_BIND(PQgetvalue);
    IMAPKEEP_BIND(PQntuples);
    IMAPKEEP_BIND(PQprepare);
    IMAPKEEP_BIND(PQreset);
    IMAPKEEP_BIND(PQresultErrorField);
    IMAPKEEP_BIND(PQresultErrorMessage);
    IMAPKEEP_BIND(PQresultStatus);
    IMAPKEEP_BIND(PQsendQueryPrepared);
    IMAPKEEP_BIND(PQsetNoticeProcessor);
    IMAPKEEP_BIND(PQsetSingleRowMode);
    IMAPKEEP_BIND(PQstatus);
#undef IMAPKEEP_BIND
    return api;
}

}  // namespace

const LibPq& libpq() {
    try {
        static const LibPq api = load();
        return api;
    } catch (const util::LibraryMissing& e) {
        throw StoreError(std::string("catalog: ") + e.what());
    }
}

}  // namespace imapkeep::store
