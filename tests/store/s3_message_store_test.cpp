// What only the content-addressed S3 store does (s3_message_store.hpp), against
// the test Ceph RGW: one object per distinct message, the key form, no object
// and no catalog row when an upload fails, and the answers it gives the sync
// layer's Maildir questions. The contract every store keeps is in
// message_store_contract_test.cpp.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/s3_message_store.hpp>
#include <imapkeep/util/sha256.hpp>
#include <string>

#include "message_store_backends.hpp"
#include "message_store_io.hpp"
#include "support/fault_proxy.hpp"

using namespace imapkeep::store;
using imapkeep::test::make_s3_backend;
using imapkeep::test::put;
using imapkeep::test::read_row;
using imapkeep::testing::FaultProxy;

namespace {

const std::string kBody = "From: a@example.org\r\nSubject: dedup\r\n\r\nthe same bytes\r\n";

// A message received into `store` and finished, not committed.
std::unique_ptr<PendingMessage> received(MessageStore& store, const std::string& body) {
    auto pending = store.begin("work", ".A");
    pending->write(body);
    pending->finish();
    return pending;
}

std::string generated(std::size_t size) {
    std::string out;
    out.reserve(size);
    for (std::size_t i = 0; out.size() < size; ++i) out += "line " + std::to_string(i) + "\r\n";
    return out;
}

}  // namespace

TEST_CASE("S3 store: the same bytes committed twice are one object under their SHA-256",
          "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    auto& store = backend->store();
    const auto a = put(store, "", 1, kBody);
    const auto b = put(store, ".Other", 7, kBody, {"\\Seen"}, "another-account");
    const std::string blob = s3_blob_key(imapkeep::util::sha256_hex(kBody));
    CHECK(blob.substr(0, 12) ==
          "blobs/" + a.sha256.substr(0, 2) + "/" + a.sha256.substr(2, 2) + "/");
    CHECK(a.file == "s3:" + blob);
    CHECK(b.file == a.file);
    CHECK(a.line_endings == LineEndings::Wire);
    const auto keys = backend->object_keys();
    REQUIRE(keys.size() == 1);
    CHECK(keys[0] == backend->options().prefix + blob);
    CHECK(store.absolute(a.file) ==
          "s3://" + backend->options().bucket + "/" + backend->options().prefix + blob);

    put(store, "", 2, kBody + "changed");
    CHECK(backend->object_keys().size() == 2);
}

TEST_CASE("S3 store: sync_pending uploads the batch, and commit finds it done", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    auto& store = backend->store();
    std::vector<std::unique_ptr<PendingMessage>> batch;
    for (int i = 0; i < 40; ++i) batch.push_back(received(store, kBody + std::to_string(i)));
    batch.push_back(received(store, kBody + "0"));  // the same bytes twice in one batch
    auto dropped = received(store, kBody + "dropped before the batch");
    dropped->discard();
    CHECK(backend->object_keys().empty());
    store.sync_pending();
    // Uploaded before any commit: commit has nothing left to send.
    CHECK(backend->object_keys().size() == 40);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        MessageRecord row;
        describe_stored(*batch[i], row);
        row.file = store.commit(*batch[i], "work", ".A", static_cast<std::uint32_t>(i + 1), 0, {});
        CHECK(read_row(store, row) == kBody + std::to_string(i % 40));
    }
    CHECK(backend->object_keys().size() == 40);
    // Nothing queued: the next batch's sync_pending has nothing to do.
    store.sync_pending();
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        (void)entry;
        ++n;
    }
    return n;
}

TEST_CASE("S3 store: messages waiting for their batch hold no descriptor", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    auto& store = backend->store();
    const auto before = open_descriptors();
    std::vector<std::unique_ptr<PendingMessage>> batch;
    for (int i = 0; i < 200; ++i) batch.push_back(received(store, kBody + std::to_string(i)));
    // A batch of 200 per connection would be 200 descriptors each.
    CHECK(open_descriptors() < before + 10);
    CHECK(backend->stored_count() == 200);  // spooled, not uploaded yet
    store.sync_pending();
    for (auto& pending : batch) store.commit(*pending, "work", ".A", 1, 0, {});
    batch.clear();
    CHECK(backend->stored_count() == 200);  // uploaded, and no spool file left
}

TEST_CASE("S3 store: a killed run's spool files go when the next store opens", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    const std::string root = backend->options().spool_dir;
    // A live store's directory (locked) stays; a killed one's (no lock) goes.
    auto live = open_s3_message_store(backend->options());
    auto pending = received(*live, kBody);
    const std::string killed = root + "/run-killed";
    std::filesystem::create_directories(killed);
    std::ofstream(killed + "/m1") << "half a message";
    std::ofstream(killed + "/.lock");
    auto next = open_s3_message_store(backend->options());
    CHECK_FALSE(std::filesystem::exists(killed));
    CHECK(imapkeep::test::count_files(root) == 1);  // the live store's message
    // Killed again: clean_tmp() does it too.
    std::filesystem::create_directories(killed);
    std::ofstream(killed + "/m1") << "another";
    CHECK(next->clean_tmp("work") == 1);
    CHECK(imapkeep::test::count_files(root) == 1);
    pending.reset();
    live.reset();
    CHECK(imapkeep::test::count_files(root) == 0);
}

TEST_CASE("S3 store: a commit whose upload fails throws, and leaves no object", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    const auto& good = backend->options();

    SECTION("refused: a wrong secret key") {
        auto options = good;
        options.client.credentials.secret_key = "not-the-secret";
        auto broken = open_s3_message_store(options);
        auto pending = received(*broken, kBody);
        try {
            broken->commit(*pending, "work", ".A", 1, 0, {});
            FAIL("the commit succeeded with a wrong secret key");
        } catch (const S3StoreError& e) {
            INFO(e.what());
            // The HEAD before the upload is refused already (a HEAD reply
            // has no body to name S3's code).
            CHECK(e.http_status() == 403);
            CHECK_FALSE(e.transient());
            CHECK(std::string(e.what()).find("not-the-secret") == std::string::npos);
        }
        pending.reset();
        CHECK(backend->stored_count() == 0);  // no object, no spool file
    }

    SECTION("cut: the connection breaks mid-upload, single PUT and multipart") {
        const std::string body = GENERATE(generated(2 * 1024 * 1024), generated(13 * 1024 * 1024));
        INFO("size " << body.size());
        FaultProxy proxy("127.0.0.1", imapkeep::testing::rgw_port());
        auto options = good;
        options.client.endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
        auto cut_store = open_s3_message_store(options);
        FaultProxy::Fault cut;
        cut.action = FaultProxy::Action::Cut;
        cut.direction = FaultProxy::Direction::ClientToServer;
        // The first connection: the HEAD's, which the upload reuses. Cut
        // inside its last bytes (the last part of a multipart upload).
        cut.after = body.size() - 512 * 1024;
        proxy.set_fault(cut);
        auto pending = received(*cut_store, body);
        try {
            cut_store->commit(*pending, "work", ".A", 1, 0, {});
            FAIL("the commit succeeded through a cut connection");
        } catch (const S3StoreError& e) {
            INFO(e.what());
            CHECK(e.transient());  // a caller that retries may try again
        }
        CHECK(proxy.counts().faults >= 1);
        CHECK(backend->object_keys().empty());
        CHECK(backend->client().list_uploads(good.bucket, good.prefix).empty());

        // The same message, committed again once the network is back.
        proxy.set_fault({});
        MessageRecord row;
        describe_stored(*pending, row);
        row.file = cut_store->commit(*pending, "work", ".A", 1, 0, {});
        CHECK(read_row(backend->store(), row) == body);
        pending.reset();
        CHECK(backend->stored_count() == 1);
    }
}

TEST_CASE("S3 store: keys of other stores, or of another message, are refused", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    auto& store = backend->store();
    auto row = put(store, "", 1, kBody);
    auto maildir_key = row;
    maildir_key.file = "mail/work/cur/1700000000.M1P1.host,U=1:2,";
    CHECK_THROWS_AS(store.open_read(message_ref(maildir_key)), StoreError);
    auto other_sha = row;
    other_sha.sha256 = imapkeep::util::sha256_hex("other");
    try {
        store.open_read(message_ref(other_sha));
        FAIL("a key that does not name the row's SHA-256 was read");
    } catch (const MessageMissing&) {
        FAIL("a mismatched key was taken for a missing message");
    } catch (const StoreError&) {
    }
    // A bucket that is not there is no missing message.
    auto options = backend->options();
    options.bucket = "imapkeep-no-such-bucket";
    auto elsewhere = open_s3_message_store(options);
    try {
        elsewhere->open_read(message_ref(row));
        FAIL("a message was read from a bucket that does not exist");
    } catch (const MessageMissing& e) {
        FAIL("a missing bucket was taken for a missing message: " << e.what());
    } catch (const S3StoreError& e) {
        CHECK(e.code() == "NoSuchBucket");
    }
    // A row without a SHA-256 is read by its key's.
    auto no_sha = row;
    no_sha.sha256.clear();
    CHECK(read_row(store, no_sha) == kBody);
}

TEST_CASE("S3 store: the sync layer's folder questions have nothing to find", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    auto& store = backend->store();
    const auto row = put(store, ".A", 1, kBody);
    // A folder never changes behind imapkeep's back: tidy_folder skips it.
    const auto stamp = store.folder_stamp_after_writes("work", ".A");
    CHECK_FALSE(stamp.empty());
    CHECK(store.folder_stamp("work", ".A") == stamp);
    CHECK(store.folder_unchanged("work", ".A", stamp));
    CHECK_FALSE(store.folder_unchanged("work", ".A", ""));
    CHECK(store.renamed_files("work", ".A", {row.file}).empty());
    CHECK(store.remove_unknown_files("work", ".A", {}) == 0);
    CHECK(store.clean_folder_tmp("work", ".A") == 0);
    // Deleting a mailbox or expunging into the attic keeps the object:
    // another row may share it.
    CHECK(store.remove_folder("work", ".A"));
    CHECK(store.move_to_attic(row.file) == row.file);
    store.remove(row.file);
    CHECK(backend->object_keys().size() == 1);
}

TEST_CASE("S3 store: a read-only (dry run) store refuses writes and reads", "[store][s3]") {
    auto backend = make_s3_backend();
    if (!backend) return;
    const auto row = put(backend->store(), ".A", 1, kBody);
    auto options = backend->options();
    options.read_only = true;
    auto dry = open_s3_message_store(options);
    CHECK_THROWS_AS(dry->begin("work", ".A"), StoreError);
    CHECK(read_row(*dry, row) == kBody);
}
