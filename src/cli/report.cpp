#include "cli/report.hpp"

#include <imapkeep/util/utf8.hpp>

#include "cli/budget_report.hpp"
#include "cli/exit_codes.hpp"

#include <cstdio>
#include <ctime>

namespace imapkeep::cli {

// The JSON name of a connection failure's kind.
sync::AccountReport failed_account(const std::string& name, const std::exception& e) {
    sync::AccountReport report;
    report.account = name;
    report.error = e.what();
    if (auto* ce = dynamic_cast<const imap::ConnectError*>(&e)) {
        report.connect_failed = true;
        report.error_kind = ce->kind();
        report.transient = ce->transient();
    }
    return report;
}

const char* connect_error_kind_name(imap::ConnectError::Kind kind) {
    switch (kind) {
    case imap::ConnectError::Kind::Network: return "network";
    case imap::ConnectError::Kind::Tls: return "tls";
    case imap::ConnectError::Kind::HostKey: return "hostkey";
    case imap::ConnectError::Kind::Auth: return "auth";
    case imap::ConnectError::Kind::Protocol: return "protocol";
    }
    return "unknown";
}

namespace {

struct Totals {
    std::uint64_t mailboxes = 0, new_messages = 0, adopted = 0, flag_changes = 0, expunged = 0, bytes = 0,
                  failed = 0;
    double seconds = 0;
};

Totals totals_of(const sync::AccountReport& account) {
    Totals t;
    for (const auto& m : account.mailboxes) {
        ++t.mailboxes;
        t.new_messages += m.new_messages;
        t.adopted += m.adopted;
        t.flag_changes += m.flag_changes;
        t.expunged += m.expunged;
        t.bytes += m.bytes;
        t.seconds += m.seconds;
        if (m.failed()) ++t.failed;
    }
    return t;
}

std::string seconds_text(double s) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f s", s);
    return buffer;
}

}  // namespace

std::string count_of(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string json_text(const nlohmann::json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string iso8601_utc(std::int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string human_bytes(std::uint64_t bytes) {
    static const char* const kUnits[] = {"B", "KB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char buffer[32];
    if (unit == 0)
        std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
    return buffer;
}

nlohmann::json mailbox_json(const sync::MailboxReport& m) {
    return {
        {"name", m.name},
        {"path", m.path},
        {"new", m.new_messages},
        {"adopted", m.adopted},
        {"flag_changes", m.flag_changes},
        {"expunged", m.expunged},
        {"bytes", m.bytes},
        {"seconds", m.seconds},
        {"errors", m.errors},
        {"warnings", m.warnings},
        {"created", m.created},
        {"deleted", m.deleted},
        {"renamed_from", m.renamed ? nlohmann::json(m.renamed_from) : nlohmann::json(nullptr)},
        {"uidvalidity_reset", m.uidvalidity_reset},
        {"deferred", m.deferred},
        {"labels", m.labels},
        {"skipped", m.skipped.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.skipped)},
    };
}

bool has_news(const sync::MailboxReport& m) {
    return m.new_messages || m.adopted || m.flag_changes || m.expunged || m.created || m.deleted || m.renamed ||
           m.uidvalidity_reset || !m.errors.empty() || !m.warnings.empty() || !m.skipped.empty();
}

nlohmann::json account_json(const sync::AccountReport& account, ReportDetail detail) {
    Totals t = totals_of(account);
    nlohmann::json mailboxes = nlohmann::json::array();
    std::uint64_t quiet = 0;
    for (const auto& m : account.mailboxes) {
        if (detail == ReportDetail::News && !has_news(m))
            ++quiet;
        else
            mailboxes.push_back(mailbox_json(m));
    }
    bool has_error = !account.error.empty();
    nlohmann::json out = {
        {"name", account.account},
        {"error", has_error ? nlohmann::json(account.error) : nlohmann::json(nullptr)},
        {"error_kind", account.connect_failed ? nlohmann::json(connect_error_kind_name(account.error_kind))
                                              : nlohmann::json(nullptr)},
        {"transient", has_error && account.transient},
        {"totals",
         {{"mailboxes", t.mailboxes},
          {"new", t.new_messages},
          {"adopted", t.adopted},
          {"flag_changes", t.flag_changes},
          {"expunged", t.expunged},
          {"bytes", t.bytes},
          {"failed", t.failed}}},
        {"mailboxes", mailboxes},
        {"unmatched_patterns", account.unmatched_patterns},
        {"budget", budget_json(account)},
    };
    if (detail == ReportDetail::News) out["quiet_mailboxes"] = quiet;
    return out;
}

nlohmann::json run_report_json(const RunInfo& run, const std::vector<sync::AccountReport>& reports,
                               ReportDetail detail) {
    nlohmann::json accounts = nlohmann::json::array();
    for (const auto& a : reports) accounts.push_back(account_json(a, detail));
    return {
        {"command", run.command},
        {"started_at", iso8601_utc(run.started_at)},
        {"finished_at", iso8601_utc(run.finished_at)},
        {"seconds", run.seconds},
        {"dry_run", run.dry_run},
        {"exit_code", run.exit_code},
        {"status", run_status_for(run.exit_code)},
        {"accounts", accounts},
    };
}

// Gmail, a store from before Gmail support: the stored copies All Mail took
// over (sync::MailboxReport::adopted).
static std::string adopted_text(std::uint64_t adopted) {
    return std::to_string(adopted) + " already stored (label folders), not downloaded";
}

std::string mailbox_summary(const sync::MailboxReport& m) {
    if (!m.skipped.empty()) return "skipped: " + m.skipped;
    std::string text = m.path + ", " + std::to_string(m.new_messages) + " new (" + human_bytes(m.bytes) + "), " +
                       count_of(m.flag_changes, "flag change", "flag changes") + ", " +
                       std::to_string(m.expunged) + " expunged, " + seconds_text(m.seconds);
    if (m.adopted) text += ", " + adopted_text(m.adopted);
    if (m.created) text += ", new mailbox";
    if (m.deleted) text += ", deleted on the server";
    if (m.renamed) text += ", renamed from " + m.renamed_from;
    if (m.uidvalidity_reset) text += ", UIDVALIDITY reset";
    if (!m.labels.empty()) {
        text += ", only the messages labelled";
        for (std::size_t i = 0; i < m.labels.size(); ++i) text += (i ? ", " : " ") + m.labels[i];
    }
    return text;
}

std::string account_summary(const sync::AccountReport& account) {
    Totals t = totals_of(account);
    std::string text = count_of(t.mailboxes, "mailbox", "mailboxes") + ", " + std::to_string(t.new_messages) +
                       " new (" + human_bytes(t.bytes) + "), " +
                       count_of(t.flag_changes, "flag change", "flag changes") + ", " +
                       std::to_string(t.expunged) + " expunged";
    if (t.adopted) text += ", " + adopted_text(t.adopted);
    if (t.failed) text += "; " + std::to_string(t.failed) + " failed";
    return text;
}

void print_summary(std::ostream& out, std::ostream& err, const std::vector<sync::AccountReport>& reports,
                   Verbosity verbosity, bool dry_run) {
    const std::string prefix = dry_run ? "(dry run) " : "";
    for (const auto& account : reports) {
        if (account.connect_failed) {
            err << account.account << ": cannot connect: " << util::printable_utf8(account.error) << "\n";
            continue;
        }
        if (verbosity == Verbosity::Verbose)
            for (const auto& m : account.mailboxes)
                out << prefix << account.account << ": " << util::printable_utf8(m.name) << ": "
                    << util::printable_utf8(mailbox_summary(m)) << "\n";
        if (verbosity != Verbosity::Quiet) out << prefix << account.account << ": " << account_summary(account) << "\n";
        for (const auto& m : account.mailboxes)
            for (const auto& e : m.errors)
                err << account.account << ": " << util::printable_utf8(m.name) << ": " << util::printable_utf8(e)
                    << "\n";
        if (!account.error.empty()) err << account.account << ": " << util::printable_utf8(account.error) << "\n";
        // A note, not an error: once per run, and not under -q.
        if (verbosity != Verbosity::Quiet && verbosity != Verbosity::Verbose)
            for (const auto& m : account.mailboxes)
                if (!m.skipped.empty())
                    out << prefix << account.account << ": " << util::printable_utf8(m.name) << ": "
                        << util::printable_utf8(mailbox_summary(m)) << "\n";
        // Notes too: what was done that the user should know, not a failure.
        if (verbosity != Verbosity::Quiet)
            for (const auto& m : account.mailboxes)
                for (const auto& w : m.warnings)
                    out << prefix << account.account << ": " << util::printable_utf8(m.name)
                        << ": warning: " << util::printable_utf8(w) << "\n";
        for (const auto& p : account.unmatched_patterns)
            err << account.account << ": --mailbox " << util::printable_utf8(p)
                << " matches no mailbox on the server\n";
        if (auto line = budget_line(account)) err << account.account << ": " << util::printable_utf8(*line) << "\n";
    }
}

}  // namespace imapkeep::cli
