// Bytes received from the server but not yet consumed by IMAP4::read() or
// readline(). Consuming from the front moves an offset instead of shifting the
// rest of the buffer: erasing the front of a std::string for every line copied
// up to 64 KiB per line, a third of the library's time on a FETCH of 20k
// messages (issue 10, scenario 6). Not thread-safe; owned by one IMAP4.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace imaplib::detail {

class ReadBuffer {
  public:
    std::size_t size() const { return m_data.size() - m_pos; }
    bool empty() const { return size() == 0; }
    std::string_view view() const { return std::string_view(m_data).substr(m_pos); }

    void clear() {
        m_data.clear();
        m_pos = 0;
    }

    // Drops the consumed front once it is most of the buffer, so the buffer
    // stays about as large as what is unconsumed plus one read.
    void append(const char* bytes, std::size_t n) {
        if (m_pos > 0 && m_pos >= m_data.size() / 2) {
            m_data.erase(0, m_pos);
            m_pos = 0;
        }
        m_data.append(bytes, n);
    }

    // The first min(n, size()) bytes, removed from the buffer.
    std::string take(std::size_t n) {
        n = std::min(n, size());
        if (m_pos == 0 && n == m_data.size()) {
            std::string all = std::move(m_data);
            clear();
            return all;
        }
        std::string out = m_data.substr(m_pos, n);
        m_pos += n;
        if (m_pos == m_data.size()) clear();
        return out;
    }

    void skip(std::size_t n) {
        m_pos += std::min(n, size());
        if (m_pos == m_data.size()) clear();
    }

  private:
    std::string m_data;
    std::size_t m_pos = 0;
};

}  // namespace imaplib::detail
