#include "cli/http_post.hpp"

#include <imapkeep/util/on_demand_library.hpp>
#include <memory>

#include "s3/libcurl.hpp"

namespace imapkeep::cli {

namespace {

using s3::LibCurl;
using s3::libcurl;

struct CurlDeleter {
    void operator()(CURL* c) const { libcurl().curl_easy_cleanup(c); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;

struct Body {
    std::string text;
    bool too_long = false;
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
    auto* body = static_cast<Body*>(user);
    const size_t n = size * count;
    if (body->text.size() + n > kMaxBody) {
        body->too_long = true;
        return 0;  // makes curl fail the transfer
    }
    body->text.append(data, n);
    return n;
}

// RFC 6749 appendix B: application/x-www-form-urlencoded, UTF-8.
std::string encode_form(CURL* curl, const FormFields& fields) {
    std::string form;
    for (const auto& [name, value] : fields) {
        if (!form.empty()) form += '&';
        for (const std::string* part : {&name, &value}) {
            char* escaped =
                libcurl().curl_easy_escape(curl, part->data(), static_cast<int>(part->size()));
            if (!escaped) throw HttpError("out of memory encoding a form");
            form += escaped;
            libcurl().curl_free(escaped);
            if (part == &name) form += '=';
        }
    }
    return form;
}

// libcurl, or an HttpError that says which package is missing.
const LibCurl& loaded_libcurl(const std::string& url) {
    try {
        return libcurl();
    } catch (const util::LibraryMissing& e) {
        throw HttpError(url + ": " + e.what());
    }
}

}  // namespace

HttpResponse post_form(const std::string& url, const FormFields& fields,
                       const HttpOptions& options) {
    // A token travels in the request and in the answer.
    if (url.rfind("https://", 0) != 0) throw HttpError(url + ": not an https:// URL");
    const LibCurl& api = loaded_libcurl(url);
    Curl curl(api.curl_easy_init());
    if (!curl) throw HttpError(url + ": cannot start libcurl");
    CURL* c = curl.get();
    const std::string form = encode_form(c, fields);
    Body body;
    char error[CURL_ERROR_SIZE] = {};
    api.curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    api.curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
    api.curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
    api.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    api.curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    api.curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    api.curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) {
        api.curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
        api.curl_easy_setopt(c, CURLOPT_CAPATH, static_cast<char*>(nullptr));
    }
    api.curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(options.timeout.count()));
    api.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    api.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
    api.curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    api.curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    api.curl_easy_setopt(c, CURLOPT_USERAGENT, "imapkeep");
    const CURLcode rc = api.curl_easy_perform(c);
    if (body.too_long) throw HttpError(url + ": the response is longer than 1 MiB");
    if (rc != CURLE_OK)
        throw HttpError(url + ": " + (*error ? std::string(error) : api.curl_easy_strerror(rc)));
    HttpResponse response;
    api.curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    response.body = std::move(body.text);
    return response;
}

HttpPost https_poster(HttpOptions options) {
    return [options](const std::string& url, const FormFields& fields) {
        return post_form(url, fields, options);
    };
}

HttpPost https_poster(const std::string& ca_file) {
    HttpOptions options;
    options.ca_file = ca_file;
    return https_poster(options);
}

}  // namespace imapkeep::cli
