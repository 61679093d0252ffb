// What S3Client's operations share: the endpoint, the signer, the HTTP
// session, and one way to sign and send a request (S3Client::Impl::send).
#pragma once

#include <cstdint>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/util/sha256.hpp>
#include <string>
#include <utility>

#include "s3/http_session.hpp"

namespace imapkeep::s3 {

// "https://host[:port]" split into what a URL and the Host header need.
struct Endpoint {
    std::string base;  // scheme://authority, no trailing "/"
    std::string host;  // the Host header: authority as written
};
Endpoint parse_endpoint(const std::string& endpoint);

// One S3 request before signing. `key` "" addresses the bucket itself.
struct S3Request {
    S3Request(std::string m, std::string b, std::string k)
        : method(std::move(m)), bucket(std::move(b)), key(std::move(k)) {}
    std::string method;
    std::string bucket;
    std::string key;
    NameValues query;
    NameValues headers;  // extra headers, signed too (content-type)
    detail::HttpBody body;
    std::string body_sha256;  // "" = the hash of an empty body
    const ByteSink* sink = nullptr;
};

struct S3Client::Impl {
    S3Config config;
    Endpoint endpoint;
    Signer signer;
    detail::HttpSession http;
    std::uint64_t requests = 0;

    explicit Impl(S3Config c);

    // Signs and sends; any status comes back.
    detail::HttpReply send(const S3Request& request);
    // send(), and an S3Error for anything but 2xx.
    detail::HttpReply send_ok(const S3Request& request);
    [[noreturn]] void fail(const S3Request& request, const detail::HttpReply& reply) const;

    ObjectInfo put_single(const std::string& bucket, const std::string& key, ByteSource& body,
                          const std::string& sha256);
    ObjectInfo put_multipart(const std::string& bucket, const std::string& key, ByteSource& body,
                             const std::optional<std::string>& sha256);
};

// "PUT bucket/key": how messages name a request.
std::string describe(const S3Request& request);
// The SHA-256 of `size` bytes of `source` from `offset`, read in kPiece
// pieces; `also` (when given) is fed the same bytes.
std::string hash_range(ByteSource& source, std::uint64_t offset, std::uint64_t size,
                       util::Sha256* also = nullptr);
std::string unquote(const std::string& etag);

}  // namespace imapkeep::s3
