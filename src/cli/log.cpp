#include "cli/log.hpp"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace imapkeep::cli {

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629 §4), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F))
        return 0;  // overlong, surrogate, or above U+10FFFF
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

void append_hex(std::string& out, unsigned char c) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "\\x%02X", c);
    out += buffer;
}

std::string escaped(std::string_view s, bool quote_marks) {
    std::string out;
    out.reserve(s.size() + 2);
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            if (auto n = utf8_length(s, i)) {
                out.append(s.substr(i, n));
                i += n;
            } else {
                append_hex(out, c);
                ++i;
            }
            continue;
        }
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += quote_marks ? "\\\"" : "\"";
                break;
            default:
                if (c < 0x20 || c == 0x7F)
                    append_hex(out, c);
                else
                    out += static_cast<char>(c);
        }
        ++i;
    }
    return out;
}

std::string iso8601_millis(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[40];
    std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buffer;
}

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::Info:
            return LOG_INFO;
        case LogLevel::Warning:
            return LOG_WARNING;
        case LogLevel::Error:
            return LOG_ERR;
    }
    return LOG_INFO;
}

}  // namespace

const char* log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::Info:
            return "info";
        case LogLevel::Warning:
            return "warning";
        case LogLevel::Error:
            return "error";
    }
    return "info";
}

std::string log_quote(std::string_view value) { return "\"" + escaped(value, true) + "\""; }

std::string log_escape(std::string_view text) { return escaped(text, false); }

std::string format_log_line(std::chrono::system_clock::time_point when, LogLevel level,
                            std::string_view account, std::string_view mailbox,
                            std::string_view message, bool with_time) {
    std::string line;
    if (with_time) line = iso8601_millis(when) + " ";
    line += log_level_name(level);
    if (!account.empty()) line += " account=" + log_quote(account);
    if (!mailbox.empty()) line += " mailbox=" + log_quote(mailbox);
    line += " " + log_escape(message);
    return line;
}

bool syslog_wanted(std::string_view mode, bool err_is_terminal) {
    if (mode == "yes") return true;
    if (mode == "no") return false;
    return !err_is_terminal;
}

Logger::~Logger() {
    if (m_fd >= 0) ::close(m_fd);
    if (m_syslog) ::closelog();
}

void Logger::open_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        throw std::runtime_error(path + ": cannot open the log file: " + std::strerror(errno));
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
}

void Logger::use_syslog() {
    ::openlog("imapkeep", LOG_PID, LOG_MAIL);
    m_syslog = true;
}

void Logger::log(LogLevel level, std::string_view account, std::string_view mailbox,
                 std::string_view message) {
    if (!active()) return;
    const auto now = std::chrono::system_clock::now();
    std::lock_guard lock(m_mutex);
    if (m_fd >= 0) {
        const std::string line = format_log_line(now, level, account, mailbox, message) + "\n";
        // One write: O_APPEND keeps lines of concurrent runs whole. A log that
        // cannot be written must not stop a backup.
        while (::write(m_fd, line.data(), line.size()) < 0 && errno == EINTR) {
        }
    }
    if (m_syslog)
        ::syslog(syslog_priority(level), "%s",
                 format_log_line(now, level, account, mailbox, message, false).c_str());
}

}  // namespace imapkeep::cli
