// What a run says about the daily download budget (issue 12): the line a run
// stopped by the budget ends with (stderr and the log; exit 75), its part of
// the --json report, and the ETA `status` shows. The same for a restore's
// daily upload budget.
#pragma once

#include <imapkeep/archive/restore.hpp>
#include <imapkeep/sync/backup.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace imapkeep::cli {

// "budget reached, 1234 messages left, resumes next run", or for the
// server's own daily limit "the server's daily limit is reached (REASON), at
// least 12 messages left, resumes next run"; nullopt when nothing was left.
std::optional<std::string> budget_line(const sync::AccountReport& account);

// The account's "budget" object in the run report:
//   { "reached": true, "reason": "daily_download_mb", "used_today": bytes,
//     "limit": bytes (0 = none), "messages_left": n, "bytes_left": n,
//     "messages_left_uncounted": false, "throttle_waits": n }
nlohmann::json budget_json(const sync::AccountReport& account);

// "daily upload budget reached (800.0 KB of 1.0 MB uploaded to TARGET
// today), 3 messages left (1.2 MB), resumes after 00:00 UTC: run restore
// again then"; nullopt when nothing was left.
std::optional<std::string> budget_line(const archive::RestoreReport& restore);

// The restore report's "budget" object:
//   { "reached": bool, "reason": "daily_upload_mb" | null, "used_today": bytes,
//     "limit": bytes (0 = none), "messages_left": n, "bytes_left": n }
nlohmann::json budget_json(const archive::RestoreReport& restore);

// Whole days a daily budget needs for `bytes_left`, rounded up; 0 when
// nothing is left, nullopt without a budget.
std::optional<std::uint64_t> budget_eta_days(std::uint64_t bytes_left, std::uint64_t daily_budget);

}  // namespace imapkeep::cli
