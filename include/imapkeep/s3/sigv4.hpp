// AWS Signature Version 4 (the "AWS4-HMAC-SHA256" Authorization header) on
// OpenSSL's SHA-256 and HMAC. Follows AWS's "Create a signed AWS API request"
// (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
//
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//                      CanonicalHeaders \n SignedHeaders \n HashedPayload
//   StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n hex(SHA256(CanonicalRequest))
//   Scope            = YYYYMMDD "/" region "/" service "/aws4_request"
//   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, YYYYMMDD), region), service),
//                           "aws4_request")
//   Signature        = hex(HMAC(SigningKey, StringToSign))
//
// Contract:
// - A SignRequest holds raw (not percent-encoded) path and query parts; the
//   signer encodes them once, the way S3 wants (path "/" kept, unreserved
//   A-Z a-z 0-9 - . _ ~ kept, every other byte %XX upper-case). Send the
//   request with exactly canonical_uri() and canonical_query() so that what is
//   signed is what is sent. Paths are not normalised ("." and ".." stay), as S3
//   requires.
// - Header names are compared case-insensitively; values are trimmed and inner
//   runs of spaces collapse to one; repeated names join with ",". Every header
//   given is signed; "host" must be among them (std::invalid_argument).
// - The secret key is only ever an HMAC key: no function here returns, logs or
//   puts it in an exception. Credentials has no stream operator on purpose.
// - Pure functions and a Signer whose sign() is safe to call from several
//   threads (it caches the day's signing key under a mutex).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imapkeep::s3 {

struct Credentials {
    std::string access_key;
    std::string secret_key;
};

struct SigningScope {
    std::string region = "us-east-1";
    std::string service = "s3";
};

using NameValues = std::vector<std::pair<std::string, std::string>>;

struct SignRequest {
    std::string method;          // "GET", "PUT", ...
    std::string path = "/";      // raw, e.g. "/bucket/a key"; must start with "/"
    NameValues query;            // raw names and values, any order
    NameValues headers;          // all signed; must include "host"
    std::string payload_sha256;  // lower-case hex of the body (x-amz-content-sha256)
};

struct SignedParts {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;      // lower-case hex
    std::string authorization;  // the Authorization header's value
};

// 32 bytes: the derived key, and HMAC-SHA256 output.
using Digest = std::array<unsigned char, 32>;

// The AWS URI encoding (RFC 3986 unreserved set kept). `keep_slash` for paths.
std::string uri_encode(std::string_view raw, bool keep_slash);
std::string canonical_uri(std::string_view raw_path);
// Names and values encoded, then sorted by name and, for equal names, by value.
std::string canonical_query(const NameValues& raw_query);
// "name:value\n" lines (lower-case names, sorted) and the ";"-joined names.
std::pair<std::string, std::string> canonical_headers(const NameValues& headers);
std::string canonical_request(const SignRequest& request);

std::string credential_scope(std::string_view date, const SigningScope& scope);
std::string string_to_sign(std::string_view amz_date, const SigningScope& scope,
                           std::string_view canonical_request);
Digest signing_key(std::string_view secret_key, std::string_view date, const SigningScope& scope);
std::string hex(const Digest& digest);
Digest hmac_sha256(const unsigned char* key, std::size_t key_size, std::string_view data);

// "YYYYMMDDTHHMMSSZ" in UTC, the x-amz-date header.
std::string amz_date(std::chrono::system_clock::time_point when);

// Every step at once, for one request signed at `amz_date` ("20150830T123600Z").
SignedParts sign(const SignRequest& request, const Credentials& credentials,
                 const SigningScope& scope, std::string_view amz_date);

// Signs many requests with one key: derives the signing key once per UTC day.
class Signer {
  public:
    Signer(Credentials credentials, SigningScope scope);
    SignedParts sign(const SignRequest& request, std::string_view amz_date) const;
    const std::string& access_key() const { return m_credentials.access_key; }
    const SigningScope& scope() const { return m_scope; }

  private:
    Digest key_for(std::string_view date) const;

    Credentials m_credentials;
    SigningScope m_scope;
    mutable std::mutex m_mutex;
    mutable std::string m_key_date;  // the YYYYMMDD of m_key
    mutable Digest m_key{};
};

}  // namespace imapkeep::s3
