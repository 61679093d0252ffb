// imapkeep status: what the store holds, per account and mailbox, from the
// catalog alone (no lock, no network: it may run while a backup does). It
// writes nothing: a PostgreSQL catalog is read in a snapshot, which neither
// creates nor migrates its schema, and so is the fleet's registry there.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <set>

#include "cli/budget_report.hpp"
#include "cli/catalog_place.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lock.hpp"
#include "cli/store_session.hpp"

namespace imapkeep::cli {

namespace {

nlohmann::json mailbox_status(store::Catalog& catalog, const store::MailboxRecord& mailbox) {
    std::uint64_t count = 0, bytes = 0;
    for (const auto& m : catalog.messages(mailbox.id)) {
        ++count;
        bytes += m.size;
    }
    return {
        {"name", mailbox.name},
        {"folder", mailbox.folder},
        {"messages", count},
        {"bytes", bytes},
        {"last_sync", mailbox.last_sync_at ? nlohmann::json(iso8601_utc(*mailbox.last_sync_at))
                                           : nlohmann::json(nullptr)},
        {"path", mailbox.sync_path},
    };
}

// What the server deleted and the backup kept (expunged = "keep"): every
// mailbox's, those deleted on the server included.
nlohmann::json attic_status(store::Catalog& catalog, store::Id account_id) {
    std::uint64_t count = 0, bytes = 0;
    for (const auto& mailbox : catalog.mailboxes(account_id, /*include_deleted=*/true))
        for (const auto& m : catalog.all_messages(mailbox.id))
            if (m.expunged_at) {
                ++count;
                bytes += m.size;
            }
    return {{"messages", count}, {"bytes", bytes}};
}

// The daily budget of a configured account: today's usage (the catalog's
// ledger), what the last backup run left, and the days that takes at the
// budget. null when the account has no budget and nothing was left.
nlohmann::json budget_status(store::Catalog& catalog, store::Id account_id,
                             const sync::AccountConfig* config,
                             const nlohmann::json& last_run_account, std::int64_t now) {
    const std::uint64_t limit = config ? config->pacing.daily_download_bytes : 0;
    std::uint64_t messages_left = 0, bytes_left = 0;
    bool uncounted = false;
    if (last_run_account.is_object() && last_run_account.contains("budget")) {
        const auto& b = last_run_account["budget"];
        messages_left = b.value("messages_left", std::uint64_t{0});
        bytes_left = b.value("bytes_left", std::uint64_t{0});
        uncounted = b.value("messages_left_uncounted", false);
    }
    if (limit == 0 && messages_left == 0 && !uncounted) return nullptr;
    const auto eta = budget_eta_days(bytes_left, limit);
    return {
        {"limit", limit},
        {"used_today", catalog.downloaded_on(account_id, now / 86400)},
        {"messages_left", messages_left},
        {"bytes_left", bytes_left},
        {"messages_left_uncounted", uncounted},
        {"eta_days", eta ? nlohmann::json(*eta) : nlohmann::json(nullptr)},
    };
}

// What restores uploaded to an account today, against its daily_upload_mb
// (the catalog's ledger). null without a budget and with nothing uploaded.
nlohmann::json upload_budget_status(store::Catalog& catalog, store::Id account_id,
                                    const sync::AccountConfig* config, std::int64_t now) {
    const std::uint64_t limit = config ? config->pacing.daily_upload_bytes : 0;
    const std::uint64_t used = catalog.uploaded_on(account_id, now / 86400);
    if (limit == 0 && used == 0) return nullptr;
    return {{"limit", limit}, {"used_today", used}};
}

// "  daily upload budget (restore): 300.0 MB of 500.0 MB used today"
void print_upload_budget(std::ostream& out, const nlohmann::json& b) {
    const auto limit = b["limit"].get<std::uint64_t>();
    out << "  daily upload budget (restore): " << human_bytes(b["used_today"].get<std::uint64_t>());
    if (limit != 0)
        out << " of " << human_bytes(limit) << " used today\n";
    else
        out << " uploaded today, no budget\n";
}

// "  daily budget: 1.2 GB of 2.4 GB used today; 3456 messages (17.2 GB) left,
// about 8 days at this budget"
void print_budget(std::ostream& out, const nlohmann::json& b) {
    const auto limit = b["limit"].get<std::uint64_t>();
    out << "  daily budget: ";
    if (limit != 0)
        out << human_bytes(b["used_today"].get<std::uint64_t>()) << " of " << human_bytes(limit)
            << " used today";
    else
        out << "none";
    const auto left = b["messages_left"].get<std::uint64_t>();
    out << "; " << (b["messages_left_uncounted"].get<bool>() ? "at least " : "")
        << count_of(left, "message", "messages") << " ("
        << human_bytes(b["bytes_left"].get<std::uint64_t>()) << ") left";
    if (!b["eta_days"].is_null() && left != 0)
        out << ", about " << count_of(b["eta_days"].get<std::uint64_t>(), "day", "days")
            << " at this budget";
    out << "\n";
}

// The last backup run's report of `account`, or null.
nlohmann::json last_report_of(const std::optional<store::RunRecord>& run,
                              const std::string& account) {
    if (!run || run->report_json.empty()) return nullptr;
    auto report = nlohmann::json::parse(run->report_json, nullptr, false);
    if (report.is_discarded() || !report.contains("accounts")) return nullptr;
    for (const auto& a : report["accounts"])
        if (a.value("name", "") == account) return a;
    return nullptr;
}

void print_text(std::ostream& out, const nlohmann::json& status) {
    out << "store: " << status["store"].get<std::string>() << "\n";
    if (status["last_run"].is_null()) {
        out << "last backup run: never\n";
    } else {
        const auto& r = status["last_run"];
        const std::string state = r["status"].get<std::string>();
        out << "last backup run: " << r["started_at"].get<std::string>() << " ("
            << (state == "interrupted" ? "interrupted; the next backup resumes it"
                : state == "budget"    ? "the daily budget is spent; the next backup resumes"
                                       : state)
            << ")\n";
    }
    for (const auto& account : status["accounts"]) {
        out << "\n" << account["name"].get<std::string>();
        if (account["fleet"].get<bool>())
            out << " (fleet account)";
        else if (!account["configured"].get<bool>())
            out << " (no longer in the config)";
        out << ": " << count_of(account["messages"].get<std::uint64_t>(), "message", "messages")
            << ", " << human_bytes(account["bytes"].get<std::uint64_t>());
        if (const auto& attic = account["attic"]; attic["messages"].get<std::uint64_t>() > 0)
            out << "; attic (deleted on the server, kept): "
                << count_of(attic["messages"].get<std::uint64_t>(), "message", "messages") << ", "
                << human_bytes(attic["bytes"].get<std::uint64_t>());
        out << "\n";
        if (account.contains("budget") && !account["budget"].is_null())
            print_budget(out, account["budget"]);
        if (account.contains("upload_budget") && !account["upload_budget"].is_null())
            print_upload_budget(out, account["upload_budget"]);
        for (const auto& m : account["mailboxes"]) {
            std::string name = m["name"].get<std::string>();
            std::string when =
                m["last_sync"].is_null() ? "never" : m["last_sync"].get<std::string>();
            std::string path = m["path"].get<std::string>();
            char line[512];
            std::snprintf(line, sizeof line, "  %-30s %8llu msgs %10s  %-9s  %s\n", name.c_str(),
                          static_cast<unsigned long long>(m["messages"].get<std::uint64_t>()),
                          human_bytes(m["bytes"].get<std::uint64_t>()).c_str(),
                          path.empty() ? "-" : path.c_str(), when.c_str());
            out << line;
        }
    }
}

// The fleet's registry of a PostgreSQL catalog (`imapkeep accounts`) and
// the database's clock; empty for SQLite. A registry that cannot be read
// costs a warning: the catalog's own accounts are still shown.
struct FleetView {
    std::vector<fleet::FleetAccount> accounts;
    std::int64_t now_ms = 0;
};

FleetView read_fleet(const Config& config, Io& io) {
    FleetView fleet;
    if (!catalog_in_postgres(config)) return fleet;
    try {
        fleet.accounts =
            fleet::read_fleet_accounts({config.catalog_postgres, config.catalog_schema}, &fleet.now_ms);
    } catch (const std::exception& e) {
        io.err << "imapkeep: cannot read the fleet's accounts: " << e.what() << "\n";
    }
    return fleet;
}

// A run without an end is running only while its process lives: a fleet
// worker's while the lease of the account it is linked to (fleet_accounts.
// run_id) is held and not expired, any other while a process holds the
// store lock. Otherwise it was killed or crashed, and the next run resumes
// it (a worker's next claim of the account also closes its record).
std::string run_state(const store::RunRecord& run, const std::string& store_path, const FleetView& fleet) {
    if (run.finished_at || run.status != "running") return run.status;
    for (const auto& a : fleet.accounts) {
        if (a.run_id != run.id) continue;
        const bool held = a.lease_owner && a.lease_until_ms && *a.lease_until_ms >= fleet.now_ms;
        return held ? "running" : "interrupted";
    }
    return lock_holder(store_path) ? "running" : "interrupted";
}

// Read-only: PostgreSQL in a snapshot (open_catalog would create or migrate
// the schema); an SQLite file that exists (catalog_exists) is opened as a backup does.
std::unique_ptr<store::Catalog> open_for_status(const Config& config) {
    return catalog_in_postgres(config) ? open_catalog_snapshot(config) : open_catalog(config);
}

}  // namespace

int run_status(const Config& config, const std::vector<std::string>& account_names, bool json,
               Io& io) {
    auto selected = select_accounts(config, account_names);
    nlohmann::json status = {
        {"store", config.store_path}, {"last_run", nullptr}, {"accounts", nlohmann::json::array()}};
    if (!catalog_exists(config)) {
        // Opening would create it; status must not write.
        if (json)
            io.out << json_text(status, 2) << "\n";
        else
            io.out << "store: " << config.store_path << "\nno backup yet (run `imapkeep backup`)\n";
        return kExitOk;
    }
    std::unique_ptr<store::Catalog> catalog;
    try {
        catalog = open_for_status(config);
    } catch (const ConfigError&) {
        throw;
    } catch (const std::exception& e) {
        io.err << "imapkeep: cannot open the catalog " << catalog_name(config) << ": " << e.what()
               << "\n";
        return kExitTempFail;
    }

    const FleetView fleet_view = read_fleet(config, io);
    const auto last_run = catalog->last_run("backup");
    if (const auto& run = last_run) {
        status["last_run"] = {
            {"started_at", iso8601_utc(run->started_at)},
            {"finished_at", run->finished_at ? nlohmann::json(iso8601_utc(*run->finished_at))
                                             : nlohmann::json(nullptr)},
            {"status", run_state(*run, config.store_path, fleet_view)}};
    }
    // Configured accounts first, in config order; with no --account, then the
    // fleet's (the registry, by name), then those the catalog still holds but
    // neither names any more, since their mail is there.
    std::vector<std::pair<std::string, bool>> names;
    for (const auto* a : selected) names.emplace_back(a->name, true);
    std::set<std::string> fleet;
    if (account_names.empty())
        for (const auto& a : fleet_view.accounts) fleet.insert(a.name);
    for (const auto& name : fleet)
        if (!config.find_account(name)) names.emplace_back(name, false);
    if (account_names.empty())
        for (const auto& name : catalog->account_names())
            if (!config.find_account(name) && !fleet.count(name)) names.emplace_back(name, false);

    for (const auto& [name, configured] : names) {
        nlohmann::json account = {{"name", name},
                                  {"configured", configured},
                                  {"fleet", !configured && fleet.count(name) > 0},
                                  {"messages", 0},
                                  {"bytes", 0},
                                  {"attic", {{"messages", 0}, {"bytes", 0}}},
                                  {"budget", nullptr},
                                  {"upload_budget", nullptr},
                                  {"mailboxes", nlohmann::json::array()}};
        std::uint64_t messages = 0, bytes = 0;
        if (auto id = catalog->find_account(name)) {
            auto mailboxes = catalog->mailboxes(*id);
            std::sort(mailboxes.begin(), mailboxes.end(),
                      [](const auto& a, const auto& b) { return a.name < b.name; });
            for (const auto& mailbox : mailboxes) {
                nlohmann::json m = mailbox_status(*catalog, mailbox);
                messages += m["messages"].get<std::uint64_t>();
                bytes += m["bytes"].get<std::uint64_t>();
                account["mailboxes"].push_back(std::move(m));
            }
            account["attic"] = attic_status(*catalog, *id);
            account["budget"] = budget_status(*catalog, *id, config.find_account(name),
                                              last_report_of(last_run, name),
                                              static_cast<std::int64_t>(std::time(nullptr)));
            account["upload_budget"] = upload_budget_status(*catalog, *id, config.find_account(name),
                                                            static_cast<std::int64_t>(std::time(nullptr)));
        }
        account["messages"] = messages;
        account["bytes"] = bytes;
        status["accounts"].push_back(std::move(account));
    }
    if (json)
        io.out << json_text(status, 2) << "\n";
    else
        print_text(io.out, status);
    return kExitOk;
}

}  // namespace imapkeep::cli
