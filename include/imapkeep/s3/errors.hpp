// The one exception of the S3 client: what S3 answered (its error code, e.g.
// "NoSuchKey", "SignatureDoesNotMatch", "XAmzContentSHA256Mismatch"), or that
// no answer came ("NetworkError"), and whether trying again may help.
//
// Contract:
// - code() is S3's <Code> from the error body. A reply without one (HEAD has no
//   body) gets a name from its status: "NotFound" (404), "Forbidden" (403),
//   "BadRequest" (400), "HTTP <n>" otherwise. A request that got no complete
//   reply (refused, reset, cut mid-transfer, timed out, TLS failure) has code
//   "NetworkError" and http_status() 0.
// - transient(): 5xx, 429, S3's RequestTimeout / SlowDown / InternalError /
//   ServiceUnavailable, and network failures other than a certificate or
//   protocol refusal. A transient error means nothing was stored under the key
//   by this request (S3 PUTs are atomic); retrying the whole call is safe.
// - what() names the operation, bucket and key, never a credential: neither
//   the secret nor the access key, nor the Authorization header.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace imapkeep::s3 {

inline constexpr const char* kNetworkError = "NetworkError";

class S3Error : public std::runtime_error {
  public:
    S3Error(const std::string& what, std::string code, long http_status, bool transient)
        : std::runtime_error(what),
          m_code(std::move(code)),
          m_http_status(http_status),
          m_transient(transient) {}
    const std::string& code() const { return m_code; }
    long http_status() const { return m_http_status; }
    bool transient() const { return m_transient; }

  private:
    std::string m_code;
    long m_http_status = 0;
    bool m_transient = false;
};

// The code of a reply that had no <Code>: "NotFound", "Forbidden", ...
std::string code_for_status(long http_status);
// Whether an S3 reply (status, code) may succeed if tried again.
bool is_transient_reply(long http_status, const std::string& code);

}  // namespace imapkeep::s3
