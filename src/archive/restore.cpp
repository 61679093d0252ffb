// imapkeep restore: APPEND from the store to a server (restore.hpp).
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/archive/restore.hpp>

#include "archive/target_settle.hpp"
#include <imapkeep/archive/names.hpp>
#include <imapkeep/sync/reserved_mailboxes.hpp>

#include "archive/mailbox_append_limit.hpp"
#include "archive/restore_fixup.hpp"
#include "archive/restore_flags.hpp"
#include "archive/restore_journal.hpp"
#include "archive/restore_labels.hpp"
#include "archive/stored_literal.hpp"
#include "sync/pacer.hpp"
#include "sync/throttle.hpp"
#include <imapkeep/store/message_reader.hpp>

#include <imapkeep/util/files.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/util/sha256.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <deque>
#include <map>
#include <set>
#include <tuple>

namespace imapkeep::archive {

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The name as a server that ignores case sees it (ASCII only: Gmail and
// Exchange fold the letters of every script, but a name that differs only
// in a non-ASCII letter's case is rare enough to leave alone).
std::string folded(std::string_view name) {
    std::string out(name);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
}

std::string describe(const imap::CommandFailed& e) {
    const auto& c = e.completion();
    std::string code = c.code ? "[" + c.code->name + "] " : "";
    return "server said " + c.status + ": " + code + c.text;
}

// The run must end now (SIGINT/SIGTERM during a wait): what is journaled stays.
struct RestoreHalted {
    std::string reason;
    bool stopped = false;  // by a signal
};

// The target said no more for now (its daily limit, a full quota, or still
// throttling after every wait): nothing more is sent in this run, and what
// is not journaled is left for the next one (a budget stop, exit 75).
struct TargetStopped {};

using LeftFor = RestoreReport::LeftFor;

// Quirk(Gmail): its daily limit reads "Account exceeded command or bandwidth
// limits", with or without [OVERQUOTA]. Any other [OVERQUOTA] on a restore
// is the target's storage quota (RFC 5530 §3): a full mailbox, which no
// new day empties.
LeftFor stop_kind(const imap::ServerHint& hint) {
    std::string lower;
    for (char c : hint.reason)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("exceeded command or bandwidth limits") != std::string::npos)
        return LeftFor::TargetDailyLimit;
    return lower.rfind("[overquota", 0) == 0 ? LeftFor::TargetFull : LeftFor::TargetDailyLimit;
}

// A BYE that says why it came in the words or code a throttling NO has
// ([UNAVAILABLE], "Request is throttled", a backoff time), not a bare BYE:
// the messages in flight are no cause of it.
bool bye_asks_to_wait(const imap::ServerHint& hint) {
    if (hint.delay) return true;
    std::string_view text = hint.reason;
    std::optional<wire::ResponseCode> code;
    if (text.starts_with('[')) {
        const auto end = text.find_first_of(" ]");
        if (end != std::string_view::npos)
            code = wire::ResponseCode{std::string(text.substr(1, end - 1)), "", {}};
    }
    return imap::classify_server_hint("NO", code, text).action == imap::ServerHint::Action::Wait;
}

class Restorer {
public:
    Restorer(const sync::AccountConfig& target, store::Catalog& catalog, store::MessageStore& messages,
             const RestoreOptions& options, RestoreReport& report)
        : m_target(target), m_catalog(catalog), m_messages(messages), m_options(options), m_report(report),
          m_system_clock(options.stop),
          m_pacer(target.pacing, options.clock ? *options.clock : m_system_clock, sync::Transfer::Upload) {}

    // `source_prefix`: the backed-up account's personal prefix (source_personal_prefix);
    // `account`: every mailbox of the backed-up account, the selected ones or not.
    void run(std::vector<store::MailboxRecord> mailboxes, std::string source_prefix,
             std::vector<SourceMailbox> account) {
        m_source_prefix = std::move(source_prefix);
        m_account = std::move(account);
        start_upload_day();
        try {
            connect();
        } catch (const imap::ConnectError& e) {
            m_report.error = e.what();
            m_report.connect_failed = true;
            m_report.error_kind = e.kind();
            m_report.transient = e.transient();
            return;
        } catch (const RestoreHalted& h) {  // a signal during a wait
            m_report.error = h.reason;
            m_report.stopped = h.stopped;
            return;
        } catch (const TargetStopped&) {  // a login refused for a daily limit or quota
            m_report.left_uncounted = true;
            finish_report();
            return;
        }
        try {
            learn_target();
            for (const auto& mb : mailboxes) restore_source(mb);
        } catch (const TargetStopped&) {  // outside a mailbox (restore_mailbox counts its own)
            m_report.left_uncounted = true;
        } catch (const RestoreHalted& h) {
            m_report.error = h.reason;
            m_report.stopped = h.stopped;
        } catch (const imap::Abort& e) {
            m_report.error = std::string("connection lost: ") + e.what();
            m_report.transient = true;
        } catch (const imap::ConnectError& e) {
            // Credentials that stopped working (or a token the server ends
            // every session of) fail the run as a refused login does: exit 3.
            const bool auth = e.kind() == imap::ConnectError::Kind::Auth;
            m_report.error = auth ? e.what() : std::string("connection lost, and connecting again failed: ") + e.what();
            m_report.connect_failed = auth;
            m_report.error_kind = e.kind();
            m_report.transient = e.transient();
        }
        finish_report();
        if (m_client && !m_report.stopped) m_client->logout();
    }

private:
    // The day's uploads to the target so far (the catalog's usage ledger),
    // when it has a daily upload budget. A dry run spends none.
    void start_upload_day() {
        if (!m_pacer.has_budget() || m_options.dry_run) return;
        m_target_id = m_catalog.ensure_account(m_target.name);
        m_pacer.start_day(m_catalog.uploaded_on(*m_target_id, m_pacer.day()));
    }

    // The budget admits `m` today, and the rate limits let it go now (this
    // sleeps until they do). A message sent again after a lost connection is
    // admitted again: its bytes went over the wire twice.
    bool admit_upload(const store::MessageRecord& m) {
        if (m_pacer.admit({{m.uid, m.size}}) == 0) return false;
        m_pacer.count_message();
        m_pacer.count_bytes(m.size);
        return true;
    }

    // The journal's commit, with the uploads admitted since the last one:
    // a kill loses both together.
    void commit_journal() {
        if (m_target_id)
            if (const auto bytes = m_pacer.take_unsaved()) m_catalog.add_uploaded(*m_target_id, m_pacer.day(), bytes);
        m_catalog.commit();
    }

    // The budget spent, the rest of a mailbox is only counted: what the
    // journal does not have for this target.
    void count_left(RestoreMailboxReport& report, const std::vector<store::MessageRecord>& list) {
        for (const auto& m : list)
            if (!m_failed.contains(m.id) && !m_catalog.restore_entry(m_target.name, report.target, m.id)) {
                ++report.left;
                report.left_bytes += m.size;
            }
    }

    void finish_report() {
        m_report.throttle_waits = m_pacer.waits();
        const auto budget = m_pacer.budget();
        m_report.budget_used = budget.used;
        m_report.budget_limit = budget.limit;
        m_report.budget_reached = m_report.messages_left() > 0 || m_report.left_uncounted;
        if (m_report.budget_reached) m_report.budget_reason = budget.reason.empty() ? "daily_upload_mb" : budget.reason;
    }

    // The target said no more for now: nothing more is sent in this run
    // (Pacer::spent() from now on), the rest is counted as left. Throws
    // TargetStopped.
    [[noreturn]] void stop_by_target(LeftFor kind, const std::string& reason,
                                     const std::string& where) {
        if (!m_stopped_by_target) {
            m_stopped_by_target = true;
            m_pacer.stop_for_today(reason);
            m_report.left_for = kind;
            m_report.notes.push_back("the target refused " + where + " (" + reason +
                                     "): restore stopped, the rest is left for the next run");
        }
        throw TargetStopped{};
    }

    bool stop_requested() const { return m_options.stop && m_options.stop->load(); }

    // The target refused, or closed the connection, asking to slow down
    // (imap::server_hint): waits as it asks (sync::Pacer, the backup's rule:
    // its delay, else a doubling back-off, at most PacingLimits::max_wait)
    // before retry number `attempt`, and notes the wait. false: not a
    // throttle. Stops the run (stop_by_target, TargetStopped) for a full
    // quota or a spent daily limit (no retry helps today), and once
    // PacingLimits::throttle_retries waits were spent: the rest is left for
    // the next run, never failed. Throws RestoreHalted when SIGINT/SIGTERM
    // came during the wait.
    bool pace(const imap::ServerHint& hint, int attempt, const std::string& where) {
        using Action = imap::ServerHint::Action;
        if (hint.action == Action::StopForToday)
            stop_by_target(stop_kind(hint), hint.reason, where);
        // One connection only: "too many connections" means others hold them; wait.
        if (hint.action != Action::Wait && hint.action != Action::FewerConnections) return false;
        if (attempt > m_target.pacing.throttle_retries)
            stop_by_target(LeftFor::TargetThrottling,
                           sync::still_throttled_reason(attempt - 1, hint),
                           where);
        const auto delay = m_pacer.hint_wait(hint, attempt);
        m_report.notes.push_back("the target asked to wait (" + hint.reason + ") at " + where + ": waited " +
                                 sync::wait_text(delay) + " before retry " + std::to_string(attempt));
        m_pacer.wait(delay);
        if (stop_requested()) throw RestoreHalted{"stopped by a signal; run restore again to resume", true};
        return true;
    }

    // A refused APPEND that asks to slow down, rather than one refused for
    // the message (too big, bad flags): its hint, or none.
    static imap::ServerHint throttle_hint(const imap::CommandFailed& e) {
        if (refused_as_too_big(e.completion())) return {};
        return imap::server_hint(e);
    }
    // connect_and_login; a session the server ends at once for an expired
    // OAuth2 token (connect_and_login names the token refused) is opened
    // again with a new one (renew_and_reconnect).
    void connect() {
        for (;;) {
            try {
                m_client = imap::connect_and_login(m_target.connect);
                m_connect_waits = 0;
                return;
            } catch (const imap::ConnectError& e) {
                if (e.hint().action == imap::ServerHint::Action::RenewToken) {
                    m_report.notes.push_back(sync::renew_expired_token(m_target.name, m_target.connect, "",
                                                                       e.hint(), ++m_renewals));
                    continue;
                }
                if (!pace(e.hint(), ++m_connect_waits, "login")) throw;
            }
        }
    }

    // What the target offers and holds, asked on each new connection.
    void learn_target() {
        m_limit = append_limit(m_client->capabilities());
        m_per_mailbox_limits = detail::per_mailbox_append_limits(m_client->capabilities());
        m_literal_plus = m_client->has_capability("LITERAL+");
        m_literal_minus = m_client->has_capability("LITERAL-");
        // Batches only with LITERAL+: otherwise every body of a batch would
        // wait for its own "+", a round trip each.
        m_multiappend = m_literal_plus && m_client->has_capability("MULTIAPPEND");
        m_uidplus = m_client->has_capability("UIDPLUS");
        m_unselect = m_client->has_capability("UNSELECT");
        // LIST "" "" returns the hierarchy delimiter (RFC 3501 §6.3.8).
        auto root = m_client->list("", "");
        m_delimiter = root.empty() ? "/" : root.front().delimiter;
        m_target_prefix = personal_prefix();
        auto listed = m_client->list("", "*");
        m_existing.clear();
        m_listed_folded.clear();
        for (const auto& e : listed) {
            m_existing.insert(canonical(e.name));
            m_listed_folded[folded(e.name)].insert(e.name);
        }
        m_fold_groups.clear();
        for (const auto& mb : m_account) {
            store::MailboxRecord record;
            record.name = mb.name;
            record.delimiter = mb.delimiter;
            const auto name = target_name(record);
            m_fold_groups[folded(name)].insert(name);
        }
        m_target_all = detail::gmail_all_mailbox(*m_client, listed);
        m_progress_at_connect = m_progress;
    }

    // The target's personal namespace prefix (RFC 2342): "INBOX." on a
    // Courier-like layout, where nothing can be created outside it; the
    // first personal namespace is the one clients use. "" when NAMESPACE is
    // not offered, names no personal namespace, or is refused or malformed.
    std::string personal_prefix() {
        if (!m_client->has_capability("NAMESPACE")) return "";
        try {
            const auto namespaces = m_client->namespaces();
            return namespaces.personal.empty() ? "" : namespaces.personal.front().prefix;
        } catch (const imap::CommandFailed&) {
            return "";
        }
    }

    // The connection died under a mailbox. When the server closed it with a
    // BYE (Quirk(O365): "BYE Connection closed" after 10 refused commands),
    // connect again and go on with that mailbox, as long as the lost
    // connection got something done (a message appended or refused). A cut
    // without a BYE, or a server that says BYE before anything is done, is
    // left to the caller's retries, which resume the same way. false: give up
    // (the messages in flight fail). Throws ConnectError when connecting
    // again fails.
    bool reconnect_after(const imap::Abort& e, RestoreMailboxReport& report) {
        if (e.hint().action == imap::ServerHint::Action::RenewToken) return renew_and_reconnect(e);
        // The target said stop (a BYE for its daily limit), or had said it
        // before this connection died: what was in flight is looked for on
        // the target by the next run.
        if (m_stopped_by_target || e.hint().action == imap::ServerHint::Action::StopForToday) {
            m_lost.clear();
            m_client.reset();
            stop_by_target(stop_kind(e.hint()), e.hint().reason, "the connection (BYE)");
        }
        if (m_progress > m_progress_at_connect) m_bye_waits = 0;
        // A BYE that asks to wait (Quirk(O365): "Request is throttled.
        // Suggested Backoff Time"; RFC 5530 [UNAVAILABLE]) is a throttle: the
        // messages in flight are no cause of it (no strike), and it is worth
        // a paced retry even with nothing done yet,
        // PacingLimits::throttle_retries times in a row; then the run stops
        // with the rest left (pace()).
        const bool throttled = bye_asks_to_wait(e.hint());
        // A message in flight at two losses fails unsent from now on: that
        // too is something done (a server that hangs up on one message).
        bool struck_out = false;
        if (!throttled)
            for (const auto* m : m_lost) struck_out |= ++m_strikes[m->id] == 2;
        const bool progressed = m_progress > m_progress_at_connect || struck_out;
        const bool server_closed = static_cast<bool>(e.hint());  // a BYE
        if (!server_closed || !(progressed || throttled) || m_options.dry_run ||
            ++m_reconnects > kMaxReconnects || (throttled && !pace(e.hint(), ++m_bye_waits, "BYE"))) {
            for (const auto* m : m_lost)
                fail(report, *m, std::string("no answer before the connection was lost: ") + e.what());
            m_lost.clear();
            return false;
        }
        m_lost.clear();
        m_client.reset();
        connect();
        learn_target();
        // The server may still be executing what the dead connection sent.
        m_resumed = true;
        return true;
    }

    static constexpr int kMaxReconnects = 100;

    // Quirk(O365): "* BYE Session invalidated - AccessTokenExpired". The
    // backup's renewal (sync::renew_expired_token): the token is named
    // refused and the next login gets a new one at once, no back-off. The
    // messages in flight are no cause of it: none fails or gets a strike;
    // what landed is found on the target (resuming()), the rest sent again.
    // A second expiry with nothing done since is an authentication error
    // (ConnectError, Kind::Auth), never a loop.
    bool renew_and_reconnect(const imap::Abort& e) {
        if (m_progress > m_progress_at_connect) m_renewals = 0;
        const std::string token = m_client ? m_client->oauth2_token() : std::string();
        m_lost.clear();
        m_client.reset();
        m_report.notes.push_back(sync::renew_expired_token(m_target.name, m_target.connect, token,
                                                           e.hint(), ++m_renewals));
        connect();
        learn_target();
        m_resumed = true;
        return true;
    }

    struct InFlight {
        imap::Client::Tag tag;
        std::vector<const store::MessageRecord*> messages;  // more than one: MULTIAPPEND
        std::uint64_t bytes = 0;
    };

    static bool too_much_in_flight(const std::deque<InFlight>& inflight) {
        std::uint64_t messages = 0, bytes = 0;
        for (const auto& f : inflight) {
            messages += f.messages.size();
            bytes += f.bytes;
        }
        return messages > kInFlightMessages || bytes > kInFlightBytes;
    }
    // MULTIAPPEND batches (RFC 3502) of small messages: one server transaction
    // for many messages, with a bounded amount held in memory.
    static constexpr std::uint64_t kBatchMessageMax = 256 * 1024;
    static constexpr std::uint64_t kBatchBytes = 1024 * 1024;
    static constexpr std::size_t kBatchCount = 64;
    // What may be sent and not yet answered. A server goes on executing what
    // a killed client had sent (it sits in the server's socket buffer): the
    // less there is, the sooner a rerun sees every message that will land.
    static constexpr std::uint64_t kInFlightMessages = 2 * kBatchCount;
    static constexpr std::uint64_t kInFlightBytes = 2 * kBatchBytes;
    // Messages above this size probe the target's size limit (append_all):
    // limits are tens of MB (Quirk(O365): 35-45 MB; Gmail 25-50 MB), so the
    // round trips go only to the rare large message.
    static constexpr std::uint64_t kProbeSize = 1024 * 1024;

    // One source mailbox; a Gmail All Mail carries its labels along
    // (restore_labels.hpp): to a Gmail target by X-GM-LABELS, elsewhere as
    // folders or keywords.
    void restore_source(const store::MailboxRecord& mb) {
        auto list = m_options.at ? m_catalog.messages_at(mb.id, *m_options.at) : m_catalog.messages(mb.id);
        if (!detail::has_labels(m_catalog, list)) {
            m_one_to_one = true;
            restore_mailbox(mb, std::move(list));
            m_one_to_one = false;
            return;
        }
        if (!m_target_all.empty()) {
            m_set_labels = true;
            restore_mailbox(mb, std::move(list), m_target_all);
            m_set_labels = false;
            return;
        }
        if (m_target.restore_labels == "keywords") {
            detail::add_label_keywords(m_catalog, list, m_options.at);
            return restore_mailbox(mb, std::move(list));
        }
        for (auto& folder : detail::label_folders(m_catalog, mb.name, list, m_options.at)) {
            store::MailboxRecord as_folder = mb;
            as_folder.name = folder.name;
            restore_mailbox(as_folder, std::move(folder.messages));
        }
    }

    // `target`: the target mailbox's name when it is not the source's (with
    // the prefix and the target's delimiter).
    void restore_mailbox(const store::MailboxRecord& mb, std::vector<store::MessageRecord> list,
                         const std::string& target = "") {
        RestoreMailboxReport mr;
        mr.source = mb.name;
        mr.target = !target.empty() ? target : moved(target_name(mb));
        m_refused_name_target = !target.empty() ? "" : moved(target_name(mb, true));
        if (m_refused_name_target == mr.target) m_refused_name_target.clear();
        if (m_one_to_one && target.empty()) {
            const auto wanted = mr.target;
            keep_inbox_twins_apart(mr);
            if (mr.target != wanted) m_refused_name_target.clear();
        }
        std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
            return std::tie(a.uidvalidity, a.uid) < std::tie(b.uidvalidity, b.uid);
        });
        m_report.mailboxes.push_back(mr);
        auto& report = m_report.mailboxes.back();
        m_failed.clear();
        m_done.clear();
        m_strikes.clear();
        // The budget spent or the target stopped the run: only counted (the
        // connection may be gone).
        if (!m_options.dry_run && m_pacer.spent()) return count_left(report, list);
        if (auto why = sync::reserved_mailbox(*m_client, report.target)) {
            report.skipped = *why + ": not restored (restore it under another name with --prefix)";
            return;
        }
        try {
            for (;;) {
                try {
                    restore_mailbox_once(report, list);
                    return;
                } catch (const imap::Abort& e) {
                    if (!reconnect_after(e, report)) throw;
                }
            }
        } catch (const TargetStopped&) {
            m_lost.clear();            // the next run looks for them on the target
            count_left(report, list);  // what is not journaled, the refused one included
        }
    }

    // `refused`: the name for a target that refused the usual one's "." or
    // "/" (not its delimiter) in a level: those become fullwidth too.
    std::string target_name(const store::MailboxRecord& mb, bool refused = false) const {
        NameMapping mapping;
        if (refused)
            for (char c : std::string("./"))
                if (m_delimiter != std::string(1, c)) mapping.stand_in_characters += c;
        mapping.source_delimiter = mb.delimiter;
        mapping.source_prefix = m_source_prefix;
        mapping.prefix = m_options.prefix;
        mapping.target_delimiter = m_delimiter;
        mapping.target_prefix = m_target_prefix;
        return target_mailbox_name(mb.name, mapping);
    }

    // One attempt at a mailbox, on the current connection.
    void restore_mailbox_once(RestoreMailboxReport& report, const std::vector<store::MessageRecord>& list) {
        // An earlier run restored it under the name for a refused one.
        if (!m_refused_name_target.empty() && !m_existing.contains(canonical(report.target)) &&
            m_existing.contains(canonical(m_refused_name_target)))
            report.target = m_refused_name_target;
        bool existed = m_existing.contains(canonical(report.target));
        try {
            claim(report);
            if (!existed) {
                report.create = true;
                // A dry run sends nothing that changes the target (no CREATE).
                if (m_options.dry_run) return plan_new_mailbox(report, list);
                existed = !create_refused_name(report);
                report.create = !existed;
                existed = keep_case_apart(report, existed);
            }
            if (list.empty()) return;  // nothing to look for or append
            // RFC 7889 §4: the mailbox's own limit, on a server that has them.
            m_mailbox_limit = m_per_mailbox_limits ? detail::mailbox_append_limit(*m_client, report.target)
                                                   : std::nullopt;
            if (existed && resuming() && !m_options.dry_run &&
                !detail::wait_until_settled(*m_client, report.target, m_options.settle_quiet))
                report.error = "the target kept changing for a minute; restored anyway";
            // Read-write, for PERMANENTFLAGS and to STORE lost flags; a dry run
            // only looks.
            auto sel = m_client->select(report.target, /*read_only=*/m_options.dry_run);
            m_permanent = m_options.dry_run ? std::nullopt : sel.permanent_flags;
            try {
                restore_into_selected(report, list, sel, existed);
            } catch (const imap::Abort&) {
                throw;
            } catch (...) {
                leave_mailbox();
                throw;
            }
            leave_mailbox();
        } catch (const imap::Abort&) {
            throw;
        } catch (const imap::CommandFailed& e) {
            report.error = (e.command() == "CREATE" ? "cannot create " + report.target + ": " : "") + describe(e);
        } catch (const imap::Error& e) {
            report.error = e.what();
        } catch (const NameTaken& e) {
            report.error = e.why;
        }
    }

    // Two source mailboxes never become one target mailbox. names.hpp keeps
    // their names apart, but not for a source that holds both "x.y" and the
    // name it becomes ("x" U+FF0E "y"), nor a target that refused a name:
    // the first one restored keeps the name, the other is refused and says
    // why. Gmail label folders are meant to gather (m_one_to_one false).
    struct NameTaken {
        std::string why;
    };
    void claim(const RestoreMailboxReport& report) {
        if (!m_one_to_one) return;
        const auto [it, fresh] = m_claimed.emplace(canonical(report.target), report.source);
        if (fresh || it->second == report.source) return;
        throw NameTaken{"not restored: " + it->second + " is restored to " + report.target +
                        " already (restore this one under another --prefix)"};
    }

    // CREATE; false when the mailbox turned out to exist already. A cut or
    // killed run's CREATE can land after this run's LIST (the server finishes
    // the dead session's commands): that mailbox may hold what the other run
    // appended, so it is restored into as an existing one, never as empty.
    bool create_target(const std::string& name) {
        try {
            m_client->create(name);
        } catch (const imap::CommandFailed& e) {
            if (e.code_name() != "ALREADYEXISTS" && !listed_now(name)) throw;
            m_existing.insert(canonical(name));
            return false;
        }
        m_existing.insert(canonical(name));
        return true;
    }

    // CREATE under the usual name, or when the target refuses it and a level
    // holds "." or "/", under the name with those in fullwidth form.
    // Quirk(Dovecot): Maildir++ refuses "." in any name ("Character not
    // allowed in mailbox name"), Quirk(Cyrus): with unixhierarchysep: no, "/"
    // ("Invalid mailbox name"). The other name is the same on every run, so
    // the journal and the look-up on the target find what an earlier one did.
    bool create_refused_name(RestoreMailboxReport& report) {
        try {
            return create_beside_parent(report);
        } catch (const imap::CommandFailed& e) {
            if (m_refused_name_target.empty() || e.completion().status != "NO") throw;
        }
        report.target = m_refused_name_target;
        claim(report);
        return create_beside_parent(report);
    }

    // CREATE; when the parent cannot hold folders, the mailbox goes beside
    // it: its last level joined onto the parent's with the delimiter's
    // fullwidth form ("A/B" is "A" U+FF0F "B"), and its children below that
    // name (moved()), with a note. Quirk(Dovecot): an mbox folder is a file,
    // "NO [CANNOT] Mailbox doesn't allow inferior mailboxes" for any folder
    // below it, also one that holds no mail. The name is the same on every
    // run, so a later one finds it (m_existing) and its journal.
    bool create_beside_parent(RestoreMailboxReport& report) {
        for (;;) {
            try {
                return create_target(report.target);
            } catch (const imap::CommandFailed& e) {
                auto beside = beside_parent(report.target);
                if (!refuses_children(e) || !beside) throw;
                m_moved[report.target] = *beside;
                m_report.notes.push_back(report.source + " is restored beside its parent, as " + *beside + ": the "
                                         "target refused " + report.target + " (" + e.completion().text + ")");
                report.target = *beside;
                claim(report);
                if (m_existing.contains(canonical(report.target))) return false;
            }
        }
    }

    static bool refuses_children(const imap::CommandFailed& e) {
        std::string text;
        for (char c : e.completion().text) text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return e.completion().status == "NO" && text.find("inferior") != std::string::npos;
    }

    // `name` with its last level joined onto its parent's, or nullopt when
    // it has no parent below the target's personal prefix.
    std::optional<std::string> beside_parent(const std::string& name) const {
        if (m_delimiter.empty() || name.size() <= m_target_prefix.size()) return std::nullopt;
        const auto at = name.rfind(m_delimiter);
        if (at == std::string::npos || at < m_target_prefix.size() || at == 0) return std::nullopt;
        // The delimiter as one flat level's text: its fullwidth form (names.hpp).
        NameMapping as_text;
        as_text.target_delimiter = m_delimiter;
        const auto wide = target_mailbox_name(m_delimiter, as_text);
        return name.substr(0, at) + wide + name.substr(at + m_delimiter.size());
    }

    // Without the ALREADYEXISTS code (RFC 5530), ask LIST again.
    bool listed_now(const std::string& name) { return listed_as(name).has_value(); }

    // The name the target lists for `name`: itself, or on a target whose
    // names ignore case (Quirk(Gmail), Quirk(O365): `LIST "" sweet` answers
    // SWEET) the folder it holds in another case. A case-sensitive server
    // lists no other name for that pattern.
    std::optional<std::string> listed_as(const std::string& name) {
        std::optional<std::string> other;
        for (const auto& e : m_client->list("", name)) {
            if (canonical(e.name) == canonical(name)) return e.name;
            if (folded(e.name) == folded(name)) other = e.name;
        }
        return other;
    }

    // Two source mailboxes whose names differ only in case ("Foo" and "foo":
    // RFC 3501 §5.1 leaves case to the server, but for INBOX,
    // keep_inbox_twins_apart) are one folder on a target that ignores case. Nothing tells that up front,
    // so after a CREATE of a name that shares its folded form with another
    // (listed on the target, or another source mailbox's), LIST tells which
    // folder the target took it for. One it holds under another name that
    // no other source mailbox is restored to is restored into (as into any
    // existing folder); else this one goes apart, under its name with " (N)"
    // (N: its place among the names of its case, the same on every run), and
    // its children with it; a note says so. Returns whether the mailbox
    // existed.
    bool keep_case_apart(RestoreMailboxReport& report, bool existed) {
        if (!m_one_to_one || !case_suspect(report.target)) return existed;
        const auto real = listed_as(report.target);
        if (!real || *real == report.target) return existed;
        const std::string wanted = report.target;
        if (const auto mine = m_claimed.find(canonical(wanted)); mine != m_claimed.end() && mine->second == report.source)
            m_claimed.erase(mine);
        const auto taken = m_claimed.find(canonical(*real));
        const auto& group = m_fold_groups[folded(wanted)];
        if ((taken == m_claimed.end() || taken->second == report.source) && !group.contains(*real)) {
            report.target = *real;
            claim(report);
            report.create = false;
            return true;
        }
        go_apart(report, *real, "its folder names ignore case");
        claim(report);
        if (m_existing.contains(canonical(report.target))) {
            report.create = false;
            return true;
        }
        report.create = true;
        const bool created = create_target(report.target);
        report.create = created;
        return !created;
    }

    // Another name of `name`'s case is listed on the target or restored to.
    bool case_suspect(const std::string& name) {
        const auto key = folded(name);
        if (m_fold_groups[key].size() > 1) return true;
        const auto listed = m_listed_folded.find(key);
        return listed != m_listed_folded.end() &&
               std::any_of(listed->second.begin(), listed->second.end(),
                           [&](const std::string& other) { return other != name; });
    }

    // The name as every server takes it: INBOX in any case is INBOX (RFC
    // 3501 §5.1), also as the first level of a longer name (Dovecot and Cyrus
    // take "Inbox/x" for INBOX/x).
    std::string canonical(const std::string& name) const {
        if (name.size() < 5 || folded(name.substr(0, 5)) != "inbox") return name;
        if (name.size() == 5) return "INBOX";
        if (!m_delimiter.empty() && name.compare(5, m_delimiter.size(), m_delimiter) == 0)
            return "INBOX" + name.substr(5);
        return name;
    }

    // Source mailboxes whose names differ only in the case of INBOX
    // ("INBOX/x" and "Inbox/x") are one folder on every server: the first in
    // name order keeps the name, the others go apart (go_apart), whether or
    // not the first is restored in this run.
    void keep_inbox_twins_apart(RestoreMailboxReport& report) {
        const auto& group = m_fold_groups[folded(report.target)];
        for (const auto& other : group) {
            if (other == report.target) return;
            if (canonical(other) == canonical(report.target))
                return go_apart(report, other, "INBOX is INBOX in any case (RFC 3501 section 5.1)");
        }
    }

    // `report`'s mailbox goes under its name with " (N)", N its place among
    // the names of its case (the same on every run), its children below
    // that; a note says why: the target takes its name for `other`.
    void go_apart(RestoreMailboxReport& report, const std::string& other, const std::string& why) {
        const std::string wanted = report.target;
        const auto& group = m_fold_groups[folded(wanted)];
        const auto place = std::distance(group.begin(), group.find(wanted));
        report.target = wanted + " (" + std::to_string(group.contains(wanted) && place > 0 ? place + 1 : 2) + ")";
        m_moved[wanted] = report.target;
        m_report.notes.push_back(report.source + " is restored to " + report.target + ": the target takes " + wanted +
                                 " for " + other + " (" + why + "), which another mailbox is restored to");
    }

    // `name` below a mailbox restored apart (keep_case_apart) goes below it.
    std::string moved(std::string name) const {
        for (auto it = m_moved.begin(); it != m_moved.end(); ++it) {
            const auto below = it->first + m_delimiter;
            if (!m_delimiter.empty() && name.starts_with(below)) return moved(it->second + name.substr(it->first.size()));
        }
        return name;
    }

    void restore_into_selected(RestoreMailboxReport& report, const std::vector<store::MessageRecord>& list,
                               const imap::SelectData& sel, bool existed) {
        const detail::JournalTarget target{m_catalog, m_target.name, report.target, sel.uidvalidity};
        detail::Journaled journaled;
        const std::uint64_t already_before = report.already;
        auto pending = detail::unjournaled(target, list, report, journaled);
        // After a reconnect: what this run appended is journaled now, and
        // counted as appended, not as "already there".
        const auto redone = static_cast<std::uint64_t>(
            std::count_if(list.begin(), list.end(), [&](const auto& m) { return m_done.contains(m.id); }));
        report.already = std::max(already_before, report.already - std::min(redone, report.already));
        // Refused once in this run (and reported): not sent again after a reconnect.
        std::erase_if(pending, [&](const store::MessageRecord* m) { return m_failed.contains(m->id); });
        if (m_options.dry_run) {
            if (sel.exists > 0 && !pending.empty())
                detail::drop_present(*m_client, target, journaled, /*record=*/false, pending, report);
            for (const auto* m : pending) plan(report, *m);
            return;
        }
        m_catalog.begin();
        try {
            // A mailbox this run created holds nothing; one that existed may
            // hold what a killed run appended but did not journal.
            if (existed && sel.exists > 0 && !pending.empty())
                detail::drop_present(*m_client, target, journaled, /*record=*/true, pending, report,
                                     resuming() ? &journaled.unchecked : nullptr);
            std::vector<detail::AppendedMessage> appended;
            append_all(report, pending, appended);
            check_flags(target, journaled, appended, sel.uidnext, report);
            commit_journal();
        } catch (const RestoreStopped&) {
            m_catalog.rollback();  // as a kill would lose it
            throw;
        } catch (...) {
            // What is journaled was appended: keep it.
            commit_journal();
            throw;
        }
    }

    // Puts back the flags the target dropped on APPEND: of what this run
    // appended, and of what an earlier, cut run appended but never checked.
    // Each copy is marked checked in the journal once its flags were compared.
    void check_flags(const detail::JournalTarget& target, const detail::Journaled& journaled,
                     std::vector<detail::AppendedMessage>& appended, std::optional<Uid> uidnext,
                     RestoreMailboxReport& report) {
        std::vector<detail::AppendedMessage> earlier;
        for (const auto& u : journaled.unchecked)
            earlier.push_back({u.message, u.uid, detail::flags_for_target(u.message->flags, m_permanent).send});
        auto checked = detail::fix_up_appended(*m_client, earlier, std::nullopt, journaled.uids, report);
        UidSet known = journaled.uids;
        for (const auto& e : earlier)
            if (e.uid) known.add(*e.uid);
        auto now_checked = detail::fix_up_appended(*m_client, appended, uidnext, known, report);
        checked.insert(checked.end(), now_checked.begin(), now_checked.end());
        if (m_set_labels) {
            set_labels(earlier, report);
            set_labels(appended, report);
        }
        if (!m_uidplus) {
            detail::journal_found_uids(target, earlier);
            detail::journal_found_uids(target, appended);
        }
        m_catalog.mark_restore_flags_checked(target.account, target.mailbox, checked);
    }

    // Gmail target: the labels of each appended copy, one UID STORE per
    // distinct label set (+X-GM-LABELS adds, so a replay changes nothing).
    void set_labels(const std::vector<detail::AppendedMessage>& appended, RestoreMailboxReport& report) {
        std::map<std::vector<std::string>, UidSet> by_labels;
        std::map<std::vector<std::string>, std::vector<const store::MessageRecord*>> whose;
        for (const auto& a : appended) {
            auto labels = detail::labels_of(m_catalog, a.message->id, m_options.at);
            if (!labels || labels->empty() || !a.uid) continue;
            for (auto& label : *labels) label = detail::prefixed_label(label, m_options.prefix, m_delimiter);
            by_labels[*labels].add(*a.uid);
            whose[*labels].push_back(a.message);
        }
        for (const auto& [labels, uids] : by_labels) {
            auto change = detail::label_store(labels);
            std::string why;
            if (!change) {
                why = "a label cannot be sent back as it is";
            } else {
                try {
                    m_client->uid_store(uids, *change);
                    continue;
                } catch (const imap::CommandFailed& e) {
                    why = "the target refused its labels: " + e.completion().text;
                }
            }
            for (const auto* m : whose[labels]) fail(report, *m, why);
        }
    }

    // After a kill (a rerun) or a lost connection (this run): APPENDs sent
    // before may land unjournaled, and without their flags.
    bool resuming() const { return m_options.resume_after_kill || m_resumed; }

    void plan(RestoreMailboxReport& report, const store::MessageRecord& m) {
        ++report.to_append;
        report.bytes += m.size;
        for (const auto& k : detail::flags_for_target(m.flags, m_permanent).dropped) ++report.dropped_keywords[k];
    }

    void plan_new_mailbox(RestoreMailboxReport& report, const std::vector<store::MessageRecord>& list) {
        m_permanent.reset();
        for (const auto& m : list) plan(report, m);
    }

    // Without UNSELECT, CLOSE would expunge the \Deleted messages just restored:
    // stay selected; the next SELECT or LOGOUT leaves without expunging.
    void leave_mailbox() {
        if (m_unselect || m_options.dry_run) m_client->unselect();
    }

    // The message as it is to be sent, or nullopt after reporting why it
    // cannot be. The keywords it loses are counted by the caller, once the
    // message is sure to go (count_dropped).
    std::optional<imap::AppendMessage> prepare(RestoreMailboxReport& report, const store::MessageRecord& m) {
        if (m_limit && m.size > *m_limit) {
            fail(report, m, "larger (" + std::to_string(m.size) + " bytes) than the server's APPENDLIMIT (" +
                                std::to_string(*m_limit) + " bytes); not sent");
            return std::nullopt;
        }
        if (m_mailbox_limit && m.size > *m_mailbox_limit) {
            fail(report, m, "larger (" + std::to_string(m.size) + " bytes) than the APPENDLIMIT of " +
                                report.target + " (" + std::to_string(*m_mailbox_limit) + " bytes); not sent");
            return std::nullopt;
        }
        // A size the target refused as too large: the same answer for this one,
        // and every refusal brings a server that counts them (Quirk(O365))
        // closer to hanging up.
        if (m_refused_size && m.size >= *m_refused_size) {
            fail(report, m, "too large for the target: " + std::to_string(m.size) +
                                " bytes, and it refused a message of " + std::to_string(*m_refused_size) +
                                " bytes as too large; not sent");
            return std::nullopt;
        }
        if (m_strikes[m.id] >= 2) {
            fail(report, m, "the connection was lost twice while it was being appended; not sent again");
            return std::nullopt;
        }
        // Checked whole before a byte is sent, then sent from the file in
        // chunks: a corrupt file is refused, and no body is held in memory.
        imap::AppendMessage out;
        store::OriginalDigest digest;
        std::string file;
        try {
            auto source = m_messages.open_read(store::message_ref(m));
            digest = store::digest(*source);
            file = source->file();
        } catch (const std::exception& e) {
            fail(report, m, std::string("cannot read the stored message: ") + e.what());
            return std::nullopt;
        }
        if (!m.sha256.empty() && (digest.sha256 != m.sha256 || digest.size != m.size)) {
            fail(report, m, "the stored file " + m.file + " does not match its SHA-256 (corrupt store)");
            return std::nullopt;
        }
        out.message = imap::AppendBody::stream(
            std::make_shared<detail::StoredLiteral>(m_messages, m, std::move(file), digest.size));
        out.flags = detail::flags_for_target(m.flags, m_permanent).send;
        out.internaldate = util::format_imap_datetime(m.internaldate, m.internaldate_zone);
        return out;
    }

    // The keywords `m` goes without (the target cannot take them), counted
    // once per message, when it is sent for the first time in this run.
    void count_dropped(RestoreMailboxReport& report, const store::MessageRecord& m) {
        for (const auto& k : detail::flags_for_target(m.flags, m_permanent).dropped) ++report.dropped_keywords[k];
    }

    void append_all(RestoreMailboxReport& report, const std::vector<const store::MessageRecord*>& pending,
                    std::vector<detail::AppendedMessage>& appended) {
        m_appended = &appended;
        std::deque<InFlight> inflight;
        std::vector<imap::AppendMessage> batch;
        std::vector<const store::MessageRecord*> batch_messages;
        std::uint64_t batch_bytes = 0;
        auto submit = [&](std::vector<imap::AppendMessage> bodies,
                          std::vector<const store::MessageRecord*> messages) {
            const bool nonsync = m_literal_plus || (m_literal_minus && bodies.size() == 1 &&
                                                    bodies.front().message.size() <= 4096);
            // Without LITERAL+ a body waits in the Client for the server's "+",
            // and owns the wire until then: finish what is in flight first.
            if (!nonsync)
                while (!inflight.empty()) finish(report, inflight);
            std::uint64_t bytes = 0;
            for (const auto& b : bodies) bytes += b.message.size();
            imap::Client::Tag tag;
            try {
                tag = m_client->submit_multiappend(report.target, std::move(bodies));
            } catch (const imap::Abort&) {
                throw;
            } catch (const std::exception& e) {  // an unsendable flag
                for (const auto* m : messages) fail(report, *m, e.what());
                return;
            }
            inflight.push_back({tag, std::move(messages), bytes});
            if (!nonsync || inflight.size() >= std::max<std::size_t>(1, m_options.pipeline_depth))
                finish(report, inflight);
            while (inflight.size() > 1 && too_much_in_flight(inflight)) finish(report, inflight);
        };
        auto flush = [&] {
            if (batch.empty()) return;
            submit(std::move(batch), std::move(batch_messages));
            batch.clear();
            batch_messages.clear();
            batch_bytes = 0;
        };
        try {
            for (std::size_t i = 0; i < pending.size(); ++i) {
                const auto* m = pending[i];
                if (stop_requested()) {
                    while (!inflight.empty()) finish(report, inflight);
                    throw RestoreHalted{"stopped by a signal; run restore again to resume", true};
                }
                // Larger than any the target took in this run: sent alone and
                // its answer awaited, so that a refusal for size spares the
                // larger ones after it (prepare()).
                const bool probe = m->size > kProbeSize && m->size > m_largest_taken;
                if (probe) {
                    flush();
                    while (!inflight.empty()) finish(report, inflight);
                }
                auto body = prepare(report, *m);
                if (!body) continue;
                if (!admit_upload(*m)) {  // the daily upload budget is spent
                    for (std::size_t j = i; j < pending.size(); ++j) {
                        ++report.left;
                        report.left_bytes += pending[j]->size;
                    }
                    break;
                }
                count_dropped(report, *m);
                const std::uint64_t size = body->message.size();
                if (!m_multiappend || size > kBatchMessageMax) {
                    flush();
                    std::vector<imap::AppendMessage> one;
                    one.push_back(std::move(*body));
                    submit(std::move(one), {m});
                    if (probe)
                        while (!inflight.empty()) finish(report, inflight);
                    continue;
                }
                if (batch.size() >= kBatchCount || batch_bytes + size > kBatchBytes) flush();
                batch_bytes += size;
                batch.push_back(std::move(*body));
                batch_messages.push_back(m);
            }
            flush();
            while (!inflight.empty()) finish(report, inflight);
        } catch (const imap::Abort&) {
            // Appended or not, nobody knows yet: reconnect_after() decides.
            for (const auto& f : inflight) m_lost.insert(m_lost.end(), f.messages.begin(), f.messages.end());
            throw;
        } catch (const TargetStopped&) {
            // What was sent before the refusal may have landed: its answers
            // are read and journaled, so the next run sends none of it again.
            while (!inflight.empty()) finish(report, inflight);
            throw;
        }
    }

    void journal(RestoreMailboxReport& report, const store::MessageRecord& m, const imap::AppendResult& result) {
        if (m_options.stop_after_appends && ++m_appends == m_options.stop_after_appends) throw RestoreStopped{};
        // APPENDUID only counts where UIDPLUS is offered.
        const auto uid = m_uidplus && result.uidvalidity ? result.uid : std::nullopt;
        m_catalog.add_restore_entry({m_target.name, report.target, m.id, uid ? result.uidvalidity->value : 0,
                                     uid ? uid->value : 0, now(), /*flags_checked=*/false});
        m_appended->push_back({&m, uid, detail::flags_for_target(m.flags, m_permanent).send});
        ++report.appended;
        ++m_progress;
        m_done.insert(m.id);
        m_largest_taken = std::max(m_largest_taken, m.size);
        report.bytes += m.size;
        if (++m_batch >= std::max<std::size_t>(1, m_options.journal_batch)) {
            m_batch = 0;
            commit_journal();
            m_catalog.begin();
        }
    }

    void finish(RestoreMailboxReport& report, std::deque<InFlight>& inflight) {
        auto f = inflight.front();
        inflight.pop_front();
        try {
            auto results = m_client->finish_multiappend(f.tag, f.messages.size());
            for (std::size_t i = 0; i < f.messages.size(); ++i) journal(report, *f.messages[i], results[i]);
        } catch (const imap::Abort&) {
            m_lost.insert(m_lost.end(), f.messages.begin(), f.messages.end());
            throw;
        } catch (const imap::CommandFailed& e) {
            const auto hint = throttle_hint(e);
            if (f.messages.size() == 1 && !hint) {
                refused(report, *f.messages.front(), e);
                return;
            }
            // The target stopped the run: nothing is sent again, what it
            // refuses is left for the next run (count_left).
            if (m_stopped_by_target) return;
            // MULTIAPPEND is all or nothing (RFC 3502 §6.3.11), and a NO is
            // no APPEND: nothing of it was appended, so sending it again
            // duplicates nothing. What is in flight goes first; then its
            // messages one by one (only the one the server refuses is
            // reported), after the wait a throttling server asked for.
            while (!inflight.empty()) finish(report, inflight);
            int attempt = 1;
            if (hint && !pace(hint, attempt++, "APPEND to " + report.target)) {
                for (const auto* m : f.messages) refused(report, *m, e);
                return;
            }
            for (const auto* m : f.messages) append_alone(report, *m, attempt);
        }
    }

    // One message sent by itself, its answer awaited; a throttling refusal
    // waits (pace) and sends it again, `attempt` numbering the retries.
    void append_alone(RestoreMailboxReport& report, const store::MessageRecord& m, int attempt) {
        for (;;) {
            auto body = prepare(report, m);
            if (!body) return;
            try {
                auto tag = m_client->submit_append(report.target, body->flags, body->internaldate,
                                                   std::move(body->message));
                journal(report, m, m_client->finish_append(tag));
                return;
            } catch (const imap::Abort&) {
                m_lost.push_back(&m);
                throw;
            } catch (const imap::CommandFailed& single) {
                const auto hint = throttle_hint(single);
                if (!hint || !pace(hint, attempt++, "APPEND to " + report.target))
                    return refused(report, m, single);
            }
        }
    }

    // The target refused the APPEND of `m`: that message fails, the rest go on.
    void refused(RestoreMailboxReport& report, const store::MessageRecord& m, const imap::CommandFailed& e) {
        if (!refused_as_too_big(e.completion())) return fail(report, m, describe(e));
        if (!m_refused_size || m.size < *m_refused_size) m_refused_size = m.size;
        fail(report, m, "too large for the target (" + std::to_string(m.size) + " bytes): " + describe(e));
    }

    void fail(RestoreMailboxReport& report, const store::MessageRecord& m, std::string reason) {
        report.failures.push_back({m.uidvalidity, m.uid, std::move(reason)});
        m_failed.insert(m.id);
        ++m_progress;
    }

    const sync::AccountConfig& m_target;
    store::Catalog& m_catalog;
    store::MessageStore& m_messages;
    const RestoreOptions& m_options;
    RestoreReport& m_report;
    std::unique_ptr<imap::Client> m_client;
    std::optional<std::uint64_t> m_limit;          // APPENDLIMIT=n: every mailbox's
    bool m_per_mailbox_limits = false;             // APPENDLIMIT alone: each mailbox has its own
    std::optional<std::uint64_t> m_mailbox_limit;  // the current target mailbox's
    bool m_literal_plus = false;
    bool m_literal_minus = false;
    bool m_multiappend = false;
    bool m_uidplus = false;
    bool m_unselect = false;
    std::optional<std::vector<std::string>> m_permanent;  // the selected target's PERMANENTFLAGS
    std::vector<detail::AppendedMessage>* m_appended = nullptr;
    std::string m_delimiter;
    std::string m_target_prefix;  // the target's personal namespace prefix
    std::string m_source_prefix;  // the backed-up account's
    // The current mailbox's name on a target that refuses the usual one
    // (create_refused_name); "" when it would be the same name.
    std::string m_refused_name_target;
    bool m_one_to_one = false;                      // the current source has a target of its own
    std::map<std::string, std::string> m_claimed;   // target -> the source restored to it
    std::vector<SourceMailbox> m_account;           // every mailbox of the backed-up account
    // The target names of m_account, and those listed on the target, by
    // their folded form (keep_case_apart).
    std::map<std::string, std::set<std::string>> m_fold_groups;
    std::map<std::string, std::set<std::string>> m_listed_folded;
    std::map<std::string, std::string> m_moved;     // target name -> the name it went to instead
    std::set<std::string> m_existing;
    std::string m_target_all;   // the target's All Mail when it is Gmail
    bool m_set_labels = false;  // the mailbox being restored gets X-GM-LABELS
    std::uint64_t m_appends = 0;
    std::size_t m_batch = 0;
    // Lost connections (reconnect_after): messages that failed in this run,
    // those in flight when the connection died, how often each was, and how
    // many messages were appended or failed (to tell a connection that got
    // something done).
    std::set<store::Id> m_failed;
    std::set<store::Id> m_done;  // appended and journaled in this run
    std::vector<const store::MessageRecord*> m_lost;
    std::map<store::Id, int> m_strikes;
    std::uint64_t m_progress = 0;
    std::uint64_t m_progress_at_connect = 0;
    int m_reconnects = 0;
    int m_renewals = 0;  // OAuth2 token renewals since the last progress
    int m_connect_waits = 0;  // throttle waits for the current login
    int m_bye_waits = 0;      // throttle waits for BYEs since the last progress
    sync::SystemPaceClock m_system_clock;
    sync::Pacer m_pacer;  // the target's pacing: rate limits, upload budget, throttle waits
    std::optional<store::Id> m_target_id;  // the target's account row, for its upload budget
    bool m_resumed = false;
    bool m_stopped_by_target = false;  // stop_by_target(): nothing more is sent
    // The smallest message the target refused as too large in this run, and
    // the largest it took.
    std::optional<std::uint64_t> m_refused_size;
    std::uint64_t m_largest_taken = 0;
};

}  // namespace

RestoreReport restore_account(const sync::AccountConfig& target, store::Catalog& catalog,
                              store::MessageStore& messages, const RestoreOptions& options) {
    RestoreReport report;
    report.source_account = options.source_account;
    report.target_account = target.name;
    auto account_id = catalog.find_account(options.source_account);
    if (!account_id) {
        report.error = "account " + options.source_account + " has no backup in this store";
        return report;
    }
    auto mailboxes = catalog.mailboxes(*account_id, options.at.has_value());
    // Told by the whole account, not by the mailboxes selected.
    std::vector<SourceMailbox> all;
    for (const auto& mb : mailboxes) all.push_back({mb.name, mb.delimiter});
    auto source_prefix = source_personal_prefix(all);
    std::erase_if(mailboxes, [&](const store::MailboxRecord& mb) {
        if (options.at && mb.deleted_at && *mb.deleted_at <= *options.at) return true;
        return !sync::mailbox_selected(mb.name, mb.delimiter, options.mailbox_patterns, {});
    });
    std::sort(mailboxes.begin(), mailboxes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    Restorer(target, catalog, messages, options, report)
        .run(std::move(mailboxes), std::move(source_prefix), std::move(all));
    return report;
}

}  // namespace imapkeep::archive
