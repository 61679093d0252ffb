// The S3 client against a real Ceph RGW (scripts/test-env/ceph.sh). Under the
// test command a missing RGW fails these tests (tests/test_env.hpp).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/util/sha256.hpp>
#include <string>
#include <vector>

#include "largest_allocation.hpp"
#include "s3/rgw_support.hpp"

using namespace imapkeep::s3;
using imapkeep::testing::GeneratedSource;
using imapkeep::testing::have_rgw_env;
using imapkeep::testing::md5_hex;
using imapkeep::testing::rgw_bucket;
using imapkeep::testing::rgw_config;
using imapkeep::testing::unique_prefix;

namespace {

S3Client ready_client(S3Config config = rgw_config()) {
    S3Client client(std::move(config));
    client.create_bucket(rgw_bucket());
    return client;
}

std::string get_string(S3Client& client, const std::string& key) {
    std::string out;
    client.get_object(rgw_bucket(), key, [&](std::string_view piece) { out += piece; });
    return out;
}

S3Error expect_s3_error(const std::function<void()>& call) {
    try {
        call();
    } catch (const S3Error& e) {
        return e;
    }
    FAIL("no S3Error");
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("RGW: put and get round trip, byte for byte", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Client client = ready_client();
    client.create_bucket(rgw_bucket());  // a second time: already ours, fine
    const std::string prefix = unique_prefix("roundtrip");
    // CR, LF, NUL and 8-bit bytes: a mail message as the server sent it.
    static const char kMessage[] = "From: a@b\r\nSubject: \xE9t\xE9\r\n\r\nbody\0end\r\n";
    const std::string body(kMessage, sizeof kMessage - 1);
    struct Case {
        std::string key;
        std::string body;
    };
    const std::vector<Case> cases = {
        {prefix + "plain", body},
        {prefix + "empty", ""},
        // Every byte class the URI encoding treats differently.
        {prefix + "a b+c=d&e%f~g/\xE1\x88\xB4/$(x)!*'", body},
        {prefix + "blobs/ab/cd/" + imapkeep::util::sha256_hex(body), body},
    };
    for (const auto& c : cases) {
        INFO(c.key);
        MemorySource source(c.body);
        const ObjectInfo put = client.put_object(rgw_bucket(), c.key, source);
        CHECK(put.size == c.body.size());
        CHECK(put.etag == md5_hex(c.body));
        CHECK(get_string(client, c.key) == c.body);
        const auto head = client.head_object(rgw_bucket(), c.key);
        REQUIRE(head.has_value());
        CHECK(head->size == c.body.size());
        CHECK(head->etag == put.etag);
    }
}

TEST_CASE("RGW: put from a file", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Client client = ready_client();
    const std::string key = unique_prefix("file") + "k";
    std::string bytes;
    for (int i = 0; i < 20000; ++i) bytes += "line " + std::to_string(i) + "\r\n";
    char name[] = "/tmp/imapkeep-s3-put.XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    FileSource source(name);
    const ObjectInfo put = client.put_object(rgw_bucket(), key, source);
    ::unlink(name);
    CHECK(put.size == bytes.size());
    CHECK(put.etag == md5_hex(bytes));
    CHECK(get_string(client, key) == bytes);
}

TEST_CASE("RGW: a 20 MB object streams up and down in bounded memory", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Config config = rgw_config();
    config.multipart_threshold = 64 * kMiB;  // one PUT
    S3Client client = ready_client(config);
    const std::string key = unique_prefix("stream") + "big";
    const std::uint64_t size = 20 * 1000 * 1000 + 7;
    GeneratedSource source(size, 20);
    const std::string sha = source.sha256();

    imapkeep::testing::g_largest_allocation = 0;
    const auto before = client.requests();
    CHECK(client.put_object(rgw_bucket(), key, source).size == size);
    CHECK(client.requests() - before == 1);

    imapkeep::util::Sha256 got;
    std::uint64_t got_size = 0;
    std::size_t largest_piece = 0;
    const ObjectInfo info = client.get_object(rgw_bucket(), key, [&](std::string_view piece) {
        got.update(piece);
        got_size += piece.size();
        largest_piece = std::max(largest_piece, piece.size());
    });
    CHECK(info.size == size);
    CHECK(got_size == size);
    CHECK(got.hex_digest() == sha);
    CHECK(largest_piece <= 1024 * 1024);
    if (imapkeep::testing::kCountsAllocations) {
        INFO("largest allocation " << imapkeep::testing::g_largest_allocation);
        CHECK(imapkeep::testing::g_largest_allocation < 1024 * 1024);
    }
}

TEST_CASE("RGW: multipart above the threshold, one request per part", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Config config = rgw_config();
    config.multipart_threshold = 6 * kMiB;
    config.part_size = kMinPartSize;
    S3Client client = ready_client(config);
    const std::string prefix = unique_prefix("multipart");

    GeneratedSource large(12 * kMiB + 3, 12);  // 5 + 5 + 2 MiB
    const auto before = client.requests();
    imapkeep::testing::g_largest_allocation = 0;
    const ObjectInfo put = client.put_object(rgw_bucket(), prefix + "large", large);
    CHECK(client.requests() - before == 5);  // initiate, 3 parts, complete
    CHECK(put.size == large.size());
    // A multipart object's ETag is "<md5 of the parts' md5s>-<parts>".
    CHECK(put.etag.size() > 2);
    CHECK(put.etag.substr(put.etag.size() - 2) == "-3");
    if (imapkeep::testing::kCountsAllocations)
        CHECK(imapkeep::testing::g_largest_allocation < 1024 * 1024);
    imapkeep::util::Sha256 got;
    client.get_object(rgw_bucket(), prefix + "large", [&](std::string_view p) { got.update(p); });
    CHECK(got.hex_digest() == large.sha256());
    const auto head = client.head_object(rgw_bucket(), prefix + "large");
    CHECK(head.value().size == large.size());
    CHECK(head.value().etag == put.etag);

    GeneratedSource small(6 * kMiB - 1, 6);  // just below: one PUT
    const auto before_small = client.requests();
    CHECK(client.put_object(rgw_bucket(), prefix + "small", small).etag.find('-') ==
          std::string::npos);
    CHECK(client.requests() - before_small == 1);  // the hash pass sends nothing
    CHECK(client.list_uploads(rgw_bucket(), prefix).empty());
}

TEST_CASE("RGW: HEAD, and 404 after DELETE", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Client client = ready_client();
    const std::string key = unique_prefix("delete") + "gone";
    MemorySource source("short lived");
    client.put_object(rgw_bucket(), key, source);
    REQUIRE(client.head_object(rgw_bucket(), key).has_value());
    CHECK(client.head_object(rgw_bucket(), key).value().size == 11);

    client.delete_object(rgw_bucket(), key);
    CHECK_FALSE(client.head_object(rgw_bucket(), key).has_value());
    const S3Error e = expect_s3_error([&] { get_string(client, key); });
    CHECK(e.code() == "NoSuchKey");
    CHECK(e.http_status() == 404);
    CHECK_FALSE(e.transient());
    CHECK_NOTHROW(client.delete_object(rgw_bucket(), key));  // already gone: fine
}

TEST_CASE("RGW: a conditional PUT stores only where no object is", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Client client = ready_client();
    const std::string key = unique_prefix("if-absent") + "owner";
    MemorySource first("first"), second("second");
    CHECK(client.put_object_if_absent(rgw_bucket(), key, first));
    CHECK_FALSE(client.put_object_if_absent(rgw_bucket(), key, second));
    CHECK(get_string(client, key) == "first");
    client.delete_object(rgw_bucket(), key);
    CHECK(client.put_object_if_absent(rgw_bucket(), key, second));  // gone: free again
    CHECK(get_string(client, key) == "second");
    client.delete_object(rgw_bucket(), key);

    S3Config small = rgw_config();
    small.multipart_threshold = 4;
    S3Client limited(small);
    CHECK_THROWS_AS(limited.put_object_if_absent(rgw_bucket(), key, first), std::invalid_argument);
}

TEST_CASE("RGW: list with a prefix, page by page", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Client client = ready_client();
    const std::string prefix = unique_prefix("list");
    std::vector<std::string> keys;
    for (int i = 4; i >= 0; --i) {
        const std::string key = prefix + "in/" + std::to_string(i);
        const std::string body(static_cast<std::size_t>(i), 'x');
        MemorySource source(body);
        client.put_object(rgw_bucket(), key, source);
        keys.insert(keys.begin(), key);
    }
    MemorySource other("other");
    client.put_object(rgw_bucket(), prefix + "out/0", other);
    client.put_object(rgw_bucket(), prefix + "inner", other);  // shares "in", not "in/"

    std::vector<std::size_t> page_sizes;
    std::vector<std::string> listed;
    std::string token;
    do {
        ListPage page = client.list_page(rgw_bucket(), prefix + "in/", token, 2);
        page_sizes.push_back(page.objects.size());
        for (const auto& o : page.objects) {
            listed.push_back(o.key);
            CHECK(o.size == static_cast<std::uint64_t>(o.key.back() - '0'));
            CHECK_FALSE(o.etag.empty());
        }
        token = page.next_token;
    } while (!token.empty() && page_sizes.size() < 10);
    CHECK(page_sizes == std::vector<std::size_t>{2, 2, 1});
    CHECK(listed == keys);

    std::vector<std::string> each;
    const auto before = client.requests();
    client.for_each_object(
        rgw_bucket(), prefix + "in/", [&](const ListedObject& o) { each.push_back(o.key); }, 2);
    CHECK(each == keys);
    CHECK(client.requests() - before == 3);
    CHECK(client.list_page(rgw_bucket(), prefix + "none/").objects.empty());
}

TEST_CASE("RGW: a wrong secret is SignatureDoesNotMatch, and no credential is printed",
          "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Config config = rgw_config();
    const std::string right_secret = config.credentials.secret_key;
    config.credentials.secret_key = "Wrong-" + right_secret.substr(6);
    S3Client client(config);
    const std::string key = unique_prefix("wrongsecret") + "k";
    MemorySource source("never stored");
    const S3Error e = expect_s3_error([&] { client.put_object(rgw_bucket(), key, source); });
    CHECK(e.code() == "SignatureDoesNotMatch");
    CHECK(e.http_status() == 403);
    CHECK_FALSE(e.transient());
    const std::string what = e.what();
    CHECK(what.find(config.credentials.secret_key) == std::string::npos);
    CHECK(what.find(right_secret) == std::string::npos);
    CHECK(what.find(config.credentials.access_key) == std::string::npos);
    CHECK_FALSE(ready_client().head_object(rgw_bucket(), key).has_value());
}

TEST_CASE("RGW: a wrong x-amz-content-sha256 is refused, nothing stored", "[s3][rgw]") {
    if (!have_rgw_env()) return;
    S3Config config = rgw_config();
    config.multipart_threshold = 6 * kMiB;
    config.part_size = kMinPartSize;
    S3Client client = ready_client(config);
    const std::string prefix = unique_prefix("wrongsha");
    const std::string wrong = imapkeep::util::sha256_hex("something else");

    // The server checks a single PUT's hash.
    MemorySource source("the real body");
    S3Error e =
        expect_s3_error([&] { client.put_object(rgw_bucket(), prefix + "single", source, wrong); });
    CHECK(e.code() == "XAmzContentSHA256Mismatch");
    CHECK(e.http_status() == 400);
    CHECK_FALSE(e.transient());
    CHECK_FALSE(client.head_object(rgw_bucket(), prefix + "single").has_value());
    // The right one is taken as given.
    CHECK(client
              .put_object(rgw_bucket(), prefix + "single", source,
                          imapkeep::util::sha256_hex("the real body"))
              .size == 13);

    // Multipart: each part's hash is the client's own; the caller's whole-body
    // hash is checked before completing, and the upload is aborted.
    GeneratedSource large(11 * kMiB, 11);
    e = expect_s3_error([&] { client.put_object(rgw_bucket(), prefix + "multi", large, wrong); });
    CHECK(e.code() == "XAmzContentSHA256Mismatch");
    CHECK_FALSE(e.transient());
    CHECK_FALSE(client.head_object(rgw_bucket(), prefix + "multi").has_value());
    CHECK(client.list_uploads(rgw_bucket(), prefix).empty());
}
