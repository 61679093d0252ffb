// Broken networks between the S3 client and a real Ceph RGW: a FaultProxy
// (tests/support/fault_proxy.hpp) cuts or stalls the connection mid-transfer.
// Every such failure must be a transient S3Error, and nothing may become
// visible under the key: no object, no multipart upload left behind.
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/s3/s3_client.hpp>
#include <string>

#include "s3/rgw_support.hpp"
#include "support/fault_proxy.hpp"

using namespace imapkeep::s3;
using imapkeep::testing::FaultProxy;
using imapkeep::testing::GeneratedSource;
using imapkeep::testing::have_rgw_env;
using imapkeep::testing::rgw_bucket;
using imapkeep::testing::rgw_config;
using imapkeep::testing::rgw_port;
using imapkeep::testing::unique_prefix;

namespace {

S3Config through(const FaultProxy& proxy, S3Config config = rgw_config()) {
    config.endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
    return config;
}

FaultProxy::Fault cut(FaultProxy::Direction direction, std::uint64_t after) {
    FaultProxy::Fault fault;
    fault.action = FaultProxy::Action::Cut;
    fault.direction = direction;
    fault.after = after;
    return fault;
}

void expect_transient(const std::function<void()>& call) {
    try {
        call();
        FAIL("the transfer succeeded through the fault");
    } catch (const S3Error& e) {
        INFO(e.what());
        CHECK(e.transient());
        CHECK(e.code() == kNetworkError);
    }
}

}  // namespace

TEST_CASE("RGW: a connection cut mid-PUT is transient, and nothing is stored", "[s3][rgw][fault]") {
    if (!have_rgw_env()) return;
    S3Client direct(rgw_config());
    direct.create_bucket(rgw_bucket());
    FaultProxy proxy("127.0.0.1", rgw_port());
    S3Client client(through(proxy));
    const std::string key = unique_prefix("cutput") + "k";
    GeneratedSource body(4 * kMiB, 4);

    proxy.set_fault(cut(FaultProxy::Direction::ClientToServer, kMiB));
    expect_transient([&] { client.put_object(rgw_bucket(), key, body); });
    CHECK(proxy.counts().faults == 1);
    CHECK_FALSE(direct.head_object(rgw_bucket(), key).has_value());

    // Transient means a retry may work: the fault was for one connection.
    CHECK(client.put_object(rgw_bucket(), key, body).size == body.size());
    CHECK(direct.head_object(rgw_bucket(), key).value().size == body.size());
}

TEST_CASE("RGW: a cut during a multipart part is transient, and the upload is aborted",
          "[s3][rgw][fault]") {
    if (!have_rgw_env()) return;
    S3Client direct(rgw_config());
    direct.create_bucket(rgw_bucket());
    FaultProxy proxy("127.0.0.1", rgw_port());
    S3Config config = through(proxy);
    config.multipart_threshold = 6 * kMiB;
    config.part_size = kMinPartSize;
    S3Client client(config);
    const std::string prefix = unique_prefix("cutmulti");
    GeneratedSource body(12 * kMiB, 12);

    // Initiate and part 1 pass; part 2 is cut half way.
    proxy.set_fault(cut(FaultProxy::Direction::ClientToServer, 7 * kMiB + kMiB / 2));
    expect_transient([&] { client.put_object(rgw_bucket(), prefix + "k", body); });
    CHECK(proxy.counts().faults == 1);
    CHECK_FALSE(direct.head_object(rgw_bucket(), prefix + "k").has_value());
    CHECK(direct.list_uploads(rgw_bucket(), prefix).empty());
}

TEST_CASE("RGW: a GET cut mid-body is transient", "[s3][rgw][fault]") {
    if (!have_rgw_env()) return;
    S3Client direct(rgw_config());
    direct.create_bucket(rgw_bucket());
    const std::string key = unique_prefix("cutget") + "k";
    GeneratedSource body(3 * kMiB, 3);
    direct.put_object(rgw_bucket(), key, body);

    FaultProxy proxy("127.0.0.1", rgw_port());
    S3Client client(through(proxy));
    proxy.set_fault(cut(FaultProxy::Direction::ServerToClient, kMiB));
    std::uint64_t received = 0;
    expect_transient([&] {
        client.get_object(rgw_bucket(), key, [&](std::string_view p) { received += p.size(); });
    });
    CHECK(received < body.size());  // a prefix at most, which the caller discards
}

TEST_CASE("RGW: a stalled connection times out as a transient error", "[s3][rgw][fault]") {
    if (!have_rgw_env()) return;
    S3Client direct(rgw_config());
    direct.create_bucket(rgw_bucket());
    FaultProxy proxy("127.0.0.1", rgw_port());
    S3Config config = through(proxy);
    config.stall_timeout = std::chrono::seconds(2);
    S3Client client(config);
    const std::string key = unique_prefix("stall") + "k";
    GeneratedSource body(2 * kMiB, 2);

    FaultProxy::Fault stall = cut(FaultProxy::Direction::ServerToClient, 0);
    stall.action = FaultProxy::Action::Stall;  // the reply never comes
    proxy.set_fault(stall);
    const auto start = std::chrono::steady_clock::now();
    expect_transient([&] { client.put_object(rgw_bucket(), key, body); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
    CHECK_FALSE(direct.head_object(rgw_bucket(), key).has_value());
}
