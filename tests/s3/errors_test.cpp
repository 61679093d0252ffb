// How S3 failures are graded (transient or not) and named, and how an
// endpoint is read. No server needed.
#include <catch2/catch.hpp>
#include <imapkeep/s3/errors.hpp>
#include <imapkeep/s3/s3_client.hpp>
#include <string>
#include <vector>

#include "s3/client_impl.hpp"
#include "s3/http_session.hpp"
#include "s3/libcurl.hpp"

using namespace imapkeep::s3;

TEST_CASE("S3 replies: which ones a retry may cure", "[s3][errors]") {
    struct Case {
        long status;
        std::string code;
        bool transient;
    };
    const std::vector<Case> cases = {
        {500, "InternalError", true},
        {503, "SlowDown", true},
        {503, "ServiceUnavailable", true},
        {502, "HTTP 502", true},
        {429, "HTTP 429", true},
        {400, "RequestTimeout", true},
        {200, "InternalError", true},  // CompleteMultipartUpload's 200 with an error
        {403, "SignatureDoesNotMatch", false},
        {400, "XAmzContentSHA256Mismatch", false},
        {404, "NoSuchKey", false},
        {404, "NoSuchBucket", false},
        {403, "AccessDenied", false},
        {409, "BucketAlreadyExists", false},
    };
    for (const auto& c : cases) {
        INFO(c.status << " " << c.code);
        CHECK(is_transient_reply(c.status, c.code) == c.transient);
    }
}

TEST_CASE("S3 replies without a body get a code from their status", "[s3][errors]") {
    CHECK(code_for_status(404) == "NotFound");
    CHECK(code_for_status(403) == "Forbidden");
    CHECK(code_for_status(400) == "BadRequest");
    CHECK(code_for_status(418) == "HTTP 418");
}

TEST_CASE("curl failures: which ones a retry may cure", "[s3][errors]") {
    struct Case {
        CURLcode code;
        bool transient;
    };
    const std::vector<Case> cases = {
        {CURLE_COULDNT_CONNECT, true},
        {CURLE_OPERATION_TIMEDOUT, true},
        {CURLE_SEND_ERROR, true},
        {CURLE_RECV_ERROR, true},
        {CURLE_GOT_NOTHING, true},
        {CURLE_PARTIAL_FILE, true},
        {CURLE_COULDNT_RESOLVE_HOST, true},
        {CURLE_PEER_FAILED_VERIFICATION, false},
        {CURLE_SSL_CACERT_BADFILE, false},
        {CURLE_URL_MALFORMAT, false},
        {CURLE_UNSUPPORTED_PROTOCOL, false},
        {CURLE_WRITE_ERROR, false},
        {CURLE_READ_ERROR, false},
    };
    for (const auto& c : cases) {
        INFO(imapkeep::s3::libcurl().curl_easy_strerror(c.code));
        CHECK(detail::is_transient_curl_code(c.code) == c.transient);
    }
}

TEST_CASE("S3 endpoints: scheme://host[:port] only", "[s3][errors]") {
    struct Good {
        std::string endpoint, base, host;
    };
    const std::vector<Good> good = {
        {"http://127.0.0.1:7480", "http://127.0.0.1:7480", "127.0.0.1:7480"},
        {"https://s3.example.org/", "https://s3.example.org", "s3.example.org"},
        {"https://[::1]:9000", "https://[::1]:9000", "[::1]:9000"},
    };
    for (const auto& g : good) {
        INFO(g.endpoint);
        const Endpoint e = parse_endpoint(g.endpoint);
        CHECK(e.base == g.base);
        CHECK(e.host == g.host);
    }
    for (const std::string bad : {"s3.example.org", "ftp://h", "https://", "https://h/bucket",
                                  "https://user:pw@h", "https://h?x"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_endpoint(bad), std::invalid_argument);
    }
}

TEST_CASE("S3Client refuses bad settings and names before any request", "[s3][errors]") {
    S3Config config;
    config.endpoint = "http://127.0.0.1:9";  // discard: nothing must be sent
    config.credentials = {"AK", "SK"};
    S3Config small_parts = config;
    small_parts.part_size = kMinPartSize - 1;
    CHECK_THROWS_AS(S3Client(small_parts), std::invalid_argument);
    S3Config no_secret = config;
    no_secret.credentials.secret_key.clear();
    CHECK_THROWS_AS(S3Client(no_secret), std::invalid_argument);

    S3Client client(config);
    MemorySource body("x");
    for (const std::string& bucket :
         std::vector<std::string>{"ab", "Upper", "-lead", "trail-", "a_b", std::string(64, 'a')}) {
        INFO(bucket);
        CHECK_THROWS_AS(client.put_object(bucket, "k", body), std::invalid_argument);
    }
    CHECK_THROWS_AS(client.put_object("bucket", "", body), std::invalid_argument);
    CHECK_THROWS_AS(client.head_object("bucket", std::string(1025, 'k')), std::invalid_argument);
    CHECK(client.requests() == 0);
}

TEST_CASE("S3Client: a refused connection is a transient NetworkError", "[s3][errors]") {
    S3Config config;
    config.endpoint = "http://127.0.0.1:9";  // nothing listens on discard here
    config.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    S3Client client(config);
    try {
        client.head_object("bucket", "key");
        FAIL("no error");
    } catch (const S3Error& e) {
        CHECK(e.code() == kNetworkError);
        CHECK(e.http_status() == 0);
        CHECK(e.transient());
        CHECK(std::string(e.what()).find("bucket/key") != std::string::npos);
        CHECK(std::string(e.what()).find("AKIDEXAMPLE") == std::string::npos);
    }
}
