// An APPEND literal fed from a stored message file through the store's one
// reader (store/message_reader.hpp): the server gets the exact bytes it once
// sent, CRLF given back to a file stored with LF, in bounded pieces.
#pragma once

#include <imapkeep/store/line_endings.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <string>

namespace imapkeep::archive::detail {

class StoredLiteral : public wire::LiteralSource {
  public:
    // `size`: the wire size from the catalog, announced in "{size}". write_to
    // throws std::runtime_error when the file gives more or fewer bytes.
    StoredLiteral(std::string path, store::LineEndings form, std::uint64_t size)
        : m_path(std::move(path)), m_form(form), m_size(size) {}
    std::uint64_t size() const override { return m_size; }
    void write_to(const Sink& sink) const override;
    std::string describe() const override { return m_path; }

  private:
    std::string m_path;
    store::LineEndings m_form;
    std::uint64_t m_size;
};

}  // namespace imapkeep::archive::detail
