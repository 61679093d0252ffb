// libpq, loaded on first use (util/on_demand_library.hpp): the PostgreSQL
// catalog calls it through this table, so the many runs with a SQLite
// catalog never load it (nor the Kerberos and LDAP libraries it pulls in).
// The members are the functions of <libpq-fe.h> under their own names.
// Internal to the store layer.
//
// Throws StoreError ("catalog: libpq.so.5 could not be loaded (install
// libpq5...)") from libpq().
#pragma once

#include <libpq-fe.h>

namespace imapkeep::store {

struct LibPq {
    decltype(&::PQclear) PQclear;
    decltype(&::PQcmdStatus) PQcmdStatus;
    decltype(&::PQcmdTuples) PQcmdTuples;
    decltype(&::PQconnectdb) PQconnectdb;
    decltype(&::PQconninfoFree) PQconninfoFree;
    decltype(&::PQconninfoParse) PQconninfoParse;
    decltype(&::PQerrorMessage) PQerrorMessage;
    decltype(&::PQescapeIdentifier) PQescapeIdentifier;
    decltype(&::PQexec) PQexec;
    decltype(&::PQexecPrepared) PQexecPrepared;
    decltype(&::PQfformat) PQfformat;
    decltype(&::PQfinish) PQfinish;
    decltype(&::PQfreemem) PQfreemem;
    decltype(&::PQftype) PQftype;
    decltype(&::PQgetResult) PQgetResult;
    decltype(&::PQgetisnull) PQgetisnull;
    decltype(&::PQgetlength) PQgetlength;
    decltype(&::PQgetvalue) PQgetvalue;
    decltype(&::PQntuples) PQntuples;
    decltype(&::PQprepare) PQprepare;
    decltype(&::PQreset) PQreset;
    decltype(&::PQresultErrorField) PQresultErrorField;
    decltype(&::PQresultErrorMessage) PQresultErrorMessage;
    decltype(&::PQresultStatus) PQresultStatus;
    decltype(&::PQsendQueryPrepared) PQsendQueryPrepared;
    decltype(&::PQsetNoticeProcessor) PQsetNoticeProcessor;
    decltype(&::PQsetSingleRowMode) PQsetSingleRowMode;
    decltype(&::PQstatus) PQstatus;
};

// Loads libpq.so.5 once, thread-safely.
const LibPq& libpq();

}  // namespace imapkeep::store
