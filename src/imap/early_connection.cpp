#include <imapkeep/imap/early_connection.hpp>

namespace imapkeep::imap {

EarlyConnection::EarlyConnection(ConnectOptions options, std::chrono::milliseconds fresh)
    : m_fresh(fresh) {
    options.early.reset();  // the thread opens a stream of its own, not this one
    m_opened = std::async(std::launch::async, [options = std::move(options)]() -> Opened {
        try {
            return {open_stream(options), std::chrono::steady_clock::now()};
        } catch (const std::exception&) {
            return {};  // the caller's own connect meets it again, and reports it
        }
    });
}

EarlyConnection::~EarlyConnection() {
    if (m_opened.valid()) m_opened.wait();  // the stream, if any, closes with the future
}

transport::StreamPtr EarlyConnection::take() {
    std::lock_guard lock(m_mutex);
    if (m_taken) return nullptr;
    m_taken = true;
    Opened opened = m_opened.get();
    if (!opened.stream || std::chrono::steady_clock::now() - opened.at > m_fresh) return nullptr;
    return std::move(opened.stream);
}

}  // namespace imapkeep::imap
