// One S3 object read back as a MessageSource (message_source.hpp). The client
// pushes the body to a sink while MessageSource is pulled, so the body is
// fetched first: into memory up to kSpillAt, into an anonymous spool file
// beyond, so memory stays bounded whatever the size.
#pragma once

#include <cstdint>
#include <imapkeep/store/message_source.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "store/s3/spool_file.hpp"

namespace imapkeep::store::s3store {

inline constexpr std::size_t kSpillAt = 1024 * 1024;

// Receives the body (feed it to append()), then serves it in pieces of at most
// kReadChunk bytes.
class ObjectSource final : public MessageSource {
  public:
    ObjectSource(std::string spool_dir, std::string name)
        : m_spool_dir(std::move(spool_dir)), m_name(std::move(name)) {}

    // The next bytes of the body, in order. Throws StoreError (spool I/O).
    void append(std::string_view bytes);
    // After the last append().
    void finish();

    std::string_view next() override;
    const std::string& file() const override { return m_name; }

  private:
    std::string m_spool_dir;
    std::string m_name;
    std::string m_memory;                // the body, while below kSpillAt
    std::unique_ptr<SpoolFile> m_spool;  // the body, once it got bigger
    std::uint64_t m_position = 0;
    std::unique_ptr<char[]> m_buffer;
};

}  // namespace imapkeep::store::s3store
