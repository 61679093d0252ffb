// The store contract tests for MessageStore run on every implementation: each
// test case asks for IMAPKEEP_MESSAGE_STORE_BACKEND(), Catch2 runs it once per
// entry, and make_message_store_backend() gives a fresh, empty store of that
// kind:
// - "maildir": the Maildir++ store in a temp dir, pure-CRLF messages kept
//   with LF (the default);
// - "maildir-wire": the same, every message byte for byte.
// A backend that needs a server (S3) returns nullptr when it is missing and
// may be skipped, like catalog_backends.hpp.
#pragma once

#include <catch2/catch.hpp>
#include <imapkeep/store/message_store.hpp>
#include <memory>
#include <string>

#include "temp_dir.hpp"

namespace imapkeep::test {

class MessageStoreBackend {
  public:
    virtual ~MessageStoreBackend() = default;
    virtual store::MessageStore& store() = 0;
    // The same store opened again, as another process would (a restore after
    // the backup that wrote it).
    virtual std::unique_ptr<store::MessageStore> reopen() = 0;
};

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

  private:
    TempDir m_dir;
    store::MaildirOptions m_options;
    std::unique_ptr<store::MessageStore> m_store;
};

// nullptr when the backend is missing and the test may skip.
inline std::unique_ptr<MessageStoreBackend> make_message_store_backend(const std::string& name) {
    if (name == "maildir") return std::make_unique<MaildirBackend>(true);
    if (name == "maildir-wire") return std::make_unique<MaildirBackend>(false);
    FAIL("unknown message store backend " << name);
    return nullptr;
}

}  // namespace imapkeep::test

// Every MessageStore implementation, one run of the test case each.
#define IMAPKEEP_MESSAGE_STORE_BACKEND() GENERATE(as<std::string>{}, "maildir", "maildir-wire")

// `auto var`, a fresh backend of each kind in turn (one run of the test case
// per backend); returns (skips) when the backend is missing and may be.
#define IMAPKEEP_EACH_MESSAGE_STORE(var)                                       \
    const std::string var##_backend_name = IMAPKEEP_MESSAGE_STORE_BACKEND();   \
    INFO("message store backend: " << var##_backend_name);                     \
    auto var = imapkeep::test::make_message_store_backend(var##_backend_name); \
    if (!var) return
