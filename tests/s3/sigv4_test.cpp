// SigV4 against published vectors: AWS's Signature Version 4 test suite
// (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html; key
// AKIDEXAMPLE, us-east-1, service "service", 20150830T123600Z) and the S3
// examples of "Signature Calculations for the Authorization Header"
// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/s3/sigv4.hpp>
#include <imapkeep/util/sha256.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace imapkeep::s3;

namespace {

const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
const SigningScope kSuiteScope{"us-east-1", "service"};
const Credentials kS3Credentials{"AKIAIOSFODNN7EXAMPLE",
                                 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const SigningScope kS3Scope{"us-east-1", "s3"};
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Vector {
    const char* name;
    const Credentials* credentials;
    const SigningScope* scope;
    const char* amz_date;
    SignRequest request;
    std::string canonical_request;
    const char* canonical_request_sha256;  // the last line of the string to sign
    const char* signed_headers;
    const char* signature;
};

NameValues suite_headers(NameValues extra = {}) {
    NameValues headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return headers;
}

std::string suite_creq(const std::string& method, const std::string& uri, const std::string& query,
                       const std::string& extra_lines = "",
                       const std::string& names = "host;x-amz-date",
                       const std::string& payload = kEmpty) {
    return method + "\n" + uri + "\n" + query + "\n" + extra_lines +
           "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" + names + "\n" + payload;
}

SignRequest suite_request(const std::string& method, const std::string& path, NameValues query = {},
                          NameValues extra = {}, const std::string& payload = kEmpty) {
    return SignRequest{method, path, std::move(query), suite_headers(std::move(extra)), payload};
}

std::vector<Vector> vectors() {
    const std::string form_sha = imapkeep::util::sha256_hex("Param1=value1");
    const std::string unreserved =
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const std::string welcome_sha = imapkeep::util::sha256_hex("Welcome to Amazon S3.");
    return {
        {"get-vanilla", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/"), suite_creq("GET", "/", ""),
         "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63", "host;x-amz-date",
         "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        {"get-vanilla-query-order-key", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}),
         suite_creq("GET", "/", "Param1=Value1&Param1=value2"),
         "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89", "host;x-amz-date",
         "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
        {"get-vanilla-query-order-key-case", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}),
         suite_creq("GET", "/", "Param1=value1&Param2=value2"),
         "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0", "host;x-amz-date",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        {"get-vanilla-query-order-value", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}),
         suite_creq("GET", "/", "Param1=value1&Param1=value2"),
         "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606", "host;x-amz-date",
         "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
        {"get-vanilla-query-unreserved", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/", {{unreserved, unreserved}}),
         suite_creq("GET", "/", unreserved + "=" + unreserved),
         "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177", "host;x-amz-date",
         "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
        {"get-utf8", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/\xE1\x88\xB4"), suite_creq("GET", "/%E1%88%B4", ""),
         "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102", "host;x-amz-date",
         "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
        {"get-vanilla-utf8-query", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/", {{"\xE1\x88\xB4", "bar"}}),
         suite_creq("GET", "/", "%E1%88%B4=bar"),
         "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073", "host;x-amz-date",
         "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
        {"get-unreserved", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/" + unreserved), suite_creq("GET", "/" + unreserved, ""),
         "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9", "host;x-amz-date",
         "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
        {"get-header-value-trim", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("GET", "/", {},
                       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
         "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
         "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
             std::string(kEmpty),
         "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
         "host;my-header1;my-header2;x-amz-date",
         "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
        {"get-header-key-duplicate", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request(
             "GET", "/", {},
             {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
         "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
         "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
             std::string(kEmpty),
         "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
         "host;my-header1;x-amz-date",
         "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
        {"post-vanilla", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("POST", "/"), suite_creq("POST", "/", ""),
         "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87", "host;x-amz-date",
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        {"post-vanilla-query", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("POST", "/", {{"Param1", "value1"}}),
         suite_creq("POST", "/", "Param1=value1"),
         "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd", "host;x-amz-date",
         "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
        {"post-header-value-case", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("POST", "/", {}, {{"My-Header1", "VALUE1"}}),
         "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\n"
         "host;my-header1;x-amz-date\n" +
             std::string(kEmpty),
         "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
         "host;my-header1;x-amz-date",
         "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
        // A body: the payload hash is SHA-256("Param1=value1").
        {"post-x-www-form-urlencoded", &kSuiteCredentials, &kSuiteScope, "20150830T123600Z",
         suite_request("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
                       form_sha),
         "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
         "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n" +
             form_sha,
         "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
         "content-type;host;x-amz-date",
         "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
        // S3: GetObject with a Range, signing x-amz-content-sha256.
        {"s3-get-object", &kS3Credentials, &kS3Scope, "20130524T000000Z",
         SignRequest{"GET",
                     "/test.txt",
                     {},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", kEmpty},
                      {"x-amz-date", "20130524T000000Z"}},
                     kEmpty},
         "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
         "x-amz-content-sha256:" +
             std::string(kEmpty) +
             "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
             kEmpty,
         "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
         "host;range;x-amz-content-sha256;x-amz-date",
         "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
        // S3: PutObject with a payload hash, and "$" in the key encoded.
        {"s3-put-object", &kS3Credentials, &kS3Scope, "20130524T000000Z",
         SignRequest{"PUT",
                     "/test$file.text",
                     {},
                     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-date", "20130524T000000Z"},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                      {"x-amz-content-sha256", welcome_sha}},
                     welcome_sha},
         "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 "
         "GMT\nhost:examplebucket.s3.amazonaws.com\n"
         "x-amz-content-sha256:" +
             welcome_sha +
             "\nx-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
             "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n" +
             welcome_sha,
         "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
         "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
         "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
        // S3: a sub-resource without a value signs as "lifecycle=".
        {"s3-get-bucket-lifecycle", &kS3Credentials, &kS3Scope, "20130524T000000Z",
         SignRequest{"GET",
                     "/",
                     {{"lifecycle", ""}},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-date", "20130524T000000Z"},
                      {"x-amz-content-sha256", kEmpty}},
                     kEmpty},
         "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" +
             std::string(kEmpty) +
             "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + kEmpty,
         "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
         "host;x-amz-content-sha256;x-amz-date",
         "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
        // S3: ListObjects, two query parameters given out of order.
        {"s3-list-objects", &kS3Credentials, &kS3Scope, "20130524T000000Z",
         SignRequest{"GET",
                     "/",
                     {{"prefix", "J"}, {"max-keys", "2"}},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-date", "20130524T000000Z"},
                      {"x-amz-content-sha256", kEmpty}},
                     kEmpty},
         "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" +
             std::string(kEmpty) +
             "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + kEmpty,
         "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
         "host;x-amz-content-sha256;x-amz-date",
         "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
    };
}

std::string expected_authorization(const Vector& v) {
    const std::string date = std::string(v.amz_date).substr(0, 8);
    return "AWS4-HMAC-SHA256 Credential=" + v.credentials->access_key + "/" + date + "/" +
           v.scope->region + "/" + v.scope->service +
           "/aws4_request, SignedHeaders=" + v.signed_headers + ", Signature=" + v.signature;
}

}  // namespace

TEST_CASE("SigV4 signs the published vectors", "[s3][sigv4]") {
    for (const auto& v : vectors()) {
        INFO(v.name);
        const SignedParts parts = sign(v.request, *v.credentials, *v.scope, v.amz_date);
        CHECK(parts.canonical_request == v.canonical_request);
        const std::string date = std::string(v.amz_date).substr(0, 8);
        CHECK(parts.string_to_sign == "AWS4-HMAC-SHA256\n" + std::string(v.amz_date) + "\n" + date +
                                          "/" + v.scope->region + "/" + v.scope->service +
                                          "/aws4_request\n" + v.canonical_request_sha256);
        CHECK(parts.signature == v.signature);
        CHECK(parts.authorization == expected_authorization(v));
    }
}

TEST_CASE("SigV4 Signer caches the day's key and signs as sign() does", "[s3][sigv4]") {
    Signer signer(kSuiteCredentials, kSuiteScope);
    for (const auto& v : vectors()) {
        if (v.credentials != &kSuiteCredentials) continue;
        INFO(v.name);
        CHECK(signer.sign(v.request, v.amz_date).authorization == expected_authorization(v));
    }
    // Another day derives another key.
    auto next_day = vectors().front().request;
    next_day.headers[1].second = "20150831T000000Z";
    CHECK(signer.sign(next_day, "20150831T000000Z").signature ==
          sign(next_day, kSuiteCredentials, kSuiteScope, "20150831T000000Z").signature);
    CHECK(signer.sign(next_day, "20150831T000000Z").signature !=
          signer.sign(next_day, "20150830T123600Z").signature);
}

TEST_CASE("SigV4 signing key derivation (AWS documentation example)", "[s3][sigv4]") {
    // docs.aws.amazon.com/general/latest/gr/signature-v4-examples.html: secret
    // wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
    CHECK(hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                          SigningScope{"us-east-1", "iam"})) ==
          "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST_CASE("SigV4 URI encoding follows AWS's rules", "[s3][sigv4]") {
    struct Case {
        std::string raw;
        bool keep_slash;
        std::string encoded;
    };
    const std::vector<Case> cases = {
        {"abcXYZ019-._~", false, "abcXYZ019-._~"},
        {"a b", false, "a%20b"},  // never "+"
        {"a+b=c&d", false, "a%2Bb%3Dc%26d"},
        {"a/b", false, "a%2Fb"},
        {"a/b", true, "a/b"},
        {"100%", true, "100%25"},
        {"\xE1\x88\xB4", true, "%E1%88%B4"},
        {"*'()!$", true, "%2A%27%28%29%21%24"},
        {std::string("\0\x7f\xff", 3), false, "%00%7F%FF"},
    };
    for (const auto& c : cases) {
        INFO(c.raw);
        CHECK(uri_encode(c.raw, c.keep_slash) == c.encoded);
    }
}

TEST_CASE("SigV4 refuses a request that does not sign host, or a bad date", "[s3][sigv4]") {
    SignRequest request{"GET", "/", {}, {{"x-amz-date", "20150830T123600Z"}}, kEmpty};
    CHECK_THROWS_AS(sign(request, kSuiteCredentials, kSuiteScope, "20150830T123600Z"),
                    std::invalid_argument);
    request.headers.emplace_back("Host", "example.amazonaws.com");
    CHECK_NOTHROW(sign(request, kSuiteCredentials, kSuiteScope, "20150830T123600Z"));
    CHECK_THROWS_AS(sign(request, kSuiteCredentials, kSuiteScope, "2015-08-30"),
                    std::invalid_argument);
    request.path = "no-slash";
    CHECK_THROWS_AS(sign(request, kSuiteCredentials, kSuiteScope, "20150830T123600Z"),
                    std::invalid_argument);
}

TEST_CASE("SigV4 output never holds the secret key", "[s3][sigv4]") {
    for (const auto& v : vectors()) {
        const SignedParts parts = sign(v.request, *v.credentials, *v.scope, v.amz_date);
        for (const std::string* text : {&parts.canonical_request, &parts.string_to_sign,
                                        &parts.signature, &parts.authorization})
            CHECK(text->find(v.credentials->secret_key) == std::string::npos);
    }
}

TEST_CASE("amz_date is the UTC basic format", "[s3][sigv4]") {
    using namespace std::chrono;
    const auto when = system_clock::time_point(seconds(1440938160));  // 2015-08-30T12:36:00Z
    CHECK(amz_date(when) == "20150830T123600Z");
}
