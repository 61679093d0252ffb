#include <imapkeep/archive/mboxrd.hpp>

#include <ctime>

namespace imapkeep::archive {

namespace {
constexpr std::string_view kFrom = "From ";
}

void MboxrdEncoder::flush_prefix(std::string& out) {
    if (m_quotes == 0 && m_matched == 0) return;
    out.append(m_quotes, '>');
    out.append(kFrom.substr(0, m_matched));
    m_quotes = 0;
    m_matched = 0;
    m_last_was_newline = false;
}

void MboxrdEncoder::put(char c, std::string& out) {
    m_any = true;
    if (c == '\n') {
        flush_prefix(out);
        out += '\n';
        m_line_start = true;
        m_last_was_newline = true;
        return;
    }
    if (m_line_start) {
        // Still deciding whether this line matches ^>*From .
        if (c == '>' && m_matched == 0) {
            ++m_quotes;
            return;
        }
        if (c == kFrom[m_matched]) {
            if (++m_matched == kFrom.size()) {
                out += '>';  // the mboxrd quote
                flush_prefix(out);
                m_line_start = false;
            }
            return;
        }
        flush_prefix(out);
        m_line_start = false;
    }
    out += c;
    m_last_was_newline = false;
}

void MboxrdEncoder::feed(std::string_view chunk, std::string& out) {
    for (char c : chunk) {
        if (m_pending_cr) {
            m_pending_cr = false;
            if (c == '\n') {
                put('\n', out);
                continue;
            }
            put('\r', out);  // a lone CR is data
        }
        if (c == '\r') {
            m_pending_cr = true;
            continue;
        }
        put(c, out);
    }
}

void MboxrdEncoder::finish(std::string& out) {
    if (m_pending_cr) {
        m_pending_cr = false;
        put('\r', out);
    }
    flush_prefix(out);
    if (m_any && !m_last_was_newline) out += '\n';
    out += '\n';
    *this = MboxrdEncoder{};
}

std::string mbox_from_line(std::string_view sender, std::int64_t epoch) {
    std::string who;
    for (char c : sender)
        if (static_cast<unsigned char>(c) > 0x20 && c != 0x7F) who += c;
    if (who.empty()) who = "MAILER-DAEMON";
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    return "From " + who + " " + date + "\n";
}

}  // namespace imapkeep::archive
