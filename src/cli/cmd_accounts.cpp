// imapkeep accounts add|list|remove|import: the fleet's accounts (issue 13),
// rows of fleet_accounts in the PostgreSQL catalog's schema. Passwords are
// never stored: each account names a command template (password_template.hpp).
#include <cmath>
#include <fstream>
#include <imapkeep/fleet/account_file.hpp>
#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/fleet/lease.hpp>
#include <imapkeep/util/utf8.hpp>
#include <sstream>

#include "cli/catalog_place.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

namespace imapkeep::cli {

namespace {

fleet::FleetAccount account_from_args(const AccountsArgs& args) {
    fleet::FleetAccount a;
    a.name = args.name;
    a.host = args.host;
    a.port = args.port;
    a.tls = args.tls;
    a.user = args.user;
    a.master_user = args.master_user;
    a.password_command = args.password_command;
    a.template_account = args.template_account;
    a.interval_ms = static_cast<std::int64_t>(std::llround(args.interval_minutes * 60000));
    return a;
}

// Refuses what the worker would refuse later, while a human is there to
// fix it: an unknown template, no host or password command anywhere.
void check_usable(const Config& config, const fleet::FleetAccount& a) {
    try {
        fleet_account_config(config, a);
    } catch (const ConfigError& e) {
        throw ConfigError(std::string(e.what()) + " (in " + config.file + ")");
    } catch (const fleet::FleetError& e) {
        throw ConfigError(e.what());
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read the accounts file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string time_text(const std::optional<std::int64_t>& ms) {
    return ms ? iso8601_utc(*ms / 1000) : "-";
}

nlohmann::json account_json(const fleet::FleetAccount& a) {
    nlohmann::json j = {
        {"name", a.name},
        {"template", a.template_account},
        {"host", a.host},
        {"port", a.port},
        {"tls", a.tls},
        {"user", a.user},
        {"master_user", a.master_user},
        {"password_command", a.password_command},
        {"interval_minutes", static_cast<double>(a.interval_ms) / 60000},
        {"next_due", iso8601_utc(a.next_due_ms / 1000)},
        {"lease_owner", a.lease_owner ? nlohmann::json(*a.lease_owner) : nlohmann::json()},
        {"last_finished",
         a.last_finished_ms ? nlohmann::json(time_text(a.last_finished_ms)) : nlohmann::json()},
        {"last_exit_code", a.last_exit_code ? nlohmann::json(*a.last_exit_code) : nlohmann::json()},
        {"last_status", a.last_status},
        {"last_error", a.last_error}};
    return j;
}

// NAME USER@HOST  next due, last run (status, exit code), holder if leased.
void print_account(std::ostream& out, const fleet::FleetAccount& a) {
    out << util::printable_utf8(a.name) << "  " << util::printable_utf8(a.user)
        << (a.master_user.empty() ? "" : " (master " + util::printable_utf8(a.master_user) + ")")
        << "@" << (a.host.empty() ? "template " + a.template_account : a.host) << "  next "
        << iso8601_utc(a.next_due_ms / 1000) << "  last "
        << (a.last_status.empty()
                ? "never"
                : a.last_status + " (exit " + std::to_string(a.last_exit_code.value_or(0)) + ", " +
                      time_text(a.last_finished_ms) + ")");
    if (a.lease_owner) out << "  held by " << util::printable_utf8(*a.lease_owner);
    out << "\n";
}

int list_accounts(fleet::AccountRegistry& registry, const AccountsArgs& args, Io& io) {
    const auto accounts = registry.list();
    if (args.json) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& a : accounts) all.push_back(account_json(a));
        io.out << json_text(all, 2) << "\n";
        return kExitOk;
    }
    for (const auto& a : accounts) print_account(io.out, a);
    if (accounts.empty()) io.out << "no fleet accounts yet (imapkeep accounts add NAME ...)\n";
    return kExitOk;
}

int import_accounts(const Config& config, fleet::AccountRegistry& registry,
                    const AccountsArgs& args, Io& io) {
    std::vector<fleet::FleetAccount> accounts;
    try {
        accounts = fleet::parse_fleet_accounts_csv(read_file(args.file));
    } catch (const fleet::FleetError& e) {
        throw ConfigError(args.file + ":" + e.what());
    }
    for (const auto& a : accounts) check_usable(config, a);
    std::size_t added = 0, failed = 0;
    for (const auto& a : accounts) {
        try {
            registry.add(a);
            ++added;
        } catch (const fleet::FleetError& e) {
            ++failed;
            io.err << "imapkeep accounts import: " << util::printable_utf8(e.what()) << "\n";
        }
    }
    io.out << "imported " << count_of(added, "account", "accounts") << " from " << args.file
           << (failed ? ", " + std::to_string(failed) + " refused" : "") << "\n";
    return failed ? kExitPartial : kExitOk;
}

}  // namespace

int run_accounts(const Config& config, const AccountsArgs& args, Io& io) {
    if (!catalog_in_postgres(config))
        throw ConfigError(config.file +
                          ": imapkeep accounts needs a PostgreSQL catalog ([store] catalog = "
                          "\"postgresql://...\")");
    fleet::FleetDb db(fleet::FleetDbOptions{config.catalog_postgres, config.catalog_schema});
    fleet::AccountRegistry registry(db);
    if (args.action == "list") return list_accounts(registry, args, io);
    if (args.action == "import") return import_accounts(config, registry, args, io);
    if (args.action == "remove") {
        if (registry.remove(args.name)) {
            io.out << "removed fleet account " << args.name << " (its backup stays in the store)\n";
            return kExitOk;
        }
        io.err << "imapkeep accounts remove: no fleet account named \""
               << util::printable_utf8(args.name) << "\"\n";
        return kExitUsage;
    }
    const auto account = account_from_args(args);
    try {
        if (!fleet::valid_fleet_account_name(account.name))
            throw fleet::FleetError("account name \"" + account.name +
                                    "\": letters, digits and . _ - @ + (not starting with . or -)");
        check_usable(config, account);
        registry.add(account);
    } catch (const fleet::FleetError& e) {
        io.err << "imapkeep accounts add: " << util::printable_utf8(e.what()) << "\n";
        return kExitUsage;
    }
    io.out << "added fleet account " << account.name << " (due now)\n";
    return kExitOk;
}

}  // namespace imapkeep::cli
