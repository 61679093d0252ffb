// COMPRESS=DEFLATE against Dovecot's imap_zlib: a backup over a compressed
// connection stores the same bytes as one without.
#include <imapkeep/sync/plan.hpp>

#include <catch2/catch.hpp>

#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("COMPRESS=DEFLATE carries a whole backup", "[integration][compress]") {
    if (!testing::have_dovecot_env()) return;
    auto options = dovecot_options();
    options.compress = true;
    auto client = imap::connect_and_login(options);
    REQUIRE(client->has_capability("COMPRESS=DEFLATE"));
    // Compression is on now: the server answers a second COMPRESS with
    // NO [COMPRESSIONACTIVE], which must not wrap the stream twice.
    CHECK(client->compress());
    client->noop();

    const std::string p = unique_name("ikz");
    client->create(p);
    std::string big = "Subject: compressible\r\n\r\n";
    for (int i = 0; i < 20000; ++i) big += "the same line again and again\r\n";
    client->append(p, {"\\Seen"}, std::nullopt, big);
    client->append(p, {}, std::nullopt, "Subject: small\r\n\r\nx\r\n");

    sync::AccountConfig plain_account;
    plain_account.name = "it";
    plain_account.connect = dovecot_options();
    plain_account.mailboxes = {p};
    auto compressed_account = plain_account;
    compressed_account.connect.compress = true;
    TempDir a, b;
    Store plain(a.path), compressed(b.path);
    REQUIRE(plain.backup(plain_account).error.empty());
    auto report = compressed.backup(compressed_account);
    REQUIRE(report.error.empty());
    REQUIRE(report.mailboxes.size() == 1);
    CHECK(report.mailboxes[0].new_messages == 2);
    CHECK(snapshot(plain, "it").messages == snapshot(compressed, "it").messages);
    client->delete_mailbox(p);
}
