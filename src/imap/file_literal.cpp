// FileLiteral: an APPEND body streamed from a file.
#include "imap/file_literal.hpp"

#include <imapkeep/util/files.hpp>

#include <stdexcept>

namespace imapkeep::imap {

// Reads to EOF, not just the announced size: a file that grew since it was
// measured would otherwise be cut short without anyone noticing.
void FileLiteral::write_to(const Sink& sink) const {
    std::uint64_t sent = 0;
    util::for_each_chunk(m_path, kChunk, [&](std::string_view piece) {
        // Checked before sending: a literal never carries more than announced.
        if (piece.size() > m_size - sent)
            throw std::runtime_error(m_path + " is longer than the " + std::to_string(m_size) +
                                     " bytes announced");
        sink(piece);
        sent += piece.size();
    });
    if (sent != m_size)
        throw std::runtime_error(m_path + " has " + std::to_string(sent) + " bytes, not the " +
                                 std::to_string(m_size) + " announced");
}

}  // namespace imapkeep::imap
