// A local scratch file for message bytes read back from S3: anonymous
// (O_TMPFILE, or a name unlinked at once where the file system lacks it), so
// it is gone when closed, also when the process is killed. Writes are
// buffered; reads are positional, so an upload can rewind it.
#pragma once

#include <cstdint>
#include <imapkeep/s3/byte_source.hpp>
#include <string>
#include <string_view>

namespace imapkeep::store::s3store {

// The name prefix of a spool file that briefly has a name (the mkstemp
// fallback, unlinked at once).
inline constexpr const char* kSpoolNamePrefix = "imapkeep-spool-";

class SpoolFile {
  public:
    // Throws StoreError when no file can be made in `dir`.
    explicit SpoolFile(const std::string& dir);
    ~SpoolFile();
    SpoolFile(const SpoolFile&) = delete;
    SpoolFile& operator=(const SpoolFile&) = delete;

    void write(std::string_view bytes);
    // Writes out the buffer: call before reading.
    void flush();
    // Bytes written (buffered ones included).
    std::uint64_t size() const { return m_size; }
    // Up to `max` bytes at `offset` (0 at the end). Throws StoreError.
    std::size_t read_at(std::uint64_t offset, char* out, std::size_t max) const;

  private:
    void write_fully(std::string_view bytes);

    std::string m_dir;
    int m_fd = -1;
    std::string m_buffer;
    std::uint64_t m_size = 0;
};

// An upload body read from a flushed SpoolFile (which must outlive it).
class SpoolByteSource final : public s3::ByteSource {
  public:
    explicit SpoolByteSource(const SpoolFile& file) : m_file(file) {}
    std::uint64_t size() const override { return m_file.size(); }
    std::size_t read(char* out, std::size_t max) override;
    void seek(std::uint64_t offset) override;

  private:
    const SpoolFile& m_file;
    std::uint64_t m_position = 0;
};

}  // namespace imapkeep::store::s3store
