// One HTTPS form POST (application/x-www-form-urlencoded), as OAuth2 token and
// device endpoints want them (RFC 6749 §4.1.3, RFC 8628 §3.1). libcurl.
//
// Contract:
// - The server's certificate chain and host name are always checked: against
//   the system CAs, or only against `ca_file` when it is set. There is no way
//   to turn that off. Only https:// URLs are accepted.
// - Any HTTP status is a response (the caller reads OAuth2 errors from 4xx
//   bodies); a failure to get one (DNS, TLS, timeout, refused) throws
//   HttpError naming the URL and curl's reason, never the form's values.
// - The response body is capped (kMaxBody); a longer one is an HttpError.
// - Safe to call from several threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace imapkeep::cli {

class HttpError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HttpResponse {
    long status = 0;
    std::string body;
};

struct HttpOptions {
    std::string ca_file;  // "" = the system's CAs
    std::chrono::seconds timeout{30};
};

using FormFields = std::vector<std::pair<std::string, std::string>>;

// How OAuth2 code posts; tests substitute a fake.
using HttpPost = std::function<HttpResponse(const std::string& url, const FormFields& fields)>;

inline constexpr std::size_t kMaxBody = 1 << 20;

HttpResponse post_form(const std::string& url, const FormFields& fields, const HttpOptions& options);

// post_form bound to `options`.
HttpPost https_poster(HttpOptions options);
// post_form with the system CAs, or only those of `ca_file` when it is not "".
HttpPost https_poster(const std::string& ca_file);

}  // namespace imapkeep::cli
