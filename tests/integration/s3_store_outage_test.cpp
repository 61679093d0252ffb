// A backup into the S3 store while S3 cannot be reached: the mailbox fails
// with nothing cataloged, and the failure is one the run's retry policy
// retries (MailboxReport::connection_lost), as a dropped IMAP connection is,
// not one it gives up on at once. Needs no server: the model IMAP server,
// and an endpoint nobody listens on.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <imapkeep/store/s3_message_store.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

// A loopback port that was just free: connecting to it is refused.
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("an S3 store that cannot be reached fails the mailbox as worth a retry",
          "[integration][s3]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 3; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    store::S3StoreOptions options;
    options.client.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
    options.client.credentials = {"AKIDEXAMPLE", "not-a-secret"};
    options.client.connect_timeout = std::chrono::seconds(2);
    options.bucket = "imapkeep-outage";
    options.spool_dir = (f.dir.path / "spool").string();
    f.store.messages = store::open_s3_message_store(options);

    auto report = f.backup();
    auto* inbox = find_report(report, "INBOX");
    REQUIRE(inbox);
    REQUIRE_FALSE(inbox->errors.empty());
    INFO(inbox->errors.front());
    CHECK(inbox->connection_lost);
    CHECK(inbox->new_messages == 0);
    CHECK(f.stored("INBOX").empty());
}
