// What an upload reads: bytes of a known size that can be read again from any
// offset. The S3 client reads a body twice (once to hash it for
// x-amz-content-sha256, once to send it) and curl may rewind it to resend on a
// fresh connection, so a source must be seekable; a pipe is not.
//
// Contract: read() fills at most `max` bytes from the current position and
// returns 0 only at size(); seek() moves to any offset <= size(). Errors throw
// (std::system_error for files); the client passes them through unchanged.
// A source is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace imapkeep::s3 {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t size() const = 0;
    virtual std::size_t read(char* out, std::size_t max) = 0;
    virtual void seek(std::uint64_t offset) = 0;
};

// Bytes in memory, not owned: they must outlive the source.
class MemorySource : public ByteSource {
  public:
    explicit MemorySource(std::string_view bytes) : m_bytes(bytes) {}
    std::uint64_t size() const override { return m_bytes.size(); }
    std::size_t read(char* out, std::size_t max) override;
    void seek(std::uint64_t offset) override;

  private:
    std::string_view m_bytes;
    std::size_t m_position = 0;
};

// A file, opened read-only at construction (std::system_error if it cannot
// be); its size is taken then, and the file must not change while in use.
class FileSource : public ByteSource {
  public:
    explicit FileSource(const std::string& path);
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;
    std::uint64_t size() const override { return m_size; }
    std::size_t read(char* out, std::size_t max) override;
    void seek(std::uint64_t offset) override;

  private:
    std::string m_path;
    int m_fd = -1;
    std::uint64_t m_size = 0;
    std::uint64_t m_position = 0;
};

}  // namespace imapkeep::s3
