#include "s3/libcurl.hpp"

#include <imapkeep/util/on_demand_library.hpp>

namespace imapkeep::s3 {
namespace {

LibCurl load() {
    static const util::OnDemandLibrary library({"libcurl.so.4"}, "libcurl4", "OAuth2 and S3");
    LibCurl api{};
#define IMAPKEEP_BIND(name) api.name = library.function<decltype(&::name)>(#name)
    IMAPKEEP_BIND(curl_global_init);
    IMAPKEEP_BIND(curl_easy_init);
    IMAPKEEP_BIND(curl_easy_reset);
    IMAPKEEP_BIND(curl_easy_cleanup);
    IMAPKEEP_BIND(curl_easy_setopt);
    IMAPKEEP_BIND(curl_easy_perform);
    IMAPKEEP_BIND(curl_easy_getinfo);
    IMAPKEEP_BIND(curl_easy_strerror);
    IMAPKEEP_BIND(curl_easy_escape);
    IMAPKEEP_BIND(curl_free);
    IMAPKEEP_BIND(curl_slist_append);
    IMAPKEEP_BIND(curl_slist_free_all);
#undef IMAPKEEP_BIND
    // Not thread-safe in libcurl 7.88, hence under the static's own lock.
    api.curl_global_init(CURL_GLOBAL_DEFAULT);
    return api;
}

}  // namespace

const LibCurl& libcurl() {
    static const LibCurl api = load();
    return api;
}

}  // namespace imapkeep::s3
