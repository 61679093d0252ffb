#include "cli/budget_report.hpp"

#include "cli/report.hpp"

namespace imapkeep::cli {

std::optional<std::string> budget_line(const sync::AccountReport& account) {
    if (!account.budget_reached && account.messages_left() == 0) return std::nullopt;
    const std::string left = std::to_string(account.messages_left()) +
                             (account.messages_left() == 1 ? " message left" : " messages left");
    if (account.budget_reason == "daily_download_mb" || account.budget_reason.empty())
        return "budget reached, " + left + ", resumes next run";
    return "the server's daily limit is reached (" + account.budget_reason + "), " +
           (account.messages_left_uncounted ? "at least " : "") + left + ", resumes next run";
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

std::optional<std::string> budget_line(const archive::RestoreReport& restore) {
    if (!restore.budget_reached) return std::nullopt;
    const auto left = restore.messages_left();
    return "daily upload budget reached (" + human_bytes(restore.budget_used) + " of " +
           human_bytes(restore.budget_limit) + " uploaded to " + restore.target_account + " today), " +
           std::to_string(left) + (left == 1 ? " message left (" : " messages left (") +
           human_bytes(restore.bytes_left()) + "), resumes after 00:00 UTC: run restore again then";
}

nlohmann::json budget_json(const archive::RestoreReport& restore) {
    return {
        {"reached", restore.budget_reached},
        {"reason", restore.budget_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(restore.budget_reason)},
        {"used_today", restore.budget_used},
        {"limit", restore.budget_limit},
        {"messages_left", restore.messages_left()},
        {"bytes_left", restore.bytes_left()},
    };
}

std::optional<std::uint64_t> budget_eta_days(std::uint64_t bytes_left, std::uint64_t daily_budget) {
    if (daily_budget == 0) return std::nullopt;
    return (bytes_left + daily_budget - 1) / daily_budget;
}

}  // namespace imapkeep::cli
