// One curl easy handle that sends the S3 client's requests and keeps their
// connections open between them. Knows nothing of S3 or signing: it sends the
// method, URL, headers and body it is given, and hands back the reply.
//
// Contract:
// - A body is `size` bytes of a ByteSource from `offset`, read in pieces of at
//   most kPiece bytes; curl may rewind it (a retry on a fresh connection).
// - A 2xx reply's body goes to `sink` when one is given; any other body (an
//   error, or a 2xx without a sink) is kept in HttpReply::body, up to
//   kMaxKeptBody bytes (longer: S3Error "ReplyTooLong", not transient).
// - No reply at all throws S3Error with code kNetworkError, transient unless
//   the failure is one a retry cannot cure (certificate, protocol, bad URL).
//   curl's reason is in the message; headers are never (they hold the
//   Authorization).
// - An exception thrown by the source or the sink aborts the transfer and is
//   rethrown as is.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <imapkeep/s3/byte_source.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::s3::detail {

inline constexpr std::size_t kPiece = 64 * 1024;
inline constexpr std::size_t kMaxKeptBody = 8 * 1024 * 1024;

struct HttpOptions {
    std::string ca_file;
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds stall_timeout{60};
};

struct HttpBody {
    ByteSource* source = nullptr;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
};

struct HttpRequest {
    std::string method;  // GET, HEAD, PUT, POST, DELETE
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    HttpBody body;                     // source == nullptr: no body
    const std::function<void(std::string_view)>* sink = nullptr;
    std::string what;  // "PUT bucket/key", for messages
};

struct HttpReply {
    long status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::uint64_t sunk = 0;  // bytes handed to the sink
};

class HttpSession {
  public:
    explicit HttpSession(HttpOptions options);
    ~HttpSession();
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;
    HttpReply perform(const HttpRequest& request);

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Whether a curl failure (CURLcode) may go away on a retry.
bool is_transient_curl_code(int code);

}  // namespace imapkeep::s3::detail
