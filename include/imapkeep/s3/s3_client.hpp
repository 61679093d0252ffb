// An S3 client on libcurl with our own SigV4 signer (sigv4.hpp), for Ceph RGW,
// AWS and other S3-compatible stores. Path-style addressing only
// (ENDPOINT/BUCKET/KEY), so a bucket name never has to be a DNS name.
//
// Contract:
// - Every request is signed with the real SHA-256 of its body in
//   x-amz-content-sha256, which the server checks (a mismatch is the S3Error
//   "XAmzContentSHA256Mismatch"). Nothing is sent UNSIGNED-PAYLOAD.
// - put_object streams from a ByteSource in 64 KiB pieces: below
//   multipart_threshold one PUT, after one hashing pass over the source unless
//   the caller gives the hash; from the threshold on a multipart upload whose
//   parts each carry their own hash (hashed, then sent, part by part). A failed
//   multipart upload is aborted, so no part lingers; nothing becomes visible
//   under the key until the last step succeeds. Memory stays flat whatever the
//   size.
// - get_object streams the body to a sink. If it throws, the sink may have had
//   a prefix of the object: the caller discards it.
// - https:// endpoints are verified (chain and host name) against the system
//   CAs, or only against ca_file when it is set; there is no switch to turn that
//   off. http:// is allowed for loopback test servers and private networks.
// - Errors: S3Error (errors.hpp) with S3's code and transient(); exceptions
//   thrown by a ByteSource or sink pass through unchanged; std::invalid_argument
//   for a bad endpoint, bucket name or empty key. No message, log or exception
//   carries the secret or access key.
// - One S3Client is used by one thread at a time (it keeps one curl handle and
//   its open connections); give each worker thread its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <imapkeep/s3/byte_source.hpp>
#include <imapkeep/s3/errors.hpp>
#include <imapkeep/s3/sigv4.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::s3 {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
// S3's smallest part, except the last one.
inline constexpr std::uint64_t kMinPartSize = 5 * kMiB;
inline constexpr int kMaxParts = 10000;

struct S3Config {
    std::string endpoint;  // "https://s3.example.org" or "http://127.0.0.1:7480"
    std::string region = "us-east-1";
    Credentials credentials;
    std::string ca_file;  // "" = the system's CAs
    std::chrono::seconds connect_timeout{10};
    // A transfer that moves no byte for this long fails (transient). curl
    // averages the speed over 5 s, so a stall after a burst takes up to 5 s more.
    std::chrono::seconds stall_timeout{60};
    std::uint64_t multipart_threshold = 64 * kMiB;  // objects of this size and more
    std::uint64_t part_size = 16 * kMiB;            // >= kMinPartSize
};

struct ObjectInfo {
    std::uint64_t size = 0;
    std::string etag;  // as the server sent it, quotes removed
};

struct ListedObject {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    // LastModified, seconds since 1970 (UTC; fractions dropped); 0 when the
    // server sent none or one that does not parse.
    std::int64_t last_modified = 0;
};

struct ListPage {
    std::vector<ListedObject> objects;
    std::string next_token;  // "" on the last page
};

struct PendingUpload {
    std::string key;
    std::string upload_id;
};

using ByteSink = std::function<void(std::string_view)>;

class S3Client {
  public:
    explicit S3Client(S3Config config);
    ~S3Client();
    S3Client(S3Client&&) noexcept;
    S3Client& operator=(S3Client&&) noexcept;
    S3Client(const S3Client&) = delete;
    S3Client& operator=(const S3Client&) = delete;

    // Creates the bucket; one that this user already owns is fine.
    void create_bucket(const std::string& bucket);

    // `sha256`: the body's lower-case hex SHA-256 when the caller already has
    // it (saves a pass); it is sent as is, so a wrong one makes the server
    // refuse the upload. Returns the stored object's size and ETag.
    ObjectInfo put_object(const std::string& bucket, const std::string& key, ByteSource& body,
                          const std::optional<std::string>& sha256 = std::nullopt);
    // One PUT with If-None-Match: * (RFC 7232 §3.2, honoured by Ceph RGW and
    // AWS S3): stores the body only when no object has the key. false when
    // one has (412), or when another conditional write to the key was in
    // flight (409 ConditionalRequestConflict). The body must be smaller than
    // multipart_threshold (std::invalid_argument otherwise). A store that
    // ignores the header overwrites, as put_object does.
    bool put_object_if_absent(const std::string& bucket, const std::string& key, ByteSource& body);
    ObjectInfo get_object(const std::string& bucket, const std::string& key, const ByteSink& sink);
    // nullopt when there is no such object (HEAD has no body: a missing
    // bucket looks the same).
    std::optional<ObjectInfo> head_object(const std::string& bucket, const std::string& key);
    // Deleting a missing key succeeds (S3 semantics).
    void delete_object(const std::string& bucket, const std::string& key);

    // One page of ListObjectsV2: keys starting with `prefix`, in key order.
    ListPage list_page(const std::string& bucket, const std::string& prefix,
                       const std::string& continuation_token = "", int max_keys = 1000);
    // Every page, one callback per object, a page in memory at a time.
    void for_each_object(const std::string& bucket, const std::string& prefix,
                         const std::function<void(const ListedObject&)>& each,
                         int page_size = 1000);

    // Multipart uploads begun and neither completed nor aborted.
    std::vector<PendingUpload> list_uploads(const std::string& bucket, const std::string& prefix);
    void abort_upload(const std::string& bucket, const std::string& key,
                      const std::string& upload_id);

    // HTTP requests sent so far (each a round trip), for tests and benchmarks.
    std::uint64_t requests() const;

    struct Impl;  // opaque: src/s3/client_impl.hpp

  private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace imapkeep::s3
