// A literal whose bytes come from a file, read in bounded chunks while they
// are sent (private to the client): an APPEND body is never held whole.
#pragma once

#include <imapkeep/wire/encoder.hpp>
#include <string>

namespace imapkeep::imap {

class FileLiteral : public wire::LiteralSource {
  public:
    static constexpr std::size_t kChunk = 64 * 1024;

    // `size` is the length announced in "{size}": the file must still have it
    // when it is sent (write_to throws otherwise).
    FileLiteral(std::string path, std::uint64_t size) : m_path(std::move(path)), m_size(size) {}
    std::uint64_t size() const override { return m_size; }
    void write_to(const Sink& sink) const override;
    std::string describe() const override { return m_path; }

  private:
    std::string m_path;
    std::uint64_t m_size;
};

}  // namespace imapkeep::imap
