// The S3 client over HTTPS to the test RGW, whose certificate names
// "localhost" and is signed by the test CA (scripts/test-env/ca.sh): verified
// against that CA it works; against the system CAs, or by IP address, the
// connection is refused, and that is no transient error.
#include <catch2/catch.hpp>
#include <functional>
#include <imapkeep/s3/s3_client.hpp>
#include <string>

#include "s3/rgw_support.hpp"

using namespace imapkeep::s3;
using imapkeep::testing::env;
using imapkeep::testing::rgw_bucket;
using imapkeep::testing::rgw_config;
using imapkeep::testing::test_env_has;
using imapkeep::testing::unique_prefix;

namespace {

bool have_rgw_tls_env() {
    return imapkeep::testing::have_rgw_env() &&
           test_env_has({"IMAPKEEP_TEST_S3_TLS_PORT", "IMAPKEEP_TEST_CA_FILE"},
                        "the test Ceph RGW over HTTPS");
}

S3Config tls_config(const std::string& host, const std::string& ca_file) {
    S3Config config = rgw_config();
    config.endpoint = "https://" + host + ":" + env("IMAPKEEP_TEST_S3_TLS_PORT");
    config.ca_file = ca_file;
    return config;
}

void expect_refused(S3Config config) {
    S3Client client(std::move(config));
    try {
        client.head_object(rgw_bucket(), "any");
        FAIL("the connection was not refused");
    } catch (const S3Error& e) {
        INFO(e.what());
        CHECK(e.code() == kNetworkError);
        CHECK_FALSE(e.transient());  // a retry cannot fix a certificate
    }
}

}  // namespace

TEST_CASE("RGW over HTTPS: verified against the given CA", "[s3][rgw][tls]") {
    if (!have_rgw_tls_env()) return;
    S3Client client(tls_config("localhost", env("IMAPKEEP_TEST_CA_FILE")));
    client.create_bucket(rgw_bucket());
    const std::string key = unique_prefix("tls") + "k";
    MemorySource source("over TLS");
    client.put_object(rgw_bucket(), key, source);
    std::string got;
    client.get_object(rgw_bucket(), key, [&](std::string_view p) { got += p; });
    CHECK(got == "over TLS");
}

TEST_CASE("RGW over HTTPS: an unknown CA or a wrong host name is refused", "[s3][rgw][tls]") {
    if (!have_rgw_tls_env()) return;
    expect_refused(tls_config("localhost", ""));  // the system CAs do not know the test CA
    expect_refused(tls_config("127.0.0.1", env("IMAPKEEP_TEST_CA_FILE")));  // names localhost only
}
