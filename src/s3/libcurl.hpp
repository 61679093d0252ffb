// libcurl, loaded on first use (util/on_demand_library.hpp): the S3 client and
// the OAuth2 token requests (src/cli/http_post.cpp) call it through this
// table, so a run that needs neither never loads it. The members are the
// functions of <curl/curl.h> under their own names (in C++, curl.h's
// curl_easy_setopt macro only checks the argument count).
//
// Throws util::LibraryMissing (libcurl4 not installed) from libcurl().
#pragma once

#include <curl/curl.h>

namespace imapkeep::s3 {

struct LibCurl {
    decltype(&::curl_global_init) curl_global_init;
    decltype(&::curl_easy_init) curl_easy_init;
    decltype(&::curl_easy_reset) curl_easy_reset;
    decltype(&::curl_easy_cleanup) curl_easy_cleanup;
    decltype(&::curl_easy_setopt) curl_easy_setopt;
    decltype(&::curl_easy_perform) curl_easy_perform;
    decltype(&::curl_easy_getinfo) curl_easy_getinfo;
    decltype(&::curl_easy_strerror) curl_easy_strerror;
    decltype(&::curl_easy_escape) curl_easy_escape;
    decltype(&::curl_free) curl_free;
    decltype(&::curl_slist_append) curl_slist_append;
    decltype(&::curl_slist_free_all) curl_slist_free_all;
};

// Loads libcurl.so.4 and runs curl_global_init once, thread-safely.
const LibCurl& libcurl();

}  // namespace imapkeep::s3
