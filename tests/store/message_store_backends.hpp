// The store contract tests for MessageStore run on every implementation: each
// test case asks for IMAPKEEP_MESSAGE_STORE_BACKEND(), Catch2 runs it once per
// entry, and make_message_store_backend() gives a fresh, empty store of that
// kind:
// - "maildir": the Maildir++ store in a temp dir, pure-CRLF messages kept
//   with LF (the default);
// - "maildir-wire": the same, every message byte for byte;
// - "s3": the content-addressed store in the test Ceph RGW
//   (IMAPKEEP_TEST_S3_*, scripts/test-env/ceph.sh), under a key prefix of its
//   own, so no test sees another's objects.
// A backend that needs a server (S3) returns nullptr when it is missing: the
// run FAILS under the test command (IMAPKEEP_TEST_REQUIRE_SERVERS=1) and is
// skipped, visibly, by hand, like catalog_backends.hpp.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/s3_message_store.hpp>
#include <memory>
#include <string>
#include <vector>

#include "s3/rgw_support.hpp"
#include "temp_dir.hpp"

namespace imapkeep::test {

class MessageStoreBackend {
  public:
    virtual ~MessageStoreBackend() = default;
    virtual store::MessageStore& store() = 0;
    // The same store opened again, as another process would (a restore after
    // the backup that wrote it).
    virtual std::unique_ptr<store::MessageStore> reopen() = 0;
    // How many things hold message bytes: files in the Maildir tree; objects
    // under the S3 prefix plus files left in the spool directory.
    virtual std::size_t stored_count() = 0;
};

// Regular files under `dir`, at any depth (0 for a missing dir), but locks
// (the S3 store's spool directory holds one while the store lives).
inline std::size_t count_files(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec))
        if (it->is_regular_file() && it->path().filename() != ".lock") ++n;
    return n;
}

class MaildirBackend final : public MessageStoreBackend {
  public:
    explicit MaildirBackend(bool lf) {
        m_options.lf_line_endings = lf;
        m_store = store::open_maildir_store(m_dir.path(), m_options);
    }
    store::MessageStore& store() override { return *m_store; }
    std::unique_ptr<store::MessageStore> reopen() override {
        return store::open_maildir_store(m_dir.path(), m_options);
    }
    std::size_t stored_count() override { return count_files(m_dir.path()); }

  private:
    TempDir m_dir;
    store::MaildirOptions m_options;
    std::unique_ptr<store::MessageStore> m_store;
};

class S3Backend final : public MessageStoreBackend {
  public:
    S3Backend() {
        m_options.client = testing::rgw_config();
        m_options.bucket = testing::rgw_bucket();
        m_options.prefix = testing::unique_prefix("message-store");
        m_options.spool_dir = m_dir / "spool";
        // Small parts, so a test-sized message takes the multipart path.
        m_options.client.multipart_threshold = 6 * s3::kMiB;
        m_options.client.part_size = s3::kMinPartSize;
        m_client.create_bucket(m_options.bucket);
        m_store = store::open_s3_message_store(m_options);
    }
    ~S3Backend() override {
        try {
            for (const auto& key : object_keys()) m_client.delete_object(m_options.bucket, key);
        } catch (const std::exception& e) {
            WARN("could not delete the test objects under " << m_options.prefix << ": "
                                                            << e.what());
        }
    }
    store::MessageStore& store() override { return *m_store; }
    std::unique_ptr<store::MessageStore> reopen() override {
        return store::open_s3_message_store(m_options);
    }
    // What the store was opened with: tests derive broken twins from it.
    const store::S3StoreOptions& options() const { return m_options; }
    // Every object key under the store's prefix, as the bucket lists them.
    std::vector<std::string> object_keys() {
        std::vector<std::string> keys;
        m_client.for_each_object(m_options.bucket, m_options.prefix,
                                 [&](const s3::ListedObject& o) { keys.push_back(o.key); });
        return keys;
    }
    s3::S3Client& client() { return m_client; }
    std::size_t stored_count() override {
        return object_keys().size() + count_files(m_options.spool_dir);
    }

  private:
    TempDir m_dir;
    store::S3StoreOptions m_options;
    s3::S3Client m_client{testing::rgw_config()};
    std::unique_ptr<store::MessageStore> m_store;
};

inline std::unique_ptr<S3Backend> make_s3_backend() {
    if (!testing::have_rgw_env()) return nullptr;
    return std::make_unique<S3Backend>();
}

// nullptr when the backend is missing and the test may skip.
inline std::unique_ptr<MessageStoreBackend> make_message_store_backend(const std::string& name) {
    if (name == "maildir") return std::make_unique<MaildirBackend>(true);
    if (name == "maildir-wire") return std::make_unique<MaildirBackend>(false);
    if (name == "s3") return make_s3_backend();
    FAIL("unknown message store backend " << name);
    return nullptr;
}

}  // namespace imapkeep::test

// Every MessageStore implementation, one run of the test case each.
#define IMAPKEEP_MESSAGE_STORE_BACKEND() \
    GENERATE(as<std::string>{}, "maildir", "maildir-wire", "s3")
// The Maildir ones: for what only a store of files does (renames, moves and
// removals that change where the bytes are).
#define IMAPKEEP_MAILDIR_STORE_BACKEND() GENERATE(as<std::string>{}, "maildir", "maildir-wire")

// `auto var`, a fresh backend of each kind in turn (one run of the test case
// per backend); returns (skips) when the backend is missing and may be.
#define IMAPKEEP_EACH_MESSAGE_STORE(var)                                       \
    const std::string var##_backend_name = IMAPKEEP_MESSAGE_STORE_BACKEND();   \
    INFO("message store backend: " << var##_backend_name);                     \
    auto var = imapkeep::test::make_message_store_backend(var##_backend_name); \
    if (!var) return

// The same over the Maildir backends only.
#define IMAPKEEP_EACH_MAILDIR_STORE(var)                                       \
    const std::string var##_backend_name = IMAPKEEP_MAILDIR_STORE_BACKEND();   \
    INFO("message store backend: " << var##_backend_name);                     \
    auto var = imapkeep::test::make_message_store_backend(var##_backend_name); \
    if (!var) return
