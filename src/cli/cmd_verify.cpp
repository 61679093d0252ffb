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
#include "cli/verify_server.hpp"

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

std::string join_labels(const std::vector<std::string>& patterns) {
    std::string text;
    for (const auto& p : patterns) text += (text.empty() ? "" : ", ") + p;
    return text;
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
        std::vector<store::VerifyProblem> damaged, shared, links;
        std::map<store::Id, std::string> mailbox_names;
        for (const auto& mb : catalog->mailboxes(*id, true)) mailbox_names[mb.id] = mb.name;
        for (const auto& p : store::verify_files(*catalog, *messages, *id)) {
            nlohmann::json file = {{"file", p.file}, {"problem", p.kind}};
            if (!p.actual_file.empty()) file["actual_file"] = p.actual_file;
            if (!p.detail.empty()) file["detail"] = p.detail;
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
            // A label link holds no bytes of its own: nothing to fetch again,
            // it is made again from the copy. A shared name is fixed in the
            // store alone.
            if (p.kind == "name shared")
                shared.push_back(p);
            else if (p.kind.starts_with("link"))
                links.push_back(p);
            else
                damaged.push_back(p);
            err << account->name << ": " << p.kind << ": " << messages->absolute(p.file) << " ("
                << util::printable_utf8(message_name(*catalog, mailbox_names, p.message_id)) << ")";
            if (p.kind == "name shared")
                err << " with the label link " << messages->absolute(p.actual_file);
            if (!p.detail.empty()) err << ": " << util::printable_utf8(p.detail);
            err << "\n";
        }
        auto show_repairs = [&](const std::vector<RepairOutcome>& outcomes) {
            for (const auto& r : outcomes) {
                if (r.repaired) {
                    --problems;
                    if (args.verbosity != Verbosity::Quiet)
                        err << account->name << ": repaired: " << messages->absolute(r.file) << " ("
                            << util::printable_utf8(r.where) << ", now "
                            << messages->absolute(r.new_file) << ")\n";
                } else {
                    err << account->name << ": not repaired: " << messages->absolute(r.file) << ": "
                        << util::printable_utf8(r.reason) << "\n";
                }
                for (auto& f : a["files"])
                    if (f["file"] == r.file) f["repair"] = r.repaired ? "repaired" : r.reason;
            }
        };
        if (args.repair && !shared.empty())
            show_repairs(repair_shared_names(*id, *catalog, *messages, shared));
        if (args.repair && (!damaged.empty() || !links.empty())) {
            try {
                if (!damaged.empty()) show_repairs(repair_files(*account, *id, *catalog, *messages, damaged));
                // Links after their copies: a copy fetched again is linked from.
                if (!links.empty()) show_repairs(repair_label_links(*account, *catalog, *messages, links));
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
                const auto compared = compare_with_server(*account, *catalog, *id);
                if (!compared.labels_of.empty()) {
                    a["labels_checked"] = {{"mailbox", compared.labels_of},
                                           {"labels", compared.labels},
                                           {"messages", compared.labelled}};
                    if (!args.json && args.verbosity != Verbosity::Quiet)
                        out << account->name << ": server: " << util::printable_utf8(compared.labels_of)
                            << (compared.labels.empty()
                                    ? " compared with its labels"
                                    : " compared for " + util::printable_utf8(join_labels(compared.labels)))
                            << ": " << count_of(compared.labelled, "message", "messages") << " of the backup\n";
                }
                for (const auto& d : compared.diffs) {
                    nlohmann::json m = {{"mailbox", d.name},
                                        {"problem", d.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.problem)},
                                        {"not_backed_up", d.not_backed_up.to_string()},
                                        {"gone_from_server", d.gone_from_server.to_string()},
                                        {"flags_differ", d.flags_differ.to_string()},
                                        {"labels_differ", d.labels_differ.to_string()}};
                    a["server"].push_back(m);
                    std::vector<std::string> parts;
                    if (!d.problem.empty()) parts.push_back(d.problem);
                    if (!d.not_backed_up.empty()) parts.push_back("not backed up " + uid_list(d.not_backed_up));
                    if (!d.gone_from_server.empty())
                        parts.push_back("expunged on the server " + uid_list(d.gone_from_server));
                    if (!d.flags_differ.empty()) parts.push_back("flags differ " + uid_list(d.flags_differ));
                    if (!d.labels_differ.empty()) parts.push_back("labels differ " + uid_list(d.labels_differ));
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
