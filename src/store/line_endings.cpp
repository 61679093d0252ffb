#include <cstring>
#include <imapkeep/store/line_endings.hpp>

namespace imapkeep::store {

std::string_view line_endings_name(LineEndings form) {
    return form == LineEndings::Lf ? "lf" : "wire";
}

std::optional<LineEndings> parse_line_endings(std::string_view name) {
    if (name == "wire") return LineEndings::Wire;
    if (name == "lf") return LineEndings::Lf;
    return std::nullopt;
}

bool CrlfToLf::scan(std::string_view wire) {
    if (!m_pure) return false;
    const char* p = wire.data();
    const char* end = p + wire.size();
    while (p < end) {
        if (m_last_cr) {
            if (*p != '\n') return m_pure = false;  // bare CR
            ++m_pairs;
            m_last_cr = false;
            ++p;
            continue;
        }
        // Most bytes are neither CR nor LF: skip to the next CR quickly.
        const auto* cr =
            static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
        const char* stop = cr ? cr : end;
        if (std::memchr(p, '\n', static_cast<std::size_t>(stop - p)))
            return m_pure = false;  // bare LF
        if (!cr) break;
        m_last_cr = true;
        p = cr + 1;
    }
    return true;
}

bool CrlfToLf::append_lf(std::string_view wire, std::string& out) {
    if (!m_pure) return false;
    const char* p = wire.data();
    const char* end = p + wire.size();
    if (m_last_cr && p < end) {
        if (*p != '\n') return m_pure = false;  // bare CR
        ++m_pairs;
        m_last_cr = false;
        out.push_back('\n');
        ++p;
    }
    while (p < end) {
        const auto* cr =
            static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
        const char* stop = cr ? cr : end;
        if (std::memchr(p, '\n', static_cast<std::size_t>(stop - p)))
            return m_pure = false;  // bare LF
        if (!cr) {
            out.append(p, stop);
            break;
        }
        if (cr + 1 == end) {
            out.append(p, cr);
            m_last_cr = true;
            break;
        }
        if (cr[1] != '\n') return m_pure = false;  // bare CR
        // The line with its CR, which becomes the LF: one append per line.
        out.append(p, cr + 1);
        out.back() = '\n';
        ++m_pairs;
        p = cr + 2;
    }
    return true;
}

std::size_t CrlfToLf::convert(std::string_view wire, std::string& out) {
    std::size_t used = wire.size();
    if (!wire.empty() && wire.back() == '\r') --used;
    std::size_t from = 0;
    while (from < used) {
        std::size_t cr = wire.find('\r', from);
        if (cr == std::string_view::npos || cr >= used) cr = used;
        out.append(wire.substr(from, cr - from));
        from = cr + 1;
    }
    return used;
}

void lf_to_crlf(std::string_view stored, std::string& out) {
    std::size_t from = 0;
    while (from < stored.size()) {
        const std::size_t lf = stored.find('\n', from);
        if (lf == std::string_view::npos) {
            out.append(stored.substr(from));
            return;
        }
        out.append(stored.substr(from, lf - from));
        out.append("\r\n");
        from = lf + 1;
    }
}

}  // namespace imapkeep::store
