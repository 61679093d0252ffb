// imapkeep verify [--server] [--repair]: re-hash every stored file against the
// catalog; with --server compare UIDs and flags with what the server has now;
// with --repair fetch missing or damaged files again (repair.hpp). The server
// is only read (EXAMINE, UID FETCH).
#include "cli/catalog_place.hpp"
#include "cli/log_report.hpp"
#include "cli/commands.hpp"
#include "cli/store_session.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lock.hpp"
#include "cli/repair.hpp"

#include <imapkeep/imap/connect.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/store/verify.hpp>
#include <imapkeep/sync/gmail_layout.hpp>
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/util/utf8.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

namespace imapkeep::cli {

namespace {

std::vector<std::string> normalized(std::vector<std::string> flags) {
    std::vector<std::string> out;
    for (auto& f : flags) {
        std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
        if (f != "\\recent") out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct MailboxDiff {
    std::string name;
    std::string problem;           // whole-mailbox problem, else ""
    UidSet not_backed_up;          // on the server, not in the catalog
    UidSet gone_from_server;       // in the catalog, not on the server
    UidSet flags_differ;
    bool clean() const {
        return problem.empty() && not_backed_up.empty() && gone_from_server.empty() && flags_differ.empty();
    }
};

MailboxDiff compare_mailbox(imap::Client& client, store::Catalog& catalog, const store::MailboxRecord& mb,
                            const imap::MailboxName& listed) {
    MailboxDiff diff;
    diff.name = mb.name;
    imap::SelectData selected = client.select(listed, true);
    if (selected.uidvalidity.value != mb.uidvalidity) {
        diff.problem = "UIDVALIDITY differs (server " + std::to_string(selected.uidvalidity.value) +
                       ", backup " + std::to_string(mb.uidvalidity) + ")";
        return diff;
    }
    std::map<std::uint32_t, std::vector<std::string>> server;
    if (selected.exists > 0) {
        UidSet all;
        std::uint32_t last = selected.uidnext && selected.uidnext->value > 1 ? selected.uidnext->value - 1
                                                                             : 0xFFFFFFFFu;
        all.add_range(Uid{1}, Uid{last});
        client.uid_fetch(all, "FLAGS", [&](imap::FetchData& f) {
            if (f.uid) server[f.uid->value] = normalized(f.flags.value_or(std::vector<std::string>{}));
        });
    }
    std::set<std::uint32_t> local;
    for (const auto& m : catalog.messages(mb.id)) {
        if (m.uidvalidity != mb.uidvalidity) continue;
        local.insert(m.uid);
        auto it = server.find(m.uid);
        if (it == server.end())
            diff.gone_from_server.add(Uid{m.uid});
        else if (it->second != normalized(m.flags))
            diff.flags_differ.add(Uid{m.uid});
    }
    for (const auto& [uid, flags] : server)
        if (!local.count(uid)) diff.not_backed_up.add(Uid{uid});
    return diff;
}

// Returns the problems found; throws ConnectError when the server is unreachable.
std::vector<MailboxDiff> compare_with_server(const sync::AccountConfig& account, store::Catalog& catalog,
                                             store::Id account_id) {
    auto client = imap::connect_and_login(account.connect);
    std::vector<MailboxDiff> diffs;
    std::map<std::string, imap::MailboxName> on_server;  // name (as the backup knows it) -> wire name
    // Gmail: the backup holds All Mail (and Trash and Spam when asked), not
    // the label mailboxes, which are links to it.
    const auto gmail = sync::gmail_layout(client->has_capability("X-GM-EXT-1"), client->list("", "*"));
    for (const auto& pattern : account.mailboxes) {
        auto entries = client->list("", pattern);
        sync::distinguish_twins(entries, [&](const std::string& name) { return client->encode_mailbox(name); });
        for (const auto& entry : entries) {
            if (!entry.selectable()) continue;
            if (gmail && !sync::gmail_backs_up(*gmail, entry.name, account.gmail_trash_and_junk)) continue;
            // The same selection rule as the backup: the pattern was matched by
            // the server, exclusions are ours.
            if (sync::mailbox_selected(entry.name, entry.delimiter, account.mailboxes, account.exclude))
                on_server.emplace(entry.name, entry.mailbox());
        }
    }
    std::set<std::string> in_catalog;
    for (const auto& mb : catalog.mailboxes(account_id)) {
        if (!sync::mailbox_selected(mb.name, mb.delimiter, account.mailboxes, account.exclude)) continue;
        in_catalog.insert(mb.name);
        if (!on_server.count(mb.name)) {
            diffs.push_back({mb.name, "gone from the server since the last backup", {}, {}, {}});
            continue;
        }
        try {
            MailboxDiff diff = compare_mailbox(*client, catalog, mb, on_server.at(mb.name));
            if (!diff.clean()) diffs.push_back(std::move(diff));
        } catch (const imap::CommandFailed& e) {
            diffs.push_back({mb.name, std::string("cannot examine: ") + e.what(), {}, {}, {}});
        }
    }
    for (const auto& [name, wire] : on_server)
        if (!in_catalog.count(name)) diffs.push_back({name, "on the server, not in the backup", {}, {}, {}});
    client->logout();
    return diffs;
}

// "UID 7 of INBOX, Message-ID <a@b>": which message a damaged file held.
std::string message_name(store::Catalog& catalog, const std::map<store::Id, std::string>& mailbox_names,
                         store::Id message_id) {
    auto m = catalog.message_by_id(message_id);
    if (!m) return "not in the catalog";
    auto mb = mailbox_names.find(m->mailbox_id);
    std::string text = "UID " + std::to_string(m->uid) + " of " + (mb == mailbox_names.end() ? "?" : mb->second);
    if (m->expunged_at) text += ", expunged on the server";
    if (!m->message_id.empty()) text += ", Message-ID " + m->message_id;
    return text;
}

std::string uid_list(const UidSet& set) {
    std::string text = set.to_string();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return std::to_string(set.size()) + " (UID " + text + ")";
}

}  // namespace

int run_verify(const Config& config, const VerifyArgs& args, Io& io) {
    auto selected = select_accounts(config, args.accounts);
    if (!catalog_exists(config)) {
        io.err << "imapkeep: no backup in " << config.store_path << " yet\n";
        return kExitUsage;
    }
    auto session = open_store(config, io);
    if (!session) return kExitTempFail;
    auto& catalog = session->catalog;
    auto& messages = session->messages;

    int code = kExitOk;
    nlohmann::json report = {{"store", config.store_path}, {"accounts", nlohmann::json::array()}};
    for (const auto* account : selected) {
        // What verify prints about an account also goes to the run log, with
        // the account on each line (log_report.hpp).
        LogTee err(&io.err, io.log, LogLevel::Error, account->name);
        LogTee out(&io.out, io.log, LogLevel::Info, account->name);
        nlohmann::json a = {{"name", account->name}, {"files", nlohmann::json::array()}, {"error", nullptr}};
        auto id = catalog->find_account(account->name);
        if (!id) {
            if (!args.json) out << account->name << ": not backed up yet\n";
            report["accounts"].push_back(std::move(a));
            continue;
        }
        std::size_t problems = 0;
        std::vector<store::VerifyProblem> damaged;
        std::map<store::Id, std::string> mailbox_names;
        for (const auto& mb : catalog->mailboxes(*id, true)) mailbox_names[mb.id] = mb.name;
        for (const auto& p : store::verify_files(*catalog, *messages, *id)) {
            nlohmann::json file = {{"file", p.file}, {"problem", p.kind}};
            if (!p.actual_file.empty()) file["actual_file"] = p.actual_file;
            a["files"].push_back(std::move(file));
            // Case 3a: a mail reader's flag change is no loss; the next backup
            // puts the server's flags back.
            if (p.kind == "renamed") {
                if (!args.json && args.verbosity != Verbosity::Quiet)
                    out << account->name << ": renamed by a mail reader: "
                           << messages->absolute(p.file) << " -> " << messages->absolute(p.actual_file)
                           << "\n";
                continue;
            }
            ++problems;
            // A label link holds no bytes of its own: nothing to fetch again.
            if (!p.kind.starts_with("link")) damaged.push_back(p);
            err << account->name << ": " << p.kind << ": " << messages->absolute(p.file) << " ("
                   << util::printable_utf8(message_name(*catalog, mailbox_names, p.message_id)) << ")\n";
        }
        if (args.repair && !damaged.empty()) {
            try {
                for (const auto& r : repair_files(*account, *id, *catalog, *messages, damaged)) {
                    if (r.repaired) {
                        --problems;
                        if (args.verbosity != Verbosity::Quiet)
                            err << account->name << ": repaired: " << messages->absolute(r.file) << " ("
                                   << util::printable_utf8(r.where) << ", now " << messages->absolute(r.new_file)
                                   << ")\n";
                    } else {
                        err << account->name << ": not repaired: " << messages->absolute(r.file) << ": "
                               << util::printable_utf8(r.reason) << "\n";
                    }
                    for (auto& f : a["files"])
                        if (f["file"] == r.file) f["repair"] = r.repaired ? "repaired" : r.reason;
                }
            } catch (const imap::ConnectError& e) {
                err << account->name << ": cannot connect to repair: " << util::printable_utf8(e.what()) << "\n";
                code = worse_exit_code(code, e.transient() ? kExitTempFail : kExitConnect);
            } catch (const imap::Error& e) {
                err << account->name << ": repair stopped: " << util::printable_utf8(e.what()) << "\n";
                code = worse_exit_code(code, kExitTempFail);
            }
        }
        if (problems) code = worse_exit_code(code, kExitPartial);
        if (!args.json && args.verbosity != Verbosity::Quiet)
            out << account->name << ": files: "
                   << (problems == 0 ? "all match the catalog" : count_of(problems, "problem", "problems"))
                   << "\n";

        if (args.server) {
            a["server"] = nlohmann::json::array();
            try {
                for (const auto& d : compare_with_server(*account, *catalog, *id)) {
                    nlohmann::json m = {{"mailbox", d.name},
                                        {"problem", d.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.problem)},
                                        {"not_backed_up", d.not_backed_up.to_string()},
                                        {"gone_from_server", d.gone_from_server.to_string()},
                                        {"flags_differ", d.flags_differ.to_string()}};
                    a["server"].push_back(m);
                    std::vector<std::string> parts;
                    if (!d.problem.empty()) parts.push_back(d.problem);
                    if (!d.not_backed_up.empty()) parts.push_back("not backed up " + uid_list(d.not_backed_up));
                    if (!d.gone_from_server.empty())
                        parts.push_back("expunged on the server " + uid_list(d.gone_from_server));
                    if (!d.flags_differ.empty()) parts.push_back("flags differ " + uid_list(d.flags_differ));
                    err << account->name << ": " << util::printable_utf8(d.name) << ": ";
                    for (size_t i = 0; i < parts.size(); ++i) err << (i ? "; " : "") << util::printable_utf8(parts[i]);
                    err << "\n";
                    code = worse_exit_code(code, kExitPartial);
                }
                if (!args.json && args.verbosity != Verbosity::Quiet && a["server"].empty())
                    out << account->name << ": server: UIDs and flags match\n";
            } catch (const imap::ConnectError& e) {
                a["error"] = e.what();
                err << account->name << ": cannot connect: " << util::printable_utf8(e.what()) << "\n";
                code = worse_exit_code(code, e.transient() ? kExitTempFail : kExitConnect);
            } catch (const imap::Error& e) {
                a["error"] = e.what();
                err << account->name << ": " << util::printable_utf8(e.what()) << "\n";
                code = worse_exit_code(code, kExitTempFail);
            }
        }
        report["accounts"].push_back(std::move(a));
    }
    if (args.json) io.out << json_text(report, 2) << "\n";
    return code;
}

}  // namespace imapkeep::cli
