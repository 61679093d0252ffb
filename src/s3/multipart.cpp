// Multipart upload (S3 API: CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload). Each part is hashed, then
// sent with its own x-amz-content-sha256, so the server checks every byte and
// the client holds one 64 KiB piece at a time.
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "s3/client_impl.hpp"
#include "s3/xml.hpp"

namespace imapkeep::s3 {

namespace {

// S3 allows 10,000 parts: a larger object gets larger parts.
std::uint64_t part_size_for(std::uint64_t size, std::uint64_t configured) {
    const std::uint64_t needed = (size + kMaxParts - 1) / kMaxParts;
    return std::max(configured, needed);
}

std::string complete_document(const std::vector<std::string>& etags) {
    std::string doc = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < etags.size(); ++i) {
        doc += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
               xml::escape(etags[i]) + "</ETag></Part>";
    }
    return doc + "</CompleteMultipartUpload>";
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// S3's ETag of a multipart object: hex(MD5(MD5(part 1) ... MD5(part N))) "-N",
// from the parts' ETags (each the hex MD5 of its part). "" if one is not.
std::string multipart_etag(const std::vector<std::string>& part_etags) {
    std::string digests;
    for (const auto& quoted : part_etags) {
        const std::string etag = unquote(quoted);
        if (etag.size() != 32) return "";
        for (std::size_t i = 0; i < etag.size(); i += 2) {
            const int high = hex_value(etag[i]), low = hex_value(etag[i + 1]);
            if (high < 0 || low < 0) return "";
            digests += static_cast<char>(high * 16 + low);
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(digests.data(), digests.size(), md, &size, EVP_md5(), nullptr) != 1) return "";
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0x0f];
    }
    return out + "-" + std::to_string(part_etags.size());
}

std::string initiate(S3Client::Impl& impl, const std::string& bucket, const std::string& key) {
    S3Request request{"POST", bucket, key};
    request.query = {{"uploads", ""}};
    const auto reply = impl.send_ok(request);
    auto id = xml::text(reply.body, "UploadId");
    if (!id || id->empty())
        throw S3Error(describe(request) + ": no UploadId in the reply", "BadReply", reply.status,
                      false);
    return *id;
}

// Returns the part's ETag, quotes kept: CompleteMultipartUpload wants it as sent.
std::string upload_part(S3Client::Impl& impl, const std::string& bucket, const std::string& key,
                        const std::string& upload_id, std::size_t number, ByteSource& body,
                        std::uint64_t offset, std::uint64_t size, const std::string& sha256) {
    S3Request request{"PUT", bucket, key};
    request.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
    request.body = {&body, offset, size};
    request.body_sha256 = sha256;
    const auto reply = impl.send_ok(request);
    auto etag = reply.headers.find("etag");
    if (etag == reply.headers.end() || etag->second.empty())
        throw S3Error(describe(request) + ": no ETag for part " + std::to_string(number),
                      "BadReply", reply.status, false);
    return etag->second;
}

std::string complete(S3Client::Impl& impl, const std::string& bucket, const std::string& key,
                     const std::string& upload_id, const std::vector<std::string>& etags) {
    const std::string doc = complete_document(etags);
    MemorySource source(doc);
    S3Request request{"POST", bucket, key};
    request.query = {{"uploadId", upload_id}};
    request.headers = {{"Content-Type", "application/xml"}};
    request.body = {&source, 0, doc.size()};
    request.body_sha256 = util::sha256_hex(doc);
    const auto reply = impl.send_ok(request);
    // S3 may answer 200 and still fail: the error is then the body.
    if (xml::root_name(reply.body) == "Error") impl.fail(request, reply);
    const std::string etag = unquote(xml::text(reply.body, "ETag").value_or(""));
    // Quirk(Ceph RGW 16.2): <ETag></ETag> in CompleteMultipartUploadResult,
    // and no ETag header either; S3's rule gives the value HEAD shows.
    return etag.empty() ? multipart_etag(etags) : etag;
}

// Best effort: the upload already failed, and that failure is what the caller
// must see. A part left behind is found by list_uploads().
void abort_quietly(S3Client::Impl& impl, const std::string& bucket, const std::string& key,
                   const std::string& upload_id) {
    try {
        S3Request request{"DELETE", bucket, key};
        request.query = {{"uploadId", upload_id}};
        impl.send_ok(request);
    } catch (const std::exception&) {
    }
}

}  // namespace

ObjectInfo S3Client::Impl::put_multipart(const std::string& bucket, const std::string& key,
                                         ByteSource& body,
                                         const std::optional<std::string>& sha256) {
    const std::uint64_t size = body.size();
    const std::uint64_t part = part_size_for(size, config.part_size);
    const std::string upload_id = initiate(*this, bucket, key);
    try {
        util::Sha256 whole;
        std::vector<std::string> etags;
        for (std::uint64_t offset = 0; offset < size; offset += part) {
            const std::uint64_t length = std::min(part, size - offset);
            const std::string part_sha = hash_range(body, offset, length, &whole);
            etags.push_back(upload_part(*this, bucket, key, upload_id, etags.size() + 1, body,
                                        offset, length, part_sha));
        }
        // The caller's hash of the whole object is checked here, before
        // anything becomes visible, as the server checks a single PUT's.
        if (sha256 && whole.hex_digest() != *sha256)
            throw S3Error(
                "S3 PUT " + bucket + "/" + key +
                    ": XAmzContentSHA256Mismatch: the body does not have the given SHA-256",
                "XAmzContentSHA256Mismatch", 0, false);
        return {size, complete(*this, bucket, key, upload_id, etags)};
    } catch (...) {
        abort_quietly(*this, bucket, key, upload_id);
        throw;
    }
}

}  // namespace imapkeep::s3
