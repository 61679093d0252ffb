// backup_account: connect, list, reconcile the mailbox set (new, renamed,
// deleted), then sync mailboxes on up to `connections` parallel connections.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <imapkeep/store/folder_allocation.hpp>
#include <imapkeep/sync/backup.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "sync/folder_check.hpp"
#include "sync/gmail_adopt.hpp"
#include "sync/mailbox_sync.hpp"
#include "sync/repeated_entries.hpp"
#include "sync/throttle.hpp"
#include "sync/work_order.hpp"

namespace imapkeep::sync {

namespace {

constexpr std::size_t kRenameSample = 8;

struct Listed {
    ServerMailbox mailbox;
    std::optional<imap::StatusData> status;
};

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Which path the server allows, and turn it on (RFC 7162 §3.2.3: QRESYNC must be
// ENABLEd; CONDSTORE is enabled by its first use, ENABLE makes it explicit).
SyncPath choose_path(imap::Client& client, const AccountConfig& account) {
    const std::string& forced = account.sync_path;
    bool qresync = client.has_capability("QRESYNC") && (forced.empty() || forced == "qresync");
    bool condstore = (client.has_capability("CONDSTORE") || client.has_capability("QRESYNC")) &&
                     (forced.empty() || forced == "qresync" || forced == "condstore");
    if (qresync && client.has_capability("ENABLE")) {
        auto on = client.enable({"QRESYNC"});
        if (std::find(on.begin(), on.end(), "QRESYNC") != on.end()) return SyncPath::Qresync;
    }
    if (condstore) {
        if (client.has_capability("ENABLE")) client.enable({"CONDSTORE"});
        return SyncPath::Condstore;
    }
    return SyncPath::Plain;
}

// A mailbox renamed on the server: one folder rename, then every path in one
// transaction. Both halves are idempotent, so a run stopped between them
// finishes the job next time (the rename is detected again).
MailboxReport apply_rename(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                           store::MailboxRecord record, const ServerMailbox& target) {
    MailboxReport r;
    r.name = target.name;
    r.renamed = true;
    r.renamed_from = record.name;
    r.path = "renamed";
    if (run.options.dry_run) return r;
    try {
        const std::string account = run.account.name;
        run.durable_step(catalog, messages, [&] {
            auto new_folder = store::allocate_folder(catalog, messages, run.account_id, target.name,
                                                     target.delimiter, record.id);
            // Earlier renames inside the folder must be durable before it moves.
            messages.sync_committed();
            messages.rename_folder(account, record.folder, new_folder);
            for (const auto& m : catalog.messages(record.id))
                catalog.rekey_message(m.id, m.uidvalidity, m.uid,
                                      messages.path_in_folder(m.file, account, new_folder));
            record.name = target.name;
            record.delimiter = target.delimiter;
            record.folder = new_folder;
            catalog.save_mailbox(record);
        });
    } catch (const StopRequested&) {
        throw;
    } catch (const std::exception& e) {
        r.errors.push_back(std::string("rename: ") + e.what());
    }
    return r;
}

// A mailbox deleted on the server: its messages go to the attic (or away, when
// mirroring) and the mailbox is marked deleted; its history stays.
MailboxReport apply_delete(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                           store::MailboxRecord record) {
    MailboxReport r;
    r.name = record.name;
    r.deleted = true;
    r.path = "deleted";
    auto live = catalog.messages(record.id);
    r.expunged = live.size();
    if (run.options.dry_run) return r;
    try {
        const std::string account = run.account.name;
        run.durable_step(catalog, messages, [&] {
            for (const auto& m : live) {
                if (run.account.expunged == ExpungedPolicy::Keep) {
                    catalog.mark_expunged(m.id, now(),
                                          messages.move_to_attic(messages.locate(m.file)));
                } else {
                    // Not locate(): it crosses into the attic, where another
                    // row's file may share the unique name; remove() stays
                    // in the file's own folder and tree.
                    messages.remove(m.file);
                    catalog.delete_message(m.id);
                }
            }
            record.deleted_at = now();
            catalog.save_mailbox(record);
            // The live tree mirrors the server: drop the emptied folder.
            if (!record.folder.empty()) messages.remove_folder(account, record.folder);
        });
    } catch (const StopRequested&) {
        throw;
    } catch (const std::exception& e) {
        r.errors.push_back(std::string("delete: ") + e.what());
    }
    return r;
}

// Evidence for an unproven rename (same UIDVALIDITY, no MAILBOXID on one side):
// the candidate holds the catalog's messages at their UIDs. Any failure to ask
// is no evidence: a delete plus a create loses nothing, a wrong rename does.
bool confirm_rename(imap::Client& client, store::Catalog& catalog,
                    const store::MailboxRecord& record, const ServerMailbox& candidate) {
    auto sample = rename_sample(catalog.messages(record.id), record.uidvalidity, kRenameSample);
    if (sample.empty()) return false;
    UidSet uids;
    for (const auto& m : sample) uids.add(Uid(m.uid));
    std::vector<ServerMessageKey> server;
    try {
        auto selected = client.select(listed_name(client, candidate), true);
        if (selected.uidvalidity.value != record.uidvalidity) return false;
        client.uid_fetch(uids, imap::FetchItems().uid().rfc822_size().header_fields_peek({"MESSAGE-ID"}),
                         [&](imap::FetchData& d) {
                             if (!d.uid || !uids.contains(*d.uid)) return;
                             ServerMessageKey key{d.uid->value, "", 0, d.rfc822_size.value_or(0)};
                             for (const auto& [section, text] : d.sections)
                                 key.message_id = parse_message_id(text);
                             server.push_back(key);
                         });
        client.unselect();
    } catch (const imap::CommandFailed&) {
        return false;
    }
    return same_messages(sample, server);
}

std::vector<Listed> list_mailboxes(imap::Client& client, SyncPath path,
                                   std::optional<GmailLayout>& gmail) {
    imap::ListOptions options;
    std::vector<imap::StatusData> statuses;
    if (client.has_capability("LIST-STATUS")) {
        options.return_status = {imap::StatusItem::UidValidity, imap::StatusItem::UidNext,
                                 imap::StatusItem::Messages};
        if (path != SyncPath::Plain) options.return_status.add(imap::StatusItem::HighestModSeq);
    }
    std::vector<imap::ListEntry> entries;
    try {
        entries = client.list("", "*", options, &statuses);
    } catch (const imap::CommandFailed& e) {
        if (!e.malformed() || options.return_status.empty()) throw;
        // Quirk(various): one mailbox's STATUS came malformed: list without it. Every mailbox
        // then asks STATUS (or EXAMINE) on its own, and only the broken one
        // loses the shortcut.
        options.return_status.clear();
        statuses.clear();
        entries = client.list("", "*", options, &statuses);
    }
    drop_repeated_entries(entries);
    distinguish_twins(entries,
                      [&](const std::string& name) { return client.encode_mailbox(name); });
    gmail = gmail_layout(client.has_capability("X-GM-EXT-1"), entries);
    if (!options.return_status.empty() && client.has_capability("OBJECTID")) {
        // Quirk(Cyrus 3.6): MAILBOXID asked together with other STATUS items
        // comes back as garbage bytes; asked alone it is right. One more LIST.
        std::vector<imap::StatusData> ids;
        try {
            client.list("", "*", imap::ListOptions{{imap::StatusItem::MailboxId}, false}, &ids);
        } catch (const imap::CommandFailed& e) {
            if (!e.malformed()) throw;
            ids.clear();  // no MAILBOXIDs this run: renames need other evidence
        }
        std::map<std::string, std::string> id_of;
        for (const auto& id : ids) id_of[id.raw_name] = id.mailboxid;
        for (auto& s : statuses) s.mailboxid = id_of[s.raw_name];
    }
    // By the wire name: two mailboxes may decode to the same name. Indexed:
    // comparing every entry with every status cost 1M string compares (9 %
    // of a no-change run) at 1,000 mailboxes. The last status of a name wins.
    std::unordered_map<std::string_view, const imap::StatusData*> status_of;
    for (const auto& s : statuses) status_of[s.raw_name] = &s;
    std::vector<Listed> out;
    for (const auto& e : entries) {
        if (!e.selectable()) continue;
        Listed l;
        l.mailbox.name = e.name;
        l.mailbox.delimiter = e.delimiter;
        l.mailbox.wire_name = e.raw_name;
        if (auto found = status_of.find(e.raw_name); found != status_of.end()) {
            const auto& s = *found->second;
            l.status = s;
            l.status->name = e.name;
            if (s.uidvalidity) l.mailbox.uidvalidity = s.uidvalidity->value;
            l.mailbox.mailboxid = s.mailboxid;
        }
        out.push_back(std::move(l));
    }
    return out;
}

// The mailboxes of one run, handed out to `workers` parallel workers one at a
// time in `order` (indices into `selected`). A worker whose connection is one
// too many for the server gives its mailbox back and leaves (leave()), as long
// as another worker is still taking mailboxes to sync it.
class MailboxQueue {
  public:
    MailboxQueue(const std::vector<Listed>& selected, std::vector<std::size_t> order,
                 const AccountRun& run, int workers,
                 std::vector<std::chrono::microseconds> estimates = {})
        : m_selected(selected),
          m_order(std::move(order)),
          m_results(selected.size()),
          m_run(run),
          m_estimates(std::move(estimates)),
          m_taking(workers) {
        for (auto e : m_estimates) m_untaken += e;
    }

    // The next mailbox to sync, or nullopt when all are taken or the run stops
    // (a stop request is a boundary between mailboxes); the caller then ends.
    std::optional<std::size_t> take() {
        std::lock_guard lock(m_mutex);
        try {
            m_run.stop_if_asked();
        } catch (const StopRequested&) {
            if (!m_stop) m_stop = std::current_exception();
        }
        if (!m_stop && !m_given_back.empty()) {
            auto index = m_given_back.front();
            m_given_back.pop_front();
            return index;
        }
        if (m_next >= m_order.size() || m_stop) {
            --m_taking;
            m_changed.notify_all();
            return std::nullopt;
        }
        const auto index = m_order[m_next++];
        if (index < m_estimates.size()) {
            m_taken += m_estimates[index];
            m_untaken -= m_estimates[index];
        }
        if (m_next == m_order.size()) m_changed.notify_all();  // no standby is needed now
        return index;
    }
    // A standby worker's turn (ConnectionPlan): from `from` on, looks every
    // `connection` whether the untaken mailboxes are worth one more at the
    // run's pace since `started` (standby_worth_opening). true, and the
    // caller is one more worker taking mailboxes, when they are; false once
    // none is left to take, the run stops, or a worker left because the
    // server wants fewer connections.
    bool join_when_worth(std::chrono::steady_clock::time_point started,
                         std::chrono::steady_clock::time_point from,
                         std::chrono::microseconds connection) {
        using namespace std::chrono;
        std::unique_lock lock(m_mutex);
        const auto over = [&] { return m_next >= m_order.size() || m_stop || m_fewer; };
        for (auto look = from;; look = steady_clock::now() + connection) {
            if (m_changed.wait_until(lock, look, over)) return false;
            const auto elapsed = duration_cast<microseconds>(steady_clock::now() - started);
            if (standby_worth_opening(elapsed, m_taken, m_untaken, connection)) break;
        }
        ++m_taking;
        return true;
    }
    // Gives mailbox `index` back and ends the caller's share of the work,
    // unless it is the last worker still taking mailboxes (then false).
    bool leave(std::size_t index) {
        std::lock_guard lock(m_mutex);
        if (m_taking <= 1) return false;
        --m_taking;
        m_given_back.push_back(index);
        m_fewer = true;
        m_changed.notify_all();
        return true;
    }
    const Listed& at(std::size_t index) const { return m_selected[index]; }
    void record(std::size_t index, MailboxReport report) { m_results[index] = std::move(report); }
    void stop(std::exception_ptr why) {
        std::lock_guard lock(m_mutex);
        m_stop = why;
        m_changed.notify_all();
    }
    std::exception_ptr stopped() const { return m_stop; }
    std::vector<MailboxReport>& results() { return m_results; }

  private:
    const std::vector<Listed>& m_selected;
    const std::vector<std::size_t> m_order;
    std::vector<MailboxReport> m_results;
    const AccountRun& m_run;
    const std::vector<std::chrono::microseconds> m_estimates;  // by index; may be empty
    std::chrono::microseconds m_taken{}, m_untaken{};          // their sums
    std::mutex m_mutex;
    std::condition_variable m_changed;  // all taken, stopped, or a worker left
    std::size_t m_next = 0;
    std::deque<std::size_t> m_given_back;
    int m_taking;
    bool m_fewer = false;  // a worker left: the server wants fewer connections
    std::exception_ptr m_stop;
};

// One parallel worker: its own connection and catalog handle, syncing
// mailboxes from the queue until it is empty. A dead connection is opened
// again once per mailbox; a throttling server is waited for (throttle.hpp);
// errors become the mailbox's report.
class Worker {
  public:
    Worker(AccountRun& run, store::MessageStore& messages, MailboxQueue& queue)
        : m_run(run), m_messages(messages), m_queue(queue) {}
    ~Worker() {
        if (m_client) m_client->logout();
    }

    // The first worker reuses the connection and catalog the run already has.
    void adopt(std::unique_ptr<imap::Client> client, store::Catalog* catalog) {
        m_client = std::move(client);
        m_catalog = catalog;
    }

    // Logs out now rather than when the worker goes.
    void close() { drop_connection(); }

    // `first`: a mailbox already taken from the queue for this worker.
    void run(std::optional<std::size_t> first = std::nullopt) {
        // Its own catalog handle opens while the connection waits for the
        // server's greeting and LOGIN (sync_one): neither waits for the other.
        if (!m_catalog) m_opening = std::async(std::launch::async, m_run.options.open_catalog);
        try {
            run_lane(first, nullptr);
        } catch (...) {
            join_second_lane();
            throw;
        }
        join_second_lane();
        if (m_second_failure) std::rethrow_exception(m_second_failure);
    }

  private:
    // Syncs mailboxes from the queue, each holding the connection (m_turn)
    // until it is done or gives it up early (MailboxSync::
    // release_connection_with): then the worker's other lane, on its own
    // thread and catalog handle, syncs the next mailbox while this one's
    // last commits run (issue 10: they were a fifth of a 1% changed run).
    // `catalog` null: the worker's own handle (take_catalog).
    void run_lane(std::optional<std::size_t> first, store::Catalog* catalog) {
        for (;;) {
            std::unique_lock turn(m_turn);
            const auto index = first ? std::exchange(first, std::nullopt) : take();
            if (!index) return;
            const auto& listed = m_queue.at(*index);
            if (auto* p = m_run.options.progress)
                p->set_current(m_run.account.name + "/" + listed.mailbox.name);
            auto report = sync_one(*index, listed, catalog, turn);
            // One connection fewer: another worker syncs it. (A mailbox that
            // gave the turn up was not given back.)
            if (turn.owns_lock() && m_left) return;
            m_run.counted(listed.mailbox.name, 0, 0);
            if (!report) return;  // stopped
            report->name = listed.mailbox.name;
            m_queue.record(*index, std::move(*report));
        }
    }

    // The queue's next mailbox, with the turn held. Once the queue said none
    // (or this worker left), the other lane does not ask it again: the
    // queue counts each worker's end once.
    std::optional<std::size_t> take() {
        if (m_taken_all || m_left) return std::nullopt;
        auto index = m_queue.take();
        if (!index) m_taken_all = true;
        return index;
    }

    bool overlaps() const {
        return m_run.options.overlap_mailboxes && m_run.options.open_catalog && !m_run.gmail &&
               !m_run.options.dry_run;
    }

    // The mailbox gave the connection up: the other lane starts the first
    // time, with its own catalog handle.
    void give_turn(std::unique_lock<std::mutex>& turn) {
        if (!m_second_started) {
            m_second_started = true;
            m_second_lane = std::thread([this] { run_second_lane(); });
        }
        turn.unlock();
    }

    void join_second_lane() {
        if (m_second_lane.joinable()) m_second_lane.join();
    }

    // A catalog handle that cannot be opened costs only the overlap: the
    // first lane goes on alone.
    void run_second_lane() {
        try {
            std::unique_ptr<store::Catalog> catalog;
            try {
                catalog = m_run.options.open_catalog();
            } catch (const std::exception&) {
                return;
            }
            run_lane(std::nullopt, catalog.get());
        } catch (...) {
            m_second_failure = std::current_exception();
        }
    }

    void connect() {
        if (m_client) return;
        m_client = connect_paced(m_run, /*only_connection=*/false);
        choose_path(*m_client, m_run.account);
    }

    // The catalog handle run() began to open. A catalog server out of
    // connection slots (or any failure to open) costs a connection, as an
    // IMAP server that wants fewer does: the mailbox goes back to the queue
    // (false). The last worker taking mailboxes has no one to leave it to:
    // the failure is that mailbox's error.
    bool take_catalog(std::size_t index) {
        if (m_catalog) return true;
        try {
            // After a failed open the future is spent: this mailbox opens its own.
            m_own_catalog = m_opening.valid() ? m_opening.get() : m_run.options.open_catalog();
        } catch (const std::exception& e) {
            if (!m_queue.leave(index)) throw;
            drop_connection();
            m_left = true;
            m_run.note(m_run.account.name + ": a connection could not open its own catalog handle (" +
                       e.what() + "); going on with one less");
            return false;
        }
        m_catalog = m_own_catalog.get();
        return true;
    }

    // Syncs one mailbox, reconnecting once when the connection dies, and
    // following what a throttling server asks (on_hint). A connection lost
    // after the mailbox made durable progress since the last loss (an OAuth2
    // token that expired again in a long mailbox) starts both budgets anew:
    // each try then ends with more of the mailbox stored, so the tries end.
    // nullopt: the run stops, or this worker gave the mailbox back (m_left).
    // `catalog` null: the worker's own (take_catalog). `turn` is held on
    // entry; the mailbox may give it up (give_turn).
    std::optional<MailboxReport> sync_one(std::size_t index, const Listed& listed,
                                          store::Catalog* catalog,
                                          std::unique_lock<std::mutex>& turn) {
        MailboxReport report;
        int reconnects = 0, waits = 0, renewals = 0;
        MailboxMark mark;
        for (;;) {
            imap::ServerHint hint;
            std::string token;  // the OAuth2 token of a session that ended
            try {
                connect();
                if (!catalog && !take_catalog(index)) return std::nullopt;
                leave_mailbox();
                return sync_mailbox(listed, catalog ? *catalog : *m_catalog, turn);
            } catch (const StopRequested&) {
                m_queue.stop(std::current_exception());
                return std::nullopt;
            } catch (const imap::Abort& e) {
                // The connection died: reconnect once and try the mailbox again.
                if (m_client) token = m_client->oauth2_token();
                m_client.reset();
                report.errors = {e.what()};
                report.connection_lost = true;
                hint = e.hint();
                if (progressed(catalog ? catalog : m_catalog, listed, mark))
                    reconnects = waits = renewals = 0;
                if (!hint && ++reconnects < 2) continue;
            } catch (const imap::ConnectError& e) {
                m_client.reset();
                report.errors = {e.what()};
                report.connection_lost = e.transient();
                hint = e.hint();
            } catch (const imap::CommandFailed& e) {
                drop_if_dead();
                report.errors = {e.what()};
                report.connection_lost = false;
                hint = imap::server_hint(e);
            } catch (const store::StoreError& e) {
                report.errors = {e.what()};
                report.connection_lost = e.transient();  // a remote store's outage: retried
            } catch (const std::exception& e) {
                report.errors = {e.what()};
                report.connection_lost = false;
            }
            if (!hint) return report;
            if (hint.action == imap::ServerHint::Action::RenewToken) {
                if (m_client) {  // a NO that says so: the session is no good either
                    token = m_client->oauth2_token();
                    drop_connection();
                }
                try {
                    renew_expired_token(m_run, token, hint, ++renewals);
                    continue;
                } catch (const imap::ConnectError&) {
                    m_queue.stop(std::current_exception());  // every connection would end so
                    return std::nullopt;
                }
            }
            try {
                if (on_hint(hint, ++waits, index, listed, report)) continue;
            } catch (const StopRequested&) {
                m_queue.stop(std::current_exception());
                return std::nullopt;
            }
            if (m_left) return std::nullopt;
            return report;
        }
    }

    // A failure after the mailbox gave the connection up is its own: the
    // connection, another mailbox's now, is not touched, and nothing is
    // tried again (sync_one's retries are the connection's).
    std::optional<MailboxReport> sync_mailbox(const Listed& listed, store::Catalog& catalog,
                                              std::unique_lock<std::mutex>& turn) {
        MailboxSync sync(m_run, *m_client, catalog, m_messages);
        if (overlaps()) sync.release_connection_with([this, &turn] { give_turn(turn); });
        try {
            return sync.sync(listed.mailbox, listed.status);
        } catch (const StopRequested&) {
            throw;
        } catch (const std::exception& e) {
            if (turn.owns_lock()) throw;
            MailboxReport report;
            report.errors = {e.what()};
            if (const auto* store_error = dynamic_cast<const store::StoreError*>(&e))
                report.connection_lost = store_error->transient();
            return report;
        }
    }

    // The server said no more for now (`why`, for the note): nothing more is
    // fetched in this run (Pacer::stop_for_today, the report's budget reason
    // `reason`), this mailbox is deferred, not failed.
    void stop_for_now(const std::string& reason, const std::string& why, const std::string& where,
                      MailboxReport& report) {
        m_run.pacer.stop_for_today(reason);
        m_run.note(m_run.account.name + ": " + where + ": " + why +
                   "; the rest waits for the next run");
        report.errors.clear();
        report.connection_lost = false;
        report.path = "deferred";
        report.deferred_uncounted = true;
    }

    // What a throttling server asked for, done; true: sync the mailbox again.
    bool on_hint(const imap::ServerHint& hint, int attempt, std::size_t index, const Listed& listed,
                 MailboxReport& report) {
        using Action = imap::ServerHint::Action;
        const std::string where = listed.mailbox.name;
        if (hint.action == Action::StopForToday) {
            stop_for_now(hint.reason, "the server's daily limit is reached (" + hint.reason + ")",
                         where, report);
            return false;
        }
        if (hint.action == Action::FewerConnections) {
            drop_connection();
            if (m_queue.leave(index)) {
                m_left = true;
                m_run.note(m_run.account.name + ": the server allows fewer connections (" +
                           hint.reason + "); going on with one less");
                return false;
            }
        }
        // Still throttled after every wait: the run stops for now with the
        // rest left (exit 75), as for a daily limit, never a failed mailbox.
        if (attempt > m_run.pacer.limits().throttle_retries) {
            const std::string reason = still_throttled_reason(attempt - 1, hint);
            stop_for_now(reason, "the server kept throttling (" + reason + ")", where, report);
            return false;
        }
        // A long wait would outlast the server's idle timeout: connect again after it.
        if (m_run.pacer.hint_wait(hint, attempt) >= kLongWait) drop_connection();
        pause_for(m_run, hint, attempt, where);
        return true;
    }

    // How far the mailbox is stored (its high-water marks), as the catalog
    // has it after a failed try; read only when a connection was lost.
    struct MailboxMark {
        bool known = false;
        std::uint32_t uidnext = 0;
        std::uint64_t highestmodseq = 0;
        bool operator==(const MailboxMark&) const = default;
    };
    // Whether the mark moved since `last` (then updated); no evidence (no
    // earlier mark, no record, a catalog error) is no progress.
    bool progressed(store::Catalog* catalog, const Listed& listed, MailboxMark& last) {
        if (!catalog) return false;  // lost before its catalog was taken
        MailboxMark now;
        try {
            if (auto r = catalog->find_mailbox(m_run.account_id, listed.mailbox.name))
                now = MailboxMark{true, r->uidnext, r->highestmodseq};
        } catch (const std::exception&) {
            return false;
        }
        const bool moved = last.known && now.known && !(now == last);
        last = now;
        return moved;
    }

    // The last mailbox synced on this connection is left before the next is
    // examined, so no response of the old mailbox can be taken for the new
    // one's (with QRESYNC, RFC 7162's CLOSED response code). After a
    // connection's last mailbox LOGOUT does it: one round trip fewer.
    void leave_mailbox() {
        if (m_client->state() != imap::State::Selected) return;
        try {
            m_client->unselect();
        } catch (const imap::CommandFailed&) {
            // Nothing was changed on the server; a refused UNSELECT only costs a reselect.
        }
    }

    void drop_if_dead() {
        if (m_client && m_client->state() == imap::State::Logout) m_client.reset();
    }

    void drop_connection() {
        if (m_client) m_client->logout();
        m_client.reset();
    }

    static constexpr std::chrono::seconds kLongWait{30};

    AccountRun& m_run;
    store::MessageStore& m_messages;
    MailboxQueue& m_queue;
    std::unique_ptr<imap::Client> m_client;
    std::future<std::unique_ptr<store::Catalog>> m_opening;
    std::unique_ptr<store::Catalog> m_own_catalog;
    store::Catalog* m_catalog = nullptr;
    bool m_left = false;  // gave its mailbox back: the server wants fewer connections
    // The connection's turn: held by the lane whose mailbox uses it. It also
    // guards m_client, m_left and the members below.
    std::mutex m_turn;
    bool m_taken_all = false;  // the queue said no more
    bool m_second_started = false;
    std::thread m_second_lane;
    std::exception_ptr m_second_failure;
};

// The account's live mailboxes by name: one catalog read for the whole run.
std::map<std::string, store::MailboxRecord> live_mailboxes(store::Catalog& catalog,
                                                           store::Id account_id) {
    std::map<std::string, store::MailboxRecord> out;
    if (account_id == 0) return out;
    for (auto& m : catalog.mailboxes(account_id)) out.emplace(m.name, std::move(m));
    return out;
}

// Mailboxes LIST-STATUS proves unchanged since the catalog's record are
// settled here, before any worker connects: no IMAP command, no fsync, no
// write. Their Maildir needs no create_folder: the run that saved the
// record's mod-sequence had made the folder durable first; tidy_folder looks
// into it only when its stamp moved, and not at all when FolderCheck found it
// unchanged while the server listed. Returns a report for each settled
// mailbox, by index, and the records to save (last-sync time, stamp).
struct Settled {
    std::vector<std::optional<MailboxReport>> reports;
    std::vector<std::pair<std::size_t, SettledMailbox>> records;  // by index
};

Settled settle_unchanged(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                         const FolderCheck& folders, const std::vector<Listed>& selected) {
    Settled settled;
    settled.reports.resize(selected.size());
    auto known = live_mailboxes(catalog, run.account_id);
    for (std::size_t i = 0; i < selected.size(); ++i) {
        const auto& listed = selected[i];
        auto found = known.find(listed.mailbox.name);
        if (!listed.status || found == known.end()) continue;
        auto& record = found->second;
        if (!proven_unchanged(catalog, record, *listed.status, run.best_path)) continue;
        if (run.gmail_relabel_all && record.name == run.gmail->all) continue;
        if (!run.options.dry_run && !folders.unchanged(record.folder, record.folder_stamp)) {
            try {
                tidy_folder(run, catalog, messages, record);
            } catch (const std::exception&) {
                continue;  // a worker tries again and reports it
            }
        }
        MailboxReport report;
        report.name = listed.mailbox.name;
        report.path = "unchanged";
        settled.reports[i] = std::move(report);
        settled.records.emplace_back(i, SettledMailbox{record.id, now(), record.folder_stamp});
    }
    return settled;
}

// The settled records in one transaction of their own (BackupOptions::
// defer_settled unset); a failure is each settled mailbox's error.
void save_settled_now(store::Catalog& catalog, Settled& settled) {
    if (settled.records.empty()) return;
    try {
        catalog.begin();
        for (const auto& [index, m] : settled.records)
            catalog.mark_checked(m.mailbox_id, m.checked_at, m.folder_stamp);
        catalog.commit();
    } catch (const std::exception& e) {
        catalog.rollback();
        for (const auto& [index, record] : settled.records)
            settled.reports[index]->errors = {e.what()};
    }
}

// New messages to expect in a mailbox, from LIST-STATUS or STATUS: all of
// them for a mailbox never backed up (or whose UIDVALIDITY changed), else
// the UIDs assigned since the stored UIDNEXT, at most MESSAGES.
std::uint64_t estimate_new(const std::optional<store::MailboxRecord>& record,
                           const imap::StatusData& status) {
    const std::uint64_t messages = status.messages.value_or(0);
    if (!record || record->deleted_at || !status.uidvalidity ||
        status.uidvalidity->value != record->uidvalidity)
        return messages;
    if (!status.uidnext || status.uidnext->value <= record->uidnext) return 0;
    return std::min<std::uint64_t>(messages, status.uidnext->value - record->uidnext);
}

// Flag changes and expunges to expect: the mod-sequence steps since the
// stored mark, less the new messages', at most MESSAGES; 0 when a mark is
// missing or the mailbox is all new. RFC 7162 §3.1 moves HIGHESTMODSEQ for
// every command that changes metadata, not for every message: a STORE on
// thousands may be one step (plan_connections' standby covers that), and a
// counter shared by the account's mailboxes (Gmail) gives too many.
std::uint64_t estimate_changes(const std::optional<store::MailboxRecord>& record,
                               const imap::StatusData& status, std::uint64_t new_messages) {
    if (!record || record->deleted_at || record->highestmodseq == 0 || !status.highestmodseq ||
        !status.uidvalidity || status.uidvalidity->value != record->uidvalidity)
        return 0;
    const std::uint64_t now = status.highestmodseq->value;
    if (now <= record->highestmodseq) return 0;
    const std::uint64_t steps = now - record->highestmodseq;
    return std::min<std::uint64_t>(steps - std::min(steps, new_messages),
                                   status.messages.value_or(0));
}

// What LIST-STATUS (or STATUS) says each mailbox of `work` holds to do.
std::vector<MailboxWork> status_work(const AccountRun& run, store::Catalog& catalog,
                                     const std::vector<Listed>& work) {
    auto known = live_mailboxes(catalog, run.account_id);
    std::vector<MailboxWork> out;
    for (const auto& listed : work) {
        MailboxWork w;
        if (listed.status) {
            std::optional<store::MailboxRecord> record;
            if (auto found = known.find(listed.mailbox.name); found != known.end())
                record = found->second;
            w.estimated = true;
            w.new_messages = estimate_new(record, *listed.status);
            w.messages = listed.status->messages.value_or(0);
            w.changes = estimate_changes(record, *listed.status, w.new_messages);
        }
        out.push_back(w);
    }
    return out;
}

// Syncs `work` on up to `connections` connections, never more than there are
// mailboxes nor than the work is worth, the most work first (work_order.hpp);
// the first worker runs on this thread with the connection already open (or
// null, when it died), and takes its first mailbox before the others start,
// so that one is the largest.
std::vector<MailboxReport> run_workers(AccountRun& run, std::unique_ptr<imap::Client> client,
                                       store::Catalog& catalog, store::MessageStore& messages,
                                       const std::vector<Listed>& work) {
    int workers = std::clamp(run.account.connections, 1, 16);
    if (!run.options.open_catalog) workers = 1;
    const auto estimates = status_work(run, catalog, work);
    WorkCosts costs;
    costs.connection = run.account.connection_cost;
    const bool lists_known = run.best_path != SyncPath::Qresync;
    const auto plan = plan_connections(estimates, lists_known, workers, costs);
    const auto started = std::chrono::steady_clock::now();
    MailboxQueue queue(work, most_work_first(estimates, lists_known, costs), run, plan.at_once,
                       plan.estimates);
    Worker first(run, messages, queue);
    first.adopt(std::move(client), &catalog);
    const auto first_mailbox = queue.take();
    std::vector<std::thread> threads;
    for (int i = 1; i < plan.at_once + plan.standby; ++i)
        threads.emplace_back([&, standby = i >= plan.at_once] {
            if (standby &&
                !queue.join_when_worth(started, started + plan.standby_after, costs.connection))
                return;
            Worker worker(run, messages, queue);
            worker.run();
        });
    if (first_mailbox) first.run(first_mailbox);
    first.close();
    for (auto& t : threads) t.join();
    if (auto stop = queue.stopped()) std::rethrow_exception(stop);
    return std::move(queue.results());
}

// Puts each mailbox's estimate into the progress totals before any worker
// starts, so the bar's total is (nearly) whole from the start. Without
// LIST-STATUS, STATUS per mailbox when asked (BackupOptions::status_for_totals).
void expect_totals(AccountRun& run, imap::Client* client, store::Catalog& catalog,
                   const std::vector<Listed>& work) {
    if (!run.options.progress) return;
    for (const auto& listed : work) {
        std::optional<imap::StatusData> status = listed.status;
        if (!status && client && run.options.status_for_totals) {
            try {
                status = client->status(listed_name(*client, listed.mailbox),
                                        {imap::StatusItem::Messages, imap::StatusItem::UidNext,
                                         imap::StatusItem::UidValidity});
            } catch (const imap::CommandFailed&) {
            } catch (const imap::Error&) {
                client = nullptr;  // the connection died: the workers connect again
            }
        }
        std::optional<store::MailboxRecord> record;
        if (run.account_id != 0) record = catalog.find_mailbox(run.account_id, listed.mailbox.name);
        run.expect(listed.mailbox.name, status ? estimate_new(record, *status) : 0);
    }
}

// Quirk(Gmail): a label renamed or deleted on the server need not move All
// Mail's HIGHESTMODSEQ, so LIST-STATUS and CHANGEDSINCE may not show it.
// A label the store links to whose mailbox is no longer listed tells.
bool gmail_labels_gone(AccountRun& run, store::Catalog& catalog,
                       const std::vector<Listed>& listed) {
    if (!run.gmail || run.account_id == 0) return false;
    auto all = catalog.find_mailbox(run.account_id, run.gmail->all);
    if (!all || all->deleted_at) return false;
    std::set<std::string> names;
    for (const auto& l : listed) names.insert(l.mailbox.name);
    for (const auto& label : catalog.linked_labels(all->id)) {
        if (label.starts_with('\\')) continue;  // system labels stay
        if (!names.count(label_mailbox(*run.gmail, label))) return true;
    }
    return false;
}

// Syncs the selected mailboxes: the unchanged ones settled at once, workers
// only for the rest. Reports come in the order of `selected`; the settled
// records are saved, or left in `account.settled` when the caller saves them.
std::vector<MailboxReport> sync_mailboxes(AccountRun& run, std::unique_ptr<imap::Client> client,
                                          store::Catalog& catalog, store::MessageStore& messages,
                                          const FolderCheck& folders, const std::vector<Listed>& selected,
                                          AccountReport& account) {
    auto settled = settle_unchanged(run, catalog, messages, folders, selected);
    if (!run.options.dry_run) {
        if (run.options.defer_settled) {
            for (auto& [index, m] : settled.records) account.settled.push_back(std::move(m));
        } else {
            save_settled_now(catalog, settled);
        }
    }
    std::vector<Listed> work;
    for (std::size_t i = 0; i < selected.size(); ++i)
        if (!settled.reports[i]) work.push_back(selected[i]);
    expect_totals(run, client.get(), catalog, work);
    std::vector<MailboxReport> worked;
    if (work.empty()) {
        if (client) client->logout();
    } else {
        if (!run.options.dry_run) run.changing();
        worked = run_workers(run, std::move(client), catalog, messages, work);
    }
    std::vector<MailboxReport> reports;
    auto next = worked.begin();
    for (auto& s : settled.reports) reports.push_back(s ? std::move(*s) : std::move(*next++));
    return reports;
}

// What one run looks at: every server mailbox the config covers (for renames
// and deletions), and those of them this run syncs (--mailbox narrows it).
struct Scope {
    std::vector<ServerMailbox> in_scope;
    std::vector<Listed> selected;
    // Gmail: the label views (INBOX, Sent, user labels) the config, and
    // --mailbox if given, select; and the labels All Mail is then synced for
    // (keep_labelled).
    std::vector<ServerMailbox> label_views;
    LabelFilter label_filter;
};

// Gmail, `mailboxes = ["INBOX"]` or --mailbox INBOX: a label view selected
// means its label's messages, so All Mail joins the scope for them, unless
// it is selected whole already.
void select_by_labels(const std::vector<Listed>& listed, const AccountConfig& account,
                      const BackupOptions& options, const GmailLayout& gmail, Scope& scope) {
    auto is_all = [&](const auto& l) { return l.mailbox.name == gmail.all; };
    if (scope.label_views.empty() ||
        std::any_of(scope.selected.begin(), scope.selected.end(), is_all))
        return;
    auto all = std::find_if(listed.begin(), listed.end(), is_all);
    if (all == listed.end()) {
        scope.label_views.clear();
        return;
    }
    if (std::none_of(scope.in_scope.begin(), scope.in_scope.end(),
                     [&](const ServerMailbox& m) { return m.name == gmail.all; }))
        scope.in_scope.push_back(all->mailbox);
    scope.selected.push_back(*all);
    auto& f = scope.label_filter;
    f = LabelFilter{account.mailboxes, account.exclude, options.mailbox_filter, {}};
    for (const auto& pattern : f.filter.empty() ? f.mailboxes : f.filter)
        if (std::any_of(scope.label_views.begin(), scope.label_views.end(),
                        [&](const ServerMailbox& m) {
                            return mailbox_selected(m.name, m.delimiter, {pattern}, {});
                        }))
            f.named.push_back(pattern);
}

Scope select_mailboxes(const std::vector<Listed>& listed, const AccountConfig& account,
                       const BackupOptions& options, const std::optional<GmailLayout>& gmail) {
    Scope scope;
    const auto& filter = options.mailbox_filter;
    auto filtered_in = [&](const ServerMailbox& m) {
        return filter.empty() || mailbox_selected(m.name, m.delimiter, filter, {});
    };
    for (const auto& l : listed) {
        if (!mailbox_selected(l.mailbox.name, l.mailbox.delimiter, account.mailboxes,
                              account.exclude))
            continue;
        if (gmail && !gmail_backs_up(*gmail, l.mailbox.name, account.gmail_trash_and_junk)) {
            if (filtered_in(l.mailbox) && !gmail->trash_and_junk.count(l.mailbox.name))
                scope.label_views.push_back(l.mailbox);
            continue;
        }
        scope.in_scope.push_back(l.mailbox);
        if (filtered_in(l.mailbox)) scope.selected.push_back(l);
    }
    if (gmail) select_by_labels(listed, account, options, *gmail, scope);
    return scope;
}

// The --mailbox patterns no mailbox in scope matches.
std::vector<std::string> unmatched_patterns(const std::vector<std::string>& patterns,
                                            const std::vector<ServerMailbox>& in_scope) {
    std::vector<std::string> out;
    for (const auto& p : patterns)
        if (std::none_of(in_scope.begin(), in_scope.end(), [&](const ServerMailbox& m) {
                return mailbox_selected(m.name, m.delimiter, {p}, {});
            }))
            out.push_back(p);
    return out;
}

// Without LIST-STATUS we lack UIDVALIDITY for rename detection: ask STATUS for
// mailboxes new to the catalog only (usually none).
void fill_uidvalidity(imap::Client& client, std::vector<ServerMailbox>& in_scope,
                      const std::vector<store::MailboxRecord>& known) {
    std::set<std::string> known_names;
    for (const auto& m : known) known_names.insert(m.name);
    for (auto& s : in_scope) {
        if (s.uidvalidity != 0 || known_names.count(s.name)) continue;
        try {
            auto st = client.status(listed_name(client, s), {imap::StatusItem::UidValidity});
            if (st.uidvalidity) s.uidvalidity = st.uidvalidity->value;
        } catch (const imap::CommandFailed&) {
        }
    }
}

// Renames and deletions on the server, applied to the catalog and the store.
// Only when the whole configured scope is being looked at.
void reconcile_mailbox_set(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                           store::MessageStore& messages, std::vector<ServerMailbox> in_scope,
                           const std::vector<ServerMailbox>& label_views,
                           std::vector<MailboxReport>& reports) {
    // In scope: what the config selects, and Gmail's All Mail when only its
    // label views are selected (select_by_labels).
    std::set<std::string> scoped;
    for (const auto& m : in_scope) scoped.insert(m.name);
    // Gmail: a label mailbox a store from before Gmail support has is no
    // deleted mailbox (retire_label_mailboxes ends it once All Mail covers it).
    std::set<std::string> views;
    for (const auto& m : label_views) views.insert(m.name);
    std::vector<store::MailboxRecord> known;
    for (auto& m : catalog.mailboxes(run.account_id))
        if (!views.count(m.name) &&
            (scoped.count(m.name) ||
             mailbox_selected(m.name, m.delimiter, run.account.mailboxes, run.account.exclude)))
            known.push_back(m);
    fill_uidvalidity(client, in_scope, known);
    auto changes = plan_mailboxes(in_scope, known);
    auto record_of = [&](store::Id id) {
        return *std::find_if(known.begin(), known.end(), [&](const auto& m) { return m.id == id; });
    };
    // Without proof the candidate syncs as a new mailbox of its own.
    for (const auto& [id, candidate] : changes.unproven) {
        if (confirm_rename(client, catalog, record_of(id), candidate))
            changes.renamed.emplace_back(id, candidate);
        else
            changes.deleted.push_back(id);
    }
    for (const auto& [id, target] : changes.renamed)
        reports.push_back(apply_rename(run, catalog, messages, record_of(id), target));
    for (auto id : changes.deleted)
        reports.push_back(apply_delete(run, catalog, messages, record_of(id)));
}

// Gmail, a store from before Gmail support: a label mailbox it backed up as
// a mailbox ends once All Mail holds each of its messages
// (retire_label_mailbox), never before.
void retire_label_mailboxes(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                            const std::vector<ServerMailbox>& label_views,
                            std::vector<MailboxReport>& reports) {
    if (!run.gmail || run.account_id == 0 || run.options.dry_run) return;
    auto all = catalog.find_mailbox(run.account_id, run.gmail->all);
    if (!all || all->deleted_at) return;
    for (const auto& view : label_views) {
        auto record = catalog.find_mailbox(run.account_id, view.name);
        if (!record || record->deleted_at) continue;
        try {
            if (auto r = retire_label_mailbox(run, catalog, messages, *record, all->id))
                reports.push_back(std::move(*r));
        } catch (const StopRequested&) {
            throw;
        } catch (const std::exception& e) {
            MailboxReport r;
            r.name = view.name;
            r.errors.push_back(std::string("moving into All Mail: ") + e.what());
            reports.push_back(std::move(r));
        }
    }
}

void record_connect_failure(AccountReport& report, const std::exception& e,
                            imap::ConnectError::Kind kind, bool transient) {
    report.connect_failed = true;
    report.error = e.what();
    report.error_kind = kind;
    report.transient = transient;
}

// Logged in, then lost the account before any mailbox (ENABLE or LIST
// failed): not "never connected". A cut connection is worth a retry, a
// server's NO or BAD is not.
void record_account_failure(AccountReport& report, const imap::Error& e) {
    report.error = e.what();
    report.transient = dynamic_cast<const imap::Abort*>(&e) != nullptr;
}

// The day's budget usage so far, when there is a budget.
void start_budget_day(AccountRun& run, store::Catalog& catalog) {
    if (run.pacer.has_budget() && run.account_id != 0)
        run.pacer.start_day(catalog.downloaded_on(run.account_id, run.pacer.day()));
}

// Still throttled after `waits` waits outside a mailbox: the run stops for
// now with the rest left (exit 75), as a mailbox's fetches do, never failed.
void stop_still_throttled(AccountRun& run, int waits, const imap::ServerHint& hint, const std::string& where) {
    run.pacer.stop_for_today(still_throttled_reason(waits, hint));
    run.note(run.account.name + ": " + where + ": the server kept throttling (" + hint.reason +
             "); the rest waits for the next run");
}

// Connects, chooses the sync path and lists the mailboxes, waiting while the
// server throttles. false: the account failed (recorded in `report`), or the
// server's daily limit is reached (the pacer knows).
bool connect_and_list(AccountRun& run, std::unique_ptr<imap::Client>& client,
                      std::vector<Listed>& listed, AccountReport& report) {
    int renewals = 0;
    // An expired OAuth2 token (renew_expired_token): true to try again at once.
    auto renewed = [&](const std::string& token, const imap::ServerHint& hint) {
        if (hint.action != imap::ServerHint::Action::RenewToken) return false;
        try {
            renew_expired_token(run, token, hint, ++renewals);
            return true;
        } catch (const imap::ConnectError& e) {
            record_connect_failure(report, e, e.kind(), false);
            return false;
        }
    };
    for (int attempt = 1;; ++attempt) {
        try {
            client = connect_paced(run, /*only_connection=*/true);
            run.best_path = choose_path(*client, run.account);
            listed = list_mailboxes(*client, run.best_path, run.gmail);
            return true;
        } catch (const imap::ConnectError& e) {
            if (e.hint().action == imap::ServerHint::Action::StopForToday) {
                run.pacer.stop_for_today(e.hint().reason);
                return false;
            }
            if (renewed("", e.hint())) continue;
            // connect_paced spent every wait on a login refused by throttling.
            if (waitable_at_connect(e.hint(), /*only_connection=*/true)) {
                stop_still_throttled(run, run.pacer.limits().throttle_retries, e.hint(), "connecting");
                return false;
            }
            if (!report.connect_failed) record_connect_failure(report, e, e.kind(), e.transient());
            return false;
        } catch (const imap::Error& e) {
            if (!client) {
                record_connect_failure(report, e, imap::ConnectError::Kind::Network, true);
                return false;
            }
            const std::string token = client->oauth2_token();
            client.reset();
            const auto hint = hint_of(e);
            if (renewed(token, hint)) continue;
            if (report.connect_failed) return false;
            if (hint.action == imap::ServerHint::Action::StopForToday) {
                run.pacer.stop_for_today(hint.reason);
                return false;
            }
            if (!hint) {
                record_account_failure(report, e);
                return false;
            }
            // Still throttled after every wait: stopped for now with the
            // rest left (exit 75), as a mailbox's fetches are, never failed.
            if (attempt > run.pacer.limits().throttle_retries) {
                stop_still_throttled(run, attempt - 1, hint, "listing mailboxes");
                return false;
            }
            pause_for(run, hint, attempt, "listing mailboxes");
        }
    }
}

// Budget usage admitted but saved by no durable step (a fetch that failed
// after its admission), in a transaction of its own; usually there is none.
void save_leftover_usage(AccountRun& run, store::Catalog& catalog) {
    if (!run.pacer.has_budget() || run.account_id == 0 || run.options.dry_run) return;
    const std::uint64_t bytes = run.pacer.take_unsaved();
    if (bytes == 0) return;
    try {
        catalog.begin();
        catalog.add_downloaded(run.account_id, run.pacer.day(), bytes);
        catalog.commit();
    } catch (const std::exception&) {
        catalog.rollback();  // the next run counts a little less; no message is lost
    }
}

// The pacing part of the account's report: the budget's state, the waits.
AccountReport& finish_pacing(AccountRun& run, store::Catalog& catalog, AccountReport& report) {
    save_leftover_usage(run, catalog);
    const auto budget = run.pacer.budget();
    report.budget_reached = budget.reached || report.messages_left() > 0;
    report.budget_reason = budget.reason;
    report.budget_used = budget.used;
    report.budget_limit = budget.limit;
    report.throttle_waits = run.pacer.waits();
    if (report.budget_reached && report.mailboxes.empty()) report.messages_left_uncounted = true;
    for (const auto& m : report.mailboxes)
        if (m.deferred_uncounted) report.messages_left_uncounted = true;
    return report;
}

}  // namespace

void save_settled(store::Catalog& catalog, const AccountReport& report) {
    for (const auto& m : report.settled)
        catalog.mark_checked(m.mailbox_id, m.checked_at, m.folder_stamp);
}

AccountReport backup_account(const AccountConfig& account, store::Catalog& catalog,
                             store::MessageStore& messages, const BackupOptions& options) {
    AccountReport report;
    report.account = account.name;
    AccountRun run{account, options};
    run.account_id = catalog.find_account(account.name).value_or(0);
    if (run.account_id == 0 && !options.dry_run) {
        run.changing();
        run.account_id = catalog.ensure_account(account.name);
    }

    start_budget_day(run, catalog);

    std::unique_ptr<imap::Client> client;
    std::vector<Listed> listed;
    FolderCheck folders(catalog, messages, account.name, run.account_id);
    const bool connected = connect_and_list(run, client, listed, report);
    folders.wait();  // the catalog is this thread's again
    if (!connected) return finish_pacing(run, catalog, report);

    auto scope = select_mailboxes(listed, account, options, run.gmail);
    run.gmail_relabel_all = gmail_labels_gone(run, catalog, listed);
    run.gmail_label_filter = scope.label_filter;
    auto matchable = scope.in_scope;
    matchable.insert(matchable.end(), scope.label_views.begin(), scope.label_views.end());
    report.unmatched_patterns = unmatched_patterns(options.mailbox_filter, matchable);
    if (options.mailbox_filter.empty() && run.account_id != 0) {
        try {
            reconcile_mailbox_set(run, *client, catalog, messages, scope.in_scope,
                                  scope.label_views, report.mailboxes);
        } catch (const imap::Abort&) {
            // The connection died while asking: renames and deletions wait for
            // the next run; the workers connect again for the mailboxes.
            client.reset();
        }
    }
    try {
        for (auto& r :
             sync_mailboxes(run, std::move(client), catalog, messages, folders, scope.selected, report))
            report.mailboxes.push_back(std::move(r));
    } catch (const imap::ConnectError& e) {
        // A worker's OAuth2 token refused right after renewal (renew_expired_token).
        record_connect_failure(report, e, e.kind(), e.transient());
    }
    if (options.mailbox_filter.empty() && !report.connect_failed)
        retire_label_mailboxes(run, catalog, messages, scope.label_views, report.mailboxes);
    return finish_pacing(run, catalog, report);
}

}  // namespace imapkeep::sync
