#include "cli/log_report.hpp"

#include "cli/report.hpp"

namespace imapkeep::cli {

void log_reports(Logger& log, const std::vector<sync::AccountReport>& reports, bool dry_run) {
    if (!log.active()) return;
    const std::string prefix = dry_run ? "(dry run) " : "";
    for (const auto& account : reports) {
        const std::string& a = account.account;
        if (account.connect_failed) {
            log.log(LogLevel::Error, a, "", "cannot connect: " + account.error);
            continue;
        }
        for (const auto& m : account.mailboxes) {
            if (!has_news(m)) continue;  // counted in the account's line
            log.info(a, m.name, prefix + mailbox_summary(m));
            for (const auto& e : m.errors) log.log(LogLevel::Error, a, m.name, e);
            for (const auto& w : m.warnings) log.log(LogLevel::Warning, a, m.name, w);
        }
        if (!account.error.empty()) log.log(LogLevel::Error, a, "", account.error);
        for (const auto& p : account.unmatched_patterns)
            log.log(LogLevel::Warning, a, "",
                    "--mailbox " + p + " matches no mailbox on the server");
        log.info(a, "", prefix + account_summary(account));
    }
}

LogTee::Buffer::Buffer(std::ostream* echo, Logger* log, LogLevel level, std::string account)
    : m_echo(echo), m_log(log), m_level(level), m_account(std::move(account)) {}

LogTee::Buffer::int_type LogTee::Buffer::overflow(int_type c) {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    if (m_echo) m_echo->put(ch);
    if (ch == '\n')
        flush_line();
    else
        m_line += ch;
    return c;
}

void LogTee::Buffer::flush_line() {
    if (m_line.empty()) return;
    std::string_view text = m_line;
    if (text.rfind("imapkeep: ", 0) == 0) text.remove_prefix(10);
    // "work: files: ..." (verify): the account is the line's own field.
    if (!m_account.empty() && text.size() > m_account.size() + 2 && text.rfind(m_account + ": ", 0) == 0)
        text.remove_prefix(m_account.size() + 2);
    if (m_log) m_log->log(m_level, m_account, "", text);
    m_line.clear();
}

LogTee::LogTee(std::ostream* echo, Logger* log, LogLevel level, std::string account)
    : std::ostream(nullptr), m_buffer(echo, log, level, std::move(account)) {
    rdbuf(&m_buffer);
}

LogTee::~LogTee() { m_buffer.flush_line(); }

}  // namespace imapkeep::cli
