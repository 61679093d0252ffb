// An APPEND literal fed from a stored message through the store's read API
// (MessageStore::open_read): the server gets the exact bytes it once sent,
// CRLF given back to a message stored with LF, in bounded pieces.
#pragma once

#include <imapkeep/store/message_store.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <string>

namespace imapkeep::archive::detail {

class StoredLiteral : public wire::LiteralSource {
  public:
    // The message `row` names, read under the key `file` (the row's, or
    // where the store found it: MessageSource::file()). `size`: the wire size
    // from the catalog, announced in "{size}". Each write_to opens the
    // message anew (a retried APPEND sends it again), so `messages` must
    // outlive the literal. write_to throws std::runtime_error when the
    // message gives more or fewer bytes, StoreError when it cannot be read.
    StoredLiteral(store::MessageStore& messages, const store::MessageRecord& row, std::string file,
                  std::uint64_t size)
        : m_messages(messages),
          m_file(std::move(file)),
          m_sha256(row.sha256),
          m_form(row.line_endings),
          m_size(size) {}
    std::uint64_t size() const override { return m_size; }
    void write_to(const Sink& sink) const override;
    std::string describe() const override { return m_file; }

  private:
    store::MessageStore& m_messages;
    std::string m_file;
    std::string m_sha256;
    store::LineEndings m_form;
    std::uint64_t m_size;
};

}  // namespace imapkeep::archive::detail
