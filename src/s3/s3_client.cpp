#include <algorithm>
#include <charconv>
#include <imapkeep/s3/s3_client.hpp>
#include <stdexcept>
#include <vector>

#include "s3/client_impl.hpp"
#include "s3/xml.hpp"

namespace imapkeep::s3 {

namespace {

// SHA-256 of nothing: the payload hash of every request without a body.
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool is_bucket_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// S3's bucket naming rules, in the form every S3 implementation accepts:
// 3 to 63 of [a-z0-9.-], starting and ending with a letter or digit.
void check_bucket(const std::string& bucket) {
    const bool chars_ok = std::all_of(bucket.begin(), bucket.end(), [](char c) {
        return is_bucket_char(c) || c == '.' || c == '-';
    });
    if (bucket.size() < 3 || bucket.size() > 63 || !chars_ok || !is_bucket_char(bucket.front()) ||
        !is_bucket_char(bucket.back()))
        throw std::invalid_argument("S3: \"" + bucket + "\" is not a valid bucket name");
}

void check_key(const std::string& key) {
    if (key.empty() || key.size() > 1024)
        throw std::invalid_argument("S3: an object key must have 1 to 1024 bytes");
}

std::string path_of(const std::string& bucket, const std::string& key) {
    return "/" + bucket + (key.empty() ? "" : "/" + key);
}

std::uint64_t to_u64(const std::string& text, const std::string& what) {
    try {
        std::size_t used = 0;
        const auto value = std::stoull(text, &used);
        if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    throw S3Error(what + ": the server sent a bad number \"" + text + "\"", "BadReply", 0, false);
}

std::string header(const detail::HttpReply& reply, const std::string& name) {
    auto it = reply.headers.find(name);
    return it == reply.headers.end() ? "" : it->second;
}

// Hides a credential that a server might echo in an error message.
std::string scrub(std::string text, const Credentials& credentials) {
    for (const std::string* secret : {&credentials.secret_key, &credentials.access_key}) {
        if (secret->empty()) continue;
        for (auto at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at))
            text.replace(at, secret->size(), "<redacted>");
    }
    return text;
}

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// days_from_civil): no timegm, no dependence on the process's TZ.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "2026-12-01T02:45:04.000Z" (ListObjectsV2's LastModified) as seconds since
// 1970; 0 for anything else.
std::int64_t iso8601_seconds(std::string_view text) {
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text.back() != 'Z')
        return 0;
    auto number = [&](std::size_t at, std::size_t len, int& out) {
        auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
        return ec == std::errc() && end == text.data() + at + len;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!number(0, 4, y) || !number(5, 2, mo) || !number(8, 2, d) || !number(11, 2, h) ||
        !number(14, 2, mi) || !number(17, 2, s) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
           h * 3600 + mi * 60 + s;
}

ListedObject listed_object(std::string_view contents, const std::string& what) {
    ListedObject object;
    object.key = xml::text(contents, "Key").value_or("");
    object.size = to_u64(xml::text(contents, "Size").value_or(""), what);
    object.etag = unquote(xml::text(contents, "ETag").value_or(""));
    object.last_modified = iso8601_seconds(xml::text(contents, "LastModified").value_or(""));
    return object;
}

}  // namespace

Endpoint parse_endpoint(const std::string& endpoint) {
    const auto scheme_end = endpoint.find("://");
    const std::string scheme = endpoint.substr(0, scheme_end);
    if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https"))
        throw std::invalid_argument("S3: the endpoint must start with https:// or http://");
    const auto authority_start = scheme_end + 3;
    const auto slash = endpoint.find('/', authority_start);
    const std::string authority = endpoint.substr(authority_start, slash - authority_start);
    const std::string rest = slash == std::string::npos ? "" : endpoint.substr(slash);
    if (authority.empty() || authority.find_first_of("@?# ") != std::string::npos ||
        (!rest.empty() && rest != "/"))
        throw std::invalid_argument(
            "S3: the endpoint must be scheme://host[:port] (path-style: no path, no user)");
    return {scheme + "://" + authority, authority};
}

std::string describe(const S3Request& request) {
    return "S3 " + request.method + " " + request.bucket +
           (request.key.empty() ? "" : "/" + request.key);
}

std::string unquote(const std::string& etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        return etag.substr(1, etag.size() - 2);
    return etag;
}

std::string hash_range(ByteSource& source, std::uint64_t offset, std::uint64_t size,
                       util::Sha256* also) {
    util::Sha256 hash;
    std::vector<char> piece(detail::kPiece);
    source.seek(offset);
    for (std::uint64_t left = size; left > 0;) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()));
        const std::size_t got = source.read(piece.data(), want);
        if (got == 0) throw std::runtime_error("S3: the upload source is shorter than its size");
        hash.update({piece.data(), got});
        if (also) also->update({piece.data(), got});
        left -= got;
    }
    return hash.hex_digest();
}

S3Client::Impl::Impl(S3Config c)
    : config(std::move(c)),
      endpoint(parse_endpoint(config.endpoint)),
      signer(config.credentials, SigningScope{config.region, "s3"}),
      http(detail::HttpOptions{config.ca_file, config.connect_timeout, config.stall_timeout}) {
    if (config.credentials.access_key.empty() || config.credentials.secret_key.empty())
        throw std::invalid_argument("S3: the access key and the secret key must be set");
    if (config.region.empty()) throw std::invalid_argument("S3: the region must be set");
    if (config.part_size < kMinPartSize)
        throw std::invalid_argument("S3: part_size must be at least 5 MiB");
}

detail::HttpReply S3Client::Impl::send(const S3Request& request) {
    const std::string date = amz_date(std::chrono::system_clock::now());
    SignRequest to_sign;
    to_sign.method = request.method;
    to_sign.path = path_of(request.bucket, request.key);
    to_sign.query = request.query;
    to_sign.payload_sha256 = request.body_sha256.empty() ? kEmptySha256 : request.body_sha256;
    to_sign.headers = request.headers;
    to_sign.headers.emplace_back("Host", endpoint.host);
    to_sign.headers.emplace_back("x-amz-date", date);
    to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_sha256);
    const SignedParts parts = signer.sign(to_sign, date);

    detail::HttpRequest http_request;
    http_request.method = request.method;
    const std::string query = canonical_query(request.query);
    http_request.url =
        endpoint.base + canonical_uri(to_sign.path) + (query.empty() ? "" : "?" + query);
    for (const auto& [name, value] : to_sign.headers)
        http_request.headers.push_back(name + ": " + value);
    http_request.headers.push_back("Authorization: " + parts.authorization);
    http_request.body = request.body;
    http_request.sink = request.sink;
    http_request.what = describe(request);
    ++requests;
    return http.perform(http_request);
}

detail::HttpReply S3Client::Impl::send_ok(const S3Request& request) {
    detail::HttpReply reply = send(request);
    if (reply.status < 200 || reply.status >= 300) fail(request, reply);
    return reply;
}

void S3Client::Impl::fail(const S3Request& request, const detail::HttpReply& reply) const {
    const std::string code = xml::text(reply.body, "Code").value_or(code_for_status(reply.status));
    const std::string message = xml::text(reply.body, "Message").value_or("");
    std::string what = describe(request) + ": " + code + " (HTTP " + std::to_string(reply.status) +
                       ")" + (message.empty() ? "" : ": " + message);
    throw S3Error(scrub(what, config.credentials), code, reply.status,
                  is_transient_reply(reply.status, code));
}

ObjectInfo S3Client::Impl::put_single(const std::string& bucket, const std::string& key,
                                      ByteSource& body, const std::string& sha256) {
    S3Request request{"PUT", bucket, key};
    request.body = {&body, 0, body.size()};
    request.body_sha256 = sha256;
    const auto reply = send_ok(request);
    return {body.size(), unquote(header(reply, "etag"))};
}

S3Client::S3Client(S3Config config) : m_impl(std::make_unique<Impl>(std::move(config))) {}

S3Client::~S3Client() = default;
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;

std::uint64_t S3Client::requests() const { return m_impl->requests; }

void S3Client::create_bucket(const std::string& bucket) {
    check_bucket(bucket);
    S3Request request{"PUT", bucket, ""};
    // us-east-1 is the one region named by the absence of a LocationConstraint.
    std::string body;
    if (m_impl->config.region != "us-east-1") {
        body = "<CreateBucketConfiguration><LocationConstraint>" +
               xml::escape(m_impl->config.region) +
               "</LocationConstraint></CreateBucketConfiguration>";
    }
    MemorySource source(body);
    if (!body.empty()) {
        request.body = {&source, 0, body.size()};
        request.body_sha256 = util::sha256_hex(body);
    }
    const auto reply = m_impl->send(request);
    if (reply.status >= 200 && reply.status < 300) return;
    if (xml::text(reply.body, "Code") == "BucketAlreadyOwnedByYou") return;
    m_impl->fail(request, reply);
}

ObjectInfo S3Client::put_object(const std::string& bucket, const std::string& key, ByteSource& body,
                                const std::optional<std::string>& sha256) {
    check_bucket(bucket);
    check_key(key);
    const std::uint64_t size = body.size();
    if (size > 0 && size >= m_impl->config.multipart_threshold)
        return m_impl->put_multipart(bucket, key, body, sha256);
    const std::string hash = sha256 ? *sha256 : hash_range(body, 0, size);
    return m_impl->put_single(bucket, key, body, hash);
}

bool S3Client::put_object_if_absent(const std::string& bucket, const std::string& key,
                                    ByteSource& body) {
    check_bucket(bucket);
    check_key(key);
    if (body.size() > 0 && body.size() >= m_impl->config.multipart_threshold)
        throw std::invalid_argument("S3: a conditional PUT takes one request, below multipart_threshold");
    S3Request request{"PUT", bucket, key};
    request.headers.emplace_back("If-None-Match", "*");
    request.body = {&body, 0, body.size()};
    request.body_sha256 = hash_range(body, 0, body.size());
    const auto reply = m_impl->send(request);
    if (reply.status >= 200 && reply.status < 300) return true;
    if (reply.status == 412 || reply.status == 409) return false;
    m_impl->fail(request, reply);
}

ObjectInfo S3Client::get_object(const std::string& bucket, const std::string& key,
                                const ByteSink& sink) {
    check_bucket(bucket);
    check_key(key);
    S3Request request{"GET", bucket, key};
    request.sink = &sink;
    const auto reply = m_impl->send_ok(request);
    return {reply.sunk, unquote(header(reply, "etag"))};
}

std::optional<ObjectInfo> S3Client::head_object(const std::string& bucket, const std::string& key) {
    check_bucket(bucket);
    check_key(key);
    S3Request request{"HEAD", bucket, key};
    const auto reply = m_impl->send(request);
    if (reply.status == 404) return std::nullopt;
    if (reply.status < 200 || reply.status >= 300) m_impl->fail(request, reply);
    return ObjectInfo{to_u64(header(reply, "content-length"), describe(request)),
                      unquote(header(reply, "etag"))};
}

void S3Client::delete_object(const std::string& bucket, const std::string& key) {
    check_bucket(bucket);
    check_key(key);
    m_impl->send_ok(S3Request{"DELETE", bucket, key});
}

ListPage S3Client::list_page(const std::string& bucket, const std::string& prefix,
                             const std::string& continuation_token, int max_keys) {
    check_bucket(bucket);
    S3Request request{"GET", bucket, ""};
    request.query = {
        {"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}};
    if (!continuation_token.empty())
        request.query.emplace_back("continuation-token", continuation_token);
    const auto reply = m_impl->send_ok(request);
    ListPage page;
    for (auto contents : xml::elements(reply.body, "Contents"))
        page.objects.push_back(listed_object(contents, describe(request)));
    if (xml::text(reply.body, "IsTruncated") == "true") {
        page.next_token = xml::text(reply.body, "NextContinuationToken").value_or("");
        // A truncated page without a token would make the caller loop forever.
        if (page.next_token.empty())
            throw S3Error(describe(request) + ": a truncated list without NextContinuationToken",
                          "BadReply", reply.status, false);
    }
    return page;
}

void S3Client::for_each_object(const std::string& bucket, const std::string& prefix,
                               const std::function<void(const ListedObject&)>& each,
                               int page_size) {
    std::string token;
    do {
        ListPage page = list_page(bucket, prefix, token, page_size);
        for (const auto& object : page.objects) each(object);
        token = std::move(page.next_token);
    } while (!token.empty());
}

std::vector<PendingUpload> S3Client::list_uploads(const std::string& bucket,
                                                  const std::string& prefix) {
    check_bucket(bucket);
    std::vector<PendingUpload> uploads;
    std::string key_marker, id_marker;
    while (true) {
        S3Request request{"GET", bucket, ""};
        request.query = {{"uploads", ""}, {"prefix", prefix}};
        if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
        if (!id_marker.empty()) request.query.emplace_back("upload-id-marker", id_marker);
        const auto reply = m_impl->send_ok(request);
        for (auto upload : xml::elements(reply.body, "Upload"))
            uploads.push_back({xml::text(upload, "Key").value_or(""),
                               xml::text(upload, "UploadId").value_or("")});
        if (xml::text(reply.body, "IsTruncated") != "true") return uploads;
        key_marker = xml::text(reply.body, "NextKeyMarker").value_or("");
        id_marker = xml::text(reply.body, "NextUploadIdMarker").value_or("");
        if (key_marker.empty())
            throw S3Error(describe(request) + ": a truncated list without NextKeyMarker",
                          "BadReply", reply.status, false);
    }
}

void S3Client::abort_upload(const std::string& bucket, const std::string& key,
                            const std::string& upload_id) {
    check_bucket(bucket);
    check_key(key);
    S3Request request{"DELETE", bucket, key};
    request.query = {{"uploadId", upload_id}};
    m_impl->send_ok(request);
}

}  // namespace imapkeep::s3
