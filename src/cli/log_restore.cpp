#include "cli/log_restore.hpp"

#include "cli/budget_report.hpp"
#include "cli/report.hpp"

namespace imapkeep::cli {
namespace {

std::string mailbox_line(const archive::RestoreMailboxReport& m, bool dry_run) {
    std::string line = "restore -> " + m.target +
                       (m.create ? (dry_run ? " (would create)" : " (created)") : "") + ": ";
    line += dry_run ? count_of(m.to_append, "message", "messages") + " to append"
                    : count_of(m.appended, "message", "messages") + " appended";
    line += " (" + human_bytes(m.bytes) + "), " + std::to_string(m.already) + " already there";
    if (m.flags_fixed)
        line += ", " + count_of(m.flags_fixed, "message", "messages") + " had flags set again";
    return line;
}

void log_losses(Logger& log, const std::string& account, const archive::RestoreMailboxReport& m) {
    if (!m.skipped.empty()) log.log(LogLevel::Warning, account, m.source, "skipped: " + m.skipped);
    for (const auto& [keyword, count] : m.dropped_keywords)
        log.log(LogLevel::Warning, account, m.source,
                "restored without keyword " + keyword + " (" +
                    count_of(count, "message", "messages") + ")");
    if (m.dates_not_kept)
        log.log(LogLevel::Warning, account, m.source,
                count_of(m.dates_not_kept, "message", "messages") + " without their original date");
}

}  // namespace

void log_restore_report(Logger& log, const archive::RestoreReport& report, bool dry_run) {
    if (!log.active()) return;
    const std::string& account = report.target_account;
    const std::string prefix = dry_run ? "(dry run) " : "";
    std::uint64_t count = 0, failed = 0;
    for (const auto& note : report.notes) log.log(LogLevel::Warning, account, "", note);
    for (const auto& m : report.mailboxes) {
        log.info(account, m.source, prefix + mailbox_line(m, dry_run));
        log_losses(log, account, m);
        if (!m.error.empty()) log.log(LogLevel::Error, account, m.source, m.error);
        for (const auto& f : m.failures)
            log.log(LogLevel::Error, account, m.source,
                    "UID " + std::to_string(f.uid) + " (UIDVALIDITY " +
                        std::to_string(f.uidvalidity) + "): " + f.reason);
        count += dry_run ? m.to_append : m.appended;
        failed += m.failures.size() + (m.error.empty() ? 0 : 1);
    }
    if (!report.error.empty()) log.log(LogLevel::Error, account, "", report.error);
    if (auto line = budget_line(report)) log.log(LogLevel::Warning, account, "", *line);
    log.log(failed || !report.error.empty() ? LogLevel::Warning : LogLevel::Info, account, "",
            prefix + "restore " + report.source_account + " -> " + report.target_account + ": " +
                count_of(report.mailboxes.size(), "mailbox", "mailboxes") + ", " +
                count_of(count, "message", "messages") + (dry_run ? " to append" : " appended") +
                (failed ? ", " + std::to_string(failed) + " failed" : ""));
}

}  // namespace imapkeep::cli
