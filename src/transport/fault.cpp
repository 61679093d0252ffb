#include <imapkeep/transport/fault.hpp>

#include <algorithm>
#include <cstring>

namespace imapkeep::transport {

ScriptedStream::ScriptedStream(std::string initial_server_bytes, Responder respond, std::size_t max_chunk)
    : m_pending(std::move(initial_server_bytes)), m_respond(std::move(respond)),
      m_max_chunk(std::max<std::size_t>(max_chunk, 1)) {}

std::size_t ScriptedStream::read_some(std::span<char> buffer) {
    if (m_closed) throw TransportError(TransportError::Kind::Closed, "scripted stream is closed");
    if (buffer.empty()) return 0;
    if (m_pos >= m_pending.size()) {
        if (!m_respond) return 0;
        // Everything written since the last answer; the responder may throw
        // TransportError to simulate a failure at exactly this point.
        std::string client_bytes = m_written.substr(m_unanswered);
        m_unanswered = m_written.size();
        m_pending = m_respond(client_bytes);
        m_pos = 0;
        if (m_pending.empty()) return 0;
    }
    std::size_t n = std::min({buffer.size(), m_max_chunk, m_pending.size() - m_pos});
    std::memcpy(buffer.data(), m_pending.data() + m_pos, n);
    m_pos += n;
    return n;
}

void ScriptedStream::write_all(std::string_view data) {
    if (m_closed) throw TransportError(TransportError::Kind::Closed, "scripted stream is closed");
    m_written.append(data);
}

}  // namespace imapkeep::transport
