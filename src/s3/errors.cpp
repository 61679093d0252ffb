#include <array>
#include <imapkeep/s3/errors.hpp>
#include <string_view>

namespace imapkeep::s3 {

std::string code_for_status(long http_status) {
    switch (http_status) {
        case 400:
            return "BadRequest";
        case 403:
            return "Forbidden";
        case 404:
            return "NotFound";
        case 409:
            return "Conflict";
        default:
            return "HTTP " + std::to_string(http_status);
    }
}

bool is_transient_reply(long http_status, const std::string& code) {
    // Codes AWS documents as "retry": a slow or overloaded server, not a bad request.
    static constexpr std::array<std::string_view, 6> kRetryable = {
        "RequestTimeout",     "SlowDown",   "InternalError",
        "ServiceUnavailable", "Throttling", "RequestTimeoutException"};
    if (http_status >= 500 || http_status == 429) return true;
    for (auto retryable : kRetryable)
        if (code == retryable) return true;
    return false;
}

}  // namespace imapkeep::s3
