#include "cli/budget_report.hpp"

#include "cli/report.hpp"
#include "sync/throttle.hpp"

namespace imapkeep::cli {

std::optional<std::string> budget_line(const sync::AccountReport& account) {
    if (!account.budget_reached && account.messages_left() == 0) return std::nullopt;
    const std::string left = std::to_string(account.messages_left()) +
                             (account.messages_left() == 1 ? " message left" : " messages left");
    if (account.budget_reason == "daily_download_mb" || account.budget_reason.empty())
        return "budget reached, " + left + ", resumes next run";
    // Stopped by the server: what was not looked at is not counted (a
    // refused LIST counts nothing at all).
    const std::string server_left = !account.messages_left_uncounted ? left
                                    : account.messages_left() == 0   ? "messages left (not counted yet)"
                                                                     : "at least " + left;
    if (sync::still_throttled(account.budget_reason))
        return "the server kept throttling (" + account.budget_reason + "), " + server_left + ", resumes next run";
    return "the server's daily limit is reached (" + account.budget_reason + "), " + server_left +
           ", resumes next run";
}

nlohmann::json budget_json(const sync::AccountReport& account) {
    return {
        {"reached", account.budget_reached},
        {"reason", account.budget_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(account.budget_reason)},
        {"used_today", account.budget_used},
        {"limit", account.budget_limit},
        {"messages_left", account.messages_left()},
        {"bytes_left", account.bytes_left()},
        {"messages_left_uncounted", account.messages_left_uncounted},
        {"throttle_waits", account.throttle_waits},
    };
}

namespace {

// "3 messages left (3.0 MB)", or "nothing sent" when the target stopped the
// run before anything was counted (at login).
std::string restore_left(const archive::RestoreReport& restore) {
    if (restore.left_uncounted && restore.messages_left() == 0) return "nothing sent";
    const auto left = restore.messages_left();
    return std::to_string(left) + (left == 1 ? " message left (" : " messages left (") +
           human_bytes(restore.bytes_left()) + ")";
}

const char* left_for_name(archive::RestoreReport::LeftFor left_for) {
    using LeftFor = archive::RestoreReport::LeftFor;
    switch (left_for) {
        case LeftFor::UploadBudget:
            return "daily_upload_mb";
        case LeftFor::TargetDailyLimit:
            return "target_daily_limit";
        case LeftFor::TargetFull:
            return "target_full";
        case LeftFor::TargetThrottling:
            return "target_throttling";
    }
    return "daily_upload_mb";
}

}  // namespace

std::optional<std::string> budget_line(const archive::RestoreReport& restore) {
    if (!restore.budget_reached) return std::nullopt;
    using LeftFor = archive::RestoreReport::LeftFor;
    switch (restore.left_for) {
        case LeftFor::TargetDailyLimit:
            return "the target's daily limit is reached (" + restore.budget_reason + "), " +
                   restore_left(restore) + ", resumes next run";
        case LeftFor::TargetThrottling:
            return "the target kept throttling (" + restore.budget_reason + "), " +
                   restore_left(restore) + ", resumes next run";
        case LeftFor::TargetFull:
            // No new day empties a full mailbox: the user has to make room.
            return "the target is over its quota (" + restore.budget_reason + "), " +
                   restore_left(restore) +
                   ": free space on the target or raise its quota, then run restore again; it "
                   "resumes where it "
                   "stopped";
        case LeftFor::UploadBudget:
            break;
    }
    return "daily upload budget reached (" + human_bytes(restore.budget_used) + " of " +
           human_bytes(restore.budget_limit) + " uploaded to " + restore.target_account +
           " today), " + restore_left(restore) +
           ", resumes after 00:00 UTC: run restore again then";
}

nlohmann::json budget_json(const archive::RestoreReport& restore) {
    return {
        {"reached", restore.budget_reached},
        {"kind", restore.budget_reached ? nlohmann::json(left_for_name(restore.left_for))
                                        : nlohmann::json(nullptr)},
        {"reason", restore.budget_reason.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(restore.budget_reason)},
        {"used_today", restore.budget_used},
        {"limit", restore.budget_limit},
        {"messages_left", restore.messages_left()},
        {"bytes_left", restore.bytes_left()},
        {"messages_left_uncounted", restore.left_uncounted},
    };
}

std::optional<std::uint64_t> budget_eta_days(std::uint64_t bytes_left, std::uint64_t daily_budget) {
    if (daily_budget == 0) return std::nullopt;
    return (bytes_left + daily_budget - 1) / daily_budget;
}

}  // namespace imapkeep::cli
