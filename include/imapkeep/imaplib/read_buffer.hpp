// Bytes received from the server but not yet consumed by IMAP4::read() or
// readline(). The stream reads straight into the buffer's free tail
// (prepare()/commit()), so a received byte is copied once more at most: into
// the line or literal taken from the front. Consuming moves an offset; the
// unconsumed rest moves to the front only when the tail has no room, and the
// memory is reused for the whole connection, so steady reading allocates and
// faults in nothing (issue 10, scenario 6). Not thread-safe; owned by one IMAP4.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace imaplib::detail {

class ReadBuffer {
  public:
    std::size_t size() const { return m_end - m_pos; }
    bool empty() const { return size() == 0; }
    std::string_view view() const { return std::string_view(m_data.get() + m_pos, size()); }

    void clear() { m_pos = m_end = 0; }

    // Room for at least `room` more bytes after the unconsumed ones; write
    // into (a prefix of) the span, then commit() what was written. The buffer
    // grows only when what is unconsumed plus `room` exceeds it.
    std::span<char> prepare(std::size_t room) {
        if (m_capacity - m_end < room) make_room(room);
        return std::span<char>(m_data.get() + m_end, m_capacity - m_end);
    }
    void commit(std::size_t n) { m_end += std::min(n, m_capacity - m_end); }

    void append(const char* bytes, std::size_t n) {
        std::memcpy(prepare(n).data(), bytes, n);
        commit(n);
    }

    // The first min(n, size()) bytes, removed from the buffer.
    std::string take(std::size_t n) {
        n = std::min(n, size());
        std::string out(m_data.get() + m_pos, n);
        skip(n);
        return out;
    }

    // Puts `bytes` back in front of the unconsumed ones (a read that failed
    // halfway gives back what it took).
    void unread(std::string_view bytes) {
        if (bytes.empty()) return;
        if (m_pos >= bytes.size()) {
            m_pos -= bytes.size();
            std::memcpy(m_data.get() + m_pos, bytes.data(), bytes.size());
            return;
        }
        const std::string rest(view());
        clear();
        append(bytes.data(), bytes.size());
        append(rest.data(), rest.size());
    }

    void skip(std::size_t n) {
        m_pos += std::min(n, size());
        if (m_pos == m_end) clear();
    }

    std::size_t capacity() const { return m_capacity; }

  private:
    static constexpr std::size_t kMinCapacity = 128 * 1024;

    void make_room(std::size_t room) {
        const std::size_t held = size();
        if (m_capacity - held >= room) {
            std::memmove(m_data.get(), m_data.get() + m_pos, held);
        } else {
            // Uninitialised on purpose: every byte is written before it is read.
            const std::size_t capacity = std::max({kMinCapacity, 2 * m_capacity, held + room});
            auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
            if (held > 0) std::memcpy(bigger.get(), m_data.get() + m_pos, held);
            m_data = std::move(bigger);
            m_capacity = capacity;
        }
        m_pos = 0;
        m_end = held;
    }

    std::unique_ptr<char[]> m_data;
    std::size_t m_capacity = 0;
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
};

}  // namespace imaplib::detail
