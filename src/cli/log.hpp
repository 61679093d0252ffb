// The run log (issue 11 "Logging"): --log-file / log_file appends one line per
// event, and syslog (facility LOG_MAIL, ident "imapkeep", journald collects it)
// gets the same lines when stderr is not a terminal (syslog = "auto").
//
// A line:
//   2026-11-30T04:53:17.123Z warning account="work" mailbox="A \"b\"" text
// - the time is ISO 8601 UTC with milliseconds (syslog lines omit it: syslog
//   stamps its own);
// - the level is info, warning or error;
// - account= and mailbox= appear on every line that has them, quoted, with \",
//   \\, control bytes (\n, \r, \t, \xNN) and invalid UTF-8 escaped, so no name
//   can forge a line or a field;
// - the message has the same escapes (no quotes): one event, one line.
//
// Thread safety: log() may be called from any thread; each line is one
// write(2) on an O_APPEND descriptor, so concurrent runs never interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace imapkeep::cli {

enum class LogLevel { Info, Warning, Error };
const char* log_level_name(LogLevel level);

// "work" -> "\"work\"", with the escapes above.
std::string log_quote(std::string_view value);
// The message: the escapes above, no quotes.
std::string log_escape(std::string_view text);

// One line without the trailing newline; the time is left out when `with_time`
// is false (syslog).
std::string format_log_line(std::chrono::system_clock::time_point when, LogLevel level,
                            std::string_view account, std::string_view mailbox,
                            std::string_view message, bool with_time = true);

// When syslog gets the lines: "auto" (stderr is not a terminal: cron,
// systemd), "yes", "no".
bool syslog_wanted(std::string_view mode, bool err_is_terminal);

class Logger {
  public:
    Logger() = default;  // logs nowhere until open_file / use_syslog
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // Opens `path` for appending (O_APPEND|O_CLOEXEC, created mode 0600).
    // Throws std::runtime_error naming the path and the reason.
    void open_file(const std::string& path);
    // openlog("imapkeep", LOG_PID, LOG_MAIL).
    void use_syslog();
    bool active() const { return m_fd >= 0 || m_syslog; }

    void log(LogLevel level, std::string_view account, std::string_view mailbox,
             std::string_view message);
    void info(std::string_view account, std::string_view mailbox, std::string_view message) {
        log(LogLevel::Info, account, mailbox, message);
    }

  private:
    int m_fd = -1;
    bool m_syslog = false;
    std::mutex m_mutex;
};

}  // namespace imapkeep::cli
