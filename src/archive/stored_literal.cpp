#include "archive/stored_literal.hpp"

#include <imapkeep/store/message_reader.hpp>
#include <stdexcept>

namespace imapkeep::archive::detail {

// Reads to EOF, not just the announced size: a file that changed since it was
// checked would otherwise be cut short without anyone noticing.
void StoredLiteral::write_to(const Sink& sink) const {
    std::uint64_t sent = 0;
    store::read_original(m_path, m_form, [&](std::string_view piece) {
        // Checked before sending: a literal never carries more than announced.
        if (piece.size() > m_size - sent)
            throw std::runtime_error(m_path + " gives more than the " + std::to_string(m_size) +
                                     " bytes announced");
        sink(piece);
        sent += piece.size();
    });
    if (sent != m_size)
        throw std::runtime_error(m_path + " gives " + std::to_string(sent) + " bytes, not the " +
                                 std::to_string(m_size) + " announced");
}

}  // namespace imapkeep::archive::detail
