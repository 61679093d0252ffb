#include "cli/retry.hpp"

#include <algorithm>
#include <cmath>
#include <imapkeep/util/utf8.hpp>
#include <sstream>
#include <thread>

#include "cli/report.hpp"

namespace imapkeep::cli {

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry) {
    double seconds = std::max(0.0, policy.delay_seconds) * std::pow(2.0, std::max(0, retry - 1));
    seconds = std::min(seconds, RetryPolicy::kMaxDelaySeconds);
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

std::optional<std::string> retry_cause(const sync::AccountReport& report) {
    if (!report.error.empty()) {
        if (report.transient) return report.error;
        return std::nullopt;  // authentication, TLS, host key, protocol
    }
    for (const auto& m : report.mailboxes)
        if (m.connection_lost && !m.errors.empty()) return m.name + ": " + m.errors.front();
    return std::nullopt;
}

std::optional<std::string> retry_cause(const archive::RestoreReport& report) {
    if (!report.error.empty() && report.transient) return report.error;
    return std::nullopt;
}

std::string seconds_text(std::chrono::milliseconds delay) {
    std::ostringstream text;
    text << static_cast<double>(delay.count()) / 1000 << " s";
    return text.str();
}

RetryOutcome run_with_retries(const RetryPolicy& policy, const std::string& what,
                              const Attempt& attempt, std::ostream* log, const Sleep& sleep) {
    const int attempts = 1 + std::max(0, policy.retries);
    RetryOutcome outcome;
    for (int n = 1;; ++n) {
        outcome.attempts = n;
        auto cause = attempt(n);
        if (!cause) return outcome;
        if (n == attempts) {
            outcome.gave_up = cause;
            return outcome;
        }
        const auto delay = retry_delay(policy, n);
        if (log)
            *log << "imapkeep: " << what << ": attempt " << n << " of " << attempts << " failed ("
                 << *cause << "); trying again in " << seconds_text(delay) << "\n";
        sleep(delay);
    }
}

RetryOutcome run_with_retries_logged(const RetryPolicy& policy, const std::string& what,
                                     const Attempt& attempt, std::ostream& err, bool quiet) {
    auto outcome =
        run_with_retries(policy, what, attempt, quiet ? nullptr : &err,
                         [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); });
    if (outcome.gave_up && outcome.attempts > 1)
        err << "imapkeep: " << what << ": gave up after " << outcome.attempts
            << " attempts: " << util::printable_utf8(*outcome.gave_up) << "\n";
    return outcome;
}

Sleep stoppable_sleep(const std::atomic<bool>* stop) {
    return [stop](std::chrono::milliseconds delay) {
        using Clock = std::chrono::steady_clock;
        constexpr auto kSlice = std::chrono::milliseconds(100);
        const auto until = Clock::now() + delay;
        while (Clock::now() < until) {
            if (stop && stop->load()) throw sync::StopRequested{};
            std::this_thread::sleep_for(std::min<Clock::duration>(kSlice, until - Clock::now()));
        }
    };
}

RetriedBackup backup_with_retries(const std::string& account,
                                  const std::function<sync::AccountReport()>& backup,
                                  const RetryPolicy& policy, const std::atomic<bool>* stop,
                                  std::ostream* log) {
    RetriedBackup run;
    auto attempt = [&](int n) {
        if (stop && stop->load()) throw sync::StopRequested{};
        sync::AccountReport r;
        try {
            r = backup();
        } catch (const sync::StopRequested&) {
            throw;
        } catch (const std::exception& e) {
            r = failed_account(account, e);
        }
        if (n > 1) merge_earlier_attempt(r, run.report);
        run.report = std::move(r);
        return retry_cause(run.report);
    };
    run.outcome =
        run_with_retries(policy, "backup " + account, attempt, log, stoppable_sleep(stop));
    return run;
}

namespace {

template <typename Report, typename Key>
Report* find_by(std::vector<Report>& reports, const Key& key, Key Report::*field) {
    auto it = std::find_if(reports.begin(), reports.end(),
                           [&](const Report& r) { return r.*field == key; });
    return it == reports.end() ? nullptr : &*it;
}

void add_counts(sync::MailboxReport& later, const sync::MailboxReport& earlier) {
    later.new_messages += earlier.new_messages;
    later.flag_changes += earlier.flag_changes;
    later.expunged += earlier.expunged;
    later.bytes += earlier.bytes;
    later.seconds += earlier.seconds;
    later.created = later.created || earlier.created;
    later.deleted = later.deleted || earlier.deleted;
    later.uidvalidity_reset = later.uidvalidity_reset || earlier.uidvalidity_reset;
    if (earlier.renamed && !later.renamed) {
        later.renamed = true;
        later.renamed_from = earlier.renamed_from;
    }
    // The later attempt found nothing left to do because the earlier one did it.
    if (later.path == "unchanged" && !earlier.path.empty()) later.path = earlier.path;
}

void add_counts(archive::RestoreMailboxReport& later,
                const archive::RestoreMailboxReport& earlier) {
    // What the earlier attempt appended, the later one found journaled.
    later.already -= std::min(later.already, earlier.appended);
    later.to_append += earlier.appended;
    later.appended += earlier.appended;
    later.bytes += earlier.bytes;
    later.flags_fixed += earlier.flags_fixed;
    later.dates_not_kept += earlier.dates_not_kept;
    later.create = later.create || earlier.create;
    for (const auto& [keyword, count] : earlier.dropped_keywords)
        later.dropped_keywords[keyword] += count;
}

template <typename Report, typename Mailbox, typename Key>
void merge_mailboxes(Report& later, const Report& earlier, Key Mailbox::*key) {
    for (const auto& e : earlier.mailboxes) {
        if (Mailbox* l = find_by(later.mailboxes, e.*key, key))
            add_counts(*l, e);
        else
            later.mailboxes.push_back(e);  // not reached again: its state is the earlier one's
    }
}

}  // namespace

void merge_earlier_attempt(sync::AccountReport& later, const sync::AccountReport& earlier) {
    merge_mailboxes(later, earlier, &sync::MailboxReport::name);
    if (!earlier.connect_failed) later.connect_failed = false;
}

void merge_earlier_attempt(archive::RestoreReport& later, const archive::RestoreReport& earlier) {
    merge_mailboxes(later, earlier, &archive::RestoreMailboxReport::source);
    later.notes.insert(later.notes.begin(), earlier.notes.begin(), earlier.notes.end());
    later.throttle_waits += earlier.throttle_waits;
    if (!earlier.connect_failed) later.connect_failed = false;
}

}  // namespace imapkeep::cli
