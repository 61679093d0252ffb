#include "archive/stored_literal.hpp"

#include <stdexcept>

namespace imapkeep::archive::detail {

// Reads to the end, not just the announced size: a message that changed since
// it was checked would otherwise be cut short without anyone noticing.
void StoredLiteral::write_to(const Sink& sink) const {
    auto source = m_messages.open_read({m_file, m_sha256, m_form});
    std::uint64_t sent = 0;
    for (auto piece = source->next(); !piece.empty(); piece = source->next()) {
        // Checked before sending: a literal never carries more than announced.
        if (piece.size() > m_size - sent)
            throw std::runtime_error(source->file() + " gives more than the " +
                                     std::to_string(m_size) + " bytes announced");
        sink(piece);
        sent += piece.size();
    }
    if (sent != m_size)
        throw std::runtime_error(source->file() + " gives " + std::to_string(sent) +
                                 " bytes, not the " + std::to_string(m_size) + " announced");
}

}  // namespace imapkeep::archive::detail
