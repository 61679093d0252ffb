// One mailbox's sync: EXAMINE, reconcile known messages by the best path the
// server offers (QRESYNC, CONDSTORE, plain), then stream new messages to disk.
//
// Durability order (DESIGN.md "Store"): body -> tmp/, fsync (batched), rename
// into cur/, then the catalog transaction; the high-water marks move in that
// same transaction, so they never pass a message that is not durable.
#include "sync/mailbox_sync.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <imapkeep/store/folder_allocation.hpp>
#include <imapkeep/store/orphans.hpp>
#include <imapkeep/sync/reserved_mailboxes.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <map>
#include <set>

#include "sync/paced_stream.hpp"
#include "sync/rematch_planner.hpp"

namespace imapkeep::sync {

namespace {

constexpr std::size_t kFlagBatch = 500;

}  // namespace

std::string parse_message_id(const std::string& header) {
    auto colon = header.find(':');
    if (colon == std::string::npos) return "";
    std::string value;
    for (std::size_t i = colon + 1; i < header.size(); ++i) {
        char c = header[i];
        if (c == '\r' || c == '\n') {
            // A folded line continues with whitespace; anything else ends the field.
            std::size_t j = i;
            while (j < header.size() && (header[j] == '\r' || header[j] == '\n')) ++j;
            if (j < header.size() && (header[j] == ' ' || header[j] == '\t')) {
                i = j - 1;
                continue;
            }
            break;
        }
        value += c;
    }
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t");
    return b == std::string::npos ? "" : value.substr(b, e - b + 1);
}

imap::MailboxName listed_name(imap::Client& client, const ServerMailbox& mailbox) {
    if (mailbox.wire_name.empty()) return client.mailbox_name(mailbox.name);
    return imap::MailboxName::from_wire(mailbox.wire_name);
}

const char* path_name(SyncPath path) {
    switch (path) {
        case SyncPath::Qresync:
            return "QRESYNC";
        case SyncPath::Condstore:
            return "CONDSTORE";
        case SyncPath::Plain:
            return "plain";
    }
    return "plain";
}

namespace {

PaceClock& clock_for(const BackupOptions& options, std::unique_ptr<PaceClock>& own) {
    if (options.clock) return *options.clock;
    own = std::make_unique<SystemPaceClock>(options.stop);
    return *own;
}

}  // namespace

AccountRun::AccountRun(const AccountConfig& a, const BackupOptions& o)
    : account(a), options(o), pacer(a.pacing, clock_for(o, m_own_clock)), connect(a.connect) {
    if (pacer.limits_bytes())
        connect.wrap_stream = [this, inner = connect.wrap_stream](transport::StreamPtr stream) {
            if (inner) stream = inner(std::move(stream));
            return paced_stream(std::move(stream), pacer);
        };
}

std::optional<std::uint32_t> AccountRun::hold_for_budget(
    std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted, MailboxReport& report) {
    std::size_t admitted = 0;
    if (!pacer.has_budget()) {
        admitted = pacer.admit(wanted);  // all, or none after the server's daily limit
    } else {
        std::lock_guard lock(m_admitted_mutex);
        UidSet& before = m_admitted[report.name];
        while (admitted < wanted.size() && before.contains(Uid(wanted[admitted].first))) ++admitted;
        const std::vector<std::pair<std::uint32_t, std::uint64_t>> rest(
            wanted.begin() + static_cast<std::ptrdiff_t>(admitted), wanted.end());
        const std::size_t fresh = pacer.admit(rest);
        for (std::size_t i = 0; i < fresh; ++i) before.add(Uid(rest[i].first));
        admitted += fresh;
    }
    if (admitted == wanted.size()) return std::nullopt;
    const std::uint32_t first_held = wanted[admitted].first;
    report.deferred += wanted.size() - admitted;
    for (std::size_t i = admitted; i < wanted.size(); ++i)
        report.deferred_bytes += wanted[i].second;
    wanted.resize(admitted);
    return first_held;
}

std::uint64_t AccountRun::save_usage(store::Catalog& catalog) {
    if (!pacer.has_budget() || account_id == 0) return 0;
    const std::uint64_t bytes = pacer.take_unsaved();
    if (bytes != 0) {
        try {
            catalog.add_downloaded(account_id, pacer.day(), bytes);
        } catch (...) {
            pacer.put_back(bytes);
            throw;
        }
    }
    return bytes;
}

void AccountRun::note(const std::string& line) {
    if (!options.pacing_note) return;
    std::lock_guard lock(m_note_mutex);
    options.pacing_note(line);
}

void AccountRun::step() {
    auto n = ++steps;
    if (options.stop_after_steps != 0 && n >= options.stop_after_steps) throw StopRequested{};
    stop_if_asked();
}

void AccountRun::expect(const std::string& mailbox, std::uint64_t messages) {
    auto* p = options.progress;
    if (!p) return;
    std::lock_guard lock(expected_mutex);
    if (!expected.emplace(mailbox, messages).second) return;
    p->messages_total += messages;
    p->mailboxes_uncounted += 1;
}

void AccountRun::counted(const std::string& mailbox, std::uint64_t messages, std::uint64_t bytes) {
    auto* p = options.progress;
    if (!p) return;
    std::lock_guard lock(expected_mutex);
    // Added before the estimate comes off, so the total never dips below zero.
    p->messages_total += messages;
    p->bytes_total += bytes;
    auto it = expected.find(mailbox);
    if (it == expected.end()) return;
    p->messages_total -= it->second;
    p->mailboxes_uncounted -= 1;
    expected.erase(it);
}

void AccountRun::stop_if_asked() const {
    if (options.stop && options.stop->load()) throw StopRequested{};
}

MailboxSync::MailboxSync(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                         store::MessageStore& messages)
    : m_run(run), m_client(client), m_catalog(catalog), m_messages(messages) {}

std::int64_t MailboxSync::now() const { return static_cast<std::int64_t>(std::time(nullptr)); }

store::MailboxRecord MailboxSync::load_record(const ServerMailbox& mailbox) {
    if (auto existing = m_catalog.find_mailbox(m_run.account_id, mailbox.name)) {
        if (!existing->deleted_at) return *existing;
        // The name came back after a delete: start over as a new mailbox; the old
        // record stays with its attic history.
    }
    store::MailboxRecord r;
    r.account_id = m_run.account_id;
    r.name = mailbox.name;
    r.delimiter = mailbox.delimiter;
    r.folder = m_messages.folder_for(mailbox.name, mailbox.delimiter);
    r.mailboxid = mailbox.mailboxid;
    return r;
}

MailboxReport MailboxSync::sync(const ServerMailbox& mailbox,
                                const std::optional<imap::StatusData>& listed_status) {
    auto started = std::chrono::steady_clock::now();
    m_report = MailboxReport{};
    m_marker = PendingMarker{};  // never a marker state of another mailbox
    m_report.name = mailbox.name;
    if (auto why = reserved_mailbox(m_client, mailbox.name)) {
        m_report.path = "skipped";
        m_report.skipped = *why;
        return m_report;
    }
    auto record = load_record(mailbox);
    const bool is_new = record.id == 0;
    m_report.created = is_new;
    if (m_run.gmail && mailbox.name == m_run.gmail->all) {
        m_labels =
            std::make_unique<LabelView>(*m_run.gmail, m_catalog, m_messages, m_run.account.name);
        m_report.labels = m_run.gmail_label_filter.named;
    }
    if (!is_new && !m_run.options.dry_run) {
        m_messages.create_folder(m_run.account.name, record.folder);
        tidy_folder(m_run, m_catalog, m_messages, record);
        if (m_labels) link_pending(record);
    }

    if (!is_new && skip_unchanged(record, mailbox, listed_status)) return m_report;

    auto examined = examine(mailbox, record, is_new);
    bool reconciled = true;
    m_deferred.reset();
    if (!is_new && record.uidvalidity != 0 &&
        record.uidvalidity != examined.selected.uidvalidity.value) {
        handle_uidvalidity_change(record, examined.selected.uidvalidity.value);
    } else if (!is_new && uids_went_back(record, examined)) {
        handle_uidvalidity_change(record, record.uidvalidity);
    } else if (!is_new) {
        plan_marker(record, examined);
        if (can_defer_reconcile(record, examined)) {
            m_deferred = Deferred{&examined, std::nullopt};
        } else if (can_defer_apply(examined)) {
            std::optional<FlagDiff> listed;
            reconciled = guarded(
                [&] { listed = list_known(record, known_path(record, examined), examined.selected); });
            if (listed) m_deferred = Deferred{&examined, std::move(listed)};
        } else {
            reconciled = reconcile_known(record, examined);
        }
    }
    record.uidvalidity = examined.selected.uidvalidity.value;
    record.delimiter = mailbox.delimiter;
    if (!mailbox.mailboxid.empty()) record.mailboxid = mailbox.mailboxid;
    if (!m_run.options.dry_run && record.id == 0) {
        save_new_record(record);
        m_run.step();
        // A run killed before it saved the record may have left tmp/ files
        // in the folder it had chosen, the same one again.
        m_messages.clean_folder_tmp(m_run.account.name, record.folder);
    }

    m_closing.reset();
    if (!m_labels) m_closing = Closing{&examined, reconciled};
    fetch_new(record, std::max<std::uint32_t>(record.uidnext, 1), examined.selected.uidnext);
    if (m_deferred) reconciled = m_deferred->reconciled;  // applied by fetch_new
    if (m_labels) link_pending(record);
    if (!closed()) stamp_after_writes(record);
    finish(record, examined, reconciled);
    m_report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return m_report;
}

// The folder was looked into at the start (tidy_folder) and only this run
// wrote to it since: its stamp now spares the next run that look, where the
// stamp taken at the start would differ by this run's own writes.
void MailboxSync::stamp_after_writes(store::MailboxRecord& record) {
    if (m_run.options.dry_run || record.id == 0) return;
    record.folder_stamp = m_messages.folder_stamp_after_writes(m_run.account.name, record.folder);
}

bool MailboxSync::skip_unchanged(store::MailboxRecord& record, const ServerMailbox& mailbox,
                                 const std::optional<imap::StatusData>& listed_status) {
    // Without LIST-STATUS, one STATUS round trip still spares the EXAMINE and
    // the flag diff of an unchanged mailbox (only a modseq can prove "unchanged").
    if (m_labels && m_run.gmail_relabel_all) return false;
    std::optional<imap::StatusData> status = listed_status;
    if (!status && m_run.best_path != SyncPath::Plain && record.highestmodseq != 0) {
        try {
            status = m_client.status(listed_name(m_client, mailbox),
                                     {imap::StatusItem::UidValidity, imap::StatusItem::UidNext,
                                      imap::StatusItem::HighestModSeq});
        } catch (const imap::CommandFailed&) {
            // The EXAMINE that follows reports the real problem, if any.
        }
    }
    if (!status || !proven_unchanged(m_catalog, record, *status, m_run.best_path)) return false;
    m_report.path = "unchanged";
    if (!m_run.options.dry_run) {
        record.last_sync_at = now();
        m_catalog.save_mailbox(record);
    }
    return true;
}

MailboxSync::Examined MailboxSync::examine(const ServerMailbox& mailbox,
                                           const store::MailboxRecord& record, bool is_new) {
    Examined e;
    e.path = m_run.best_path;
    std::optional<imap::QresyncParams> qresync;
    m_examined_changes = FlagChanges{};
    if (e.path == SyncPath::Qresync && !is_new && record.uidvalidity != 0 &&
        record.highestmodseq != 0) {
        qresync = imap::QresyncParams{
            UidValidity(record.uidvalidity), ModSeq(record.highestmodseq), {}, {}};
        // Kept compact: the server may name every message (FlagChanges).
        qresync->on_changed = [this](imap::FetchData& f) {
            if (f.uid && f.flags) m_examined_changes.set(f.uid->value, *f.flags);
        };
    }
    // With QRESYNC the changes since our modseq arrive in the EXAMINE itself.
    e.selected = m_client.select(listed_name(m_client, mailbox), true, qresync,
                                 e.path == SyncPath::Condstore);
    e.qresync_used = qresync.has_value();
    if (!e.selected.highestmodseq) e.path = SyncPath::Plain;  // [NOMODSEQ] mailbox
    m_report.path = path_name(e.path);
    return e;
}

// Flags and expunges of the messages the catalog knows. A failure here is this
// mailbox's error, but new mail is still fetched (invariant 7); only a dead
// connection (Abort) or the test stop hook end the mailbox's sync.
bool MailboxSync::reconcile_known(store::MailboxRecord& record, const Examined& examined) {
    return guarded([&] { sync_known(record, known_path(record, examined), examined.selected); });
}

SyncPath MailboxSync::known_path(const store::MailboxRecord& record, const Examined& examined) {
    // Quirk: a HIGHESTMODSEQ below the catalog's mark with the same
    // UIDVALIDITY (closeio/sync-engine#943; RFC 7162 §3.1.1 forbids it): the
    // server's mod-sequences restarted, and the changes "since" our mark are
    // not all it would name. Every known message is compared instead, and
    // the mark comes down to the server's.
    const auto& highest = examined.selected.highestmodseq;
    if (highest && record.uidvalidity == examined.selected.uidvalidity.value &&
        highest->value < record.highestmodseq)
        return SyncPath::Plain;
    // [NOMODSEQ] in answer to a QRESYNC EXAMINE: no changes were named, as
    // the mailbox keeps none (examine() made its path plain).
    if (examined.qresync_used && examined.path != SyncPath::Plain) return SyncPath::Qresync;
    return examined.path == SyncPath::Qresync ? SyncPath::Condstore : examined.path;
}

bool MailboxSync::guarded(const std::function<void()>& step) {
    try {
        step();
        return true;
    } catch (const StopRequested&) {
        throw;
    } catch (const imap::Abort&) {
        throw;
    } catch (const imap::CommandFailed& e) {
        // A throttling server: the worker waits and syncs the mailbox again.
        if (imap::server_hint(e)) throw;
        m_report.errors.push_back(std::string("reconciling known messages: ") + e.what());
        return false;
    } catch (const std::exception& e) {
        m_report.errors.push_back(std::string("reconciling known messages: ") + e.what());
        return false;
    }
}

bool MailboxSync::can_defer_reconcile(const store::MailboxRecord& record, const Examined& examined) const {
    // Not Gmail's All Mail: its label changes and links are steps of their own.
    // Not when the known messages take another path than QRESYNC's (a
    // HIGHESTMODSEQ that went down): that one sends FETCHes, which must not
    // follow the new mail's FETCHes in flight, as the client gives untagged
    // FETCH data to the oldest FETCH open and a server may answer them at once.
    return examined.qresync_used && known_path(record, examined) == SyncPath::Qresync && !m_labels &&
           !m_run.options.dry_run;
}

bool MailboxSync::can_defer_apply(const Examined& examined) const {
    return !examined.qresync_used && !m_labels && !m_run.options.dry_run;
}

bool MailboxSync::reconcile_deferred(store::MailboxRecord& record) {
    if (!m_deferred || m_deferred->done) return false;
    m_deferred->done = true;
    if (auto& listed = m_deferred->listed) {
        m_deferred->reconciled = guarded([&] { apply_known(*listed); });
    } else {
        m_deferred->reconciled = reconcile_known(record, *m_deferred->examined);
    }
    // The last batch's commit saves the flag high-water mark with the record.
    if (m_closing) m_closing->reconciled = m_deferred->reconciled;
    return true;
}

// The flag high-water mark moves only when every known message was reconciled:
// otherwise the next run asks for the same changes again.
void MailboxSync::finish(store::MailboxRecord& record, const Examined& examined, bool reconciled) {
    close_record(record, examined, reconciled);
    if (!m_run.options.dry_run && !closed()) {
        m_catalog.begin();
        try {
            m_catalog.save_mailbox(record);
            clear_unspent_marker(record);
            m_catalog.commit();
        } catch (...) {
            m_catalog.rollback();
            throw;
        }
        m_run.step();
    }
    // The mailbox stays selected: the worker leaves it before its next
    // mailbox (Worker::leave_mailbox), and LOGOUT needs no UNSELECT first.
}

void MailboxSync::close_record(store::MailboxRecord& record, const Examined& examined,
                               bool reconciled) const {
    if (reconciled)
        record.highestmodseq =
            examined.selected.highestmodseq ? examined.selected.highestmodseq->value : 0;
    record.sync_path = path_name(examined.path);
    record.last_sync_at = now();
}

// A run killed between renaming files into cur/ and committing their catalog
// rows leaves files no row points to. They are always messages at or above the
// high-water mark, which this run is about to fetch again.
void MailboxSync::remove_orphans(const store::MailboxRecord& record) {
    store::remove_orphans(m_catalog, m_messages, m_run.account.name, record.folder);
}

void MailboxSync::save_new_record(store::MailboxRecord& record) {
    std::lock_guard lock(m_run.folders);
    record.folder = store::allocate_folder(m_catalog, m_messages, m_run.account_id, record.name,
                                           record.delimiter);
    record.id = m_catalog.save_mailbox(record);
    m_messages.create_folder(m_run.account.name, record.folder);
}

// Which UIDs of `range` the server still has, asked in slices: without
// ESEARCH each slice's answer is one "* SEARCH" line, which must stay well
// below the line limit (a UID is at most 10 digits and a space).
UidSet MailboxSync::server_uids(const UidSet& range) {
    const std::uint64_t per_line = m_client.options().limits.max_line / 11;
    const std::uint64_t slice =
        std::clamp<std::uint64_t>(per_line > 16 ? per_line - 16 : 1, 1, kSearchUids);
    const bool esearch = m_client.has_capability("ESEARCH");
    UidSet present;
    for (const auto& part : range.chunked(slice)) {
        auto found = m_client.uid_search(imap::SearchKey::uid(part), esearch);
        for (const auto& r : found.uids.ranges()) present.add_range(Uid(r.first), Uid(r.last));
    }
    return present;
}

// A window's flag changes and expunges. Few of them (the usual incremental
// run) take one durable step together: one catalog commit and one fsync of
// each directory touched, instead of one of each per kind of change.
void MailboxSync::apply_changes(const FlagDiff& diff) {
    if (diff.changed.empty() && diff.expunged.empty()) return;
    if (diff.changed.size() + diff.expunged.size() > kFlagBatch) {
        apply_flags(diff);
        apply_expunges(diff.expunged);
        return;
    }
    apply_range(diff.changed, 0, diff.changed.size(), diff.expunged, 0, diff.expunged.size());
}

void MailboxSync::apply_flags(const FlagDiff& diff) {
    for (std::size_t start = 0; start < diff.changed.size(); start += kFlagBatch)
        apply_range(diff.changed, start, std::min(diff.changed.size(), start + kFlagBatch), {}, 0,
                    0);
}

void MailboxSync::apply_expunges(const std::vector<store::Id>& ids) {
    for (std::size_t start = 0; start < ids.size(); start += kFlagBatch)
        apply_range({}, 0, 0, ids, start, std::min(ids.size(), start + kFlagBatch));
}

// Gmail's label links are files and rows at once (LabelView), so All Mail
// keeps the one-phase step; every other mailbox moves its files before the
// catalog is locked.
void MailboxSync::apply_range(const Changed& changed, std::size_t flags_from, std::size_t flags_to,
                              const std::vector<store::Id>& expunged, std::size_t gone_from,
                              std::size_t gone_to) {
    std::vector<MovedFile> flagged, gone;
    auto files = [&] {
        flagged = rename_for_flags(changed, flags_from, flags_to);
        gone = move_expunged(expunged, gone_from, gone_to);
    };
    const bool mark = m_marker.wanted && m_marker.state == Marker::Untouched;
    auto rows = [&] {
        record_flags(flagged);
        record_expunged(gone);
        if (mark) m_catalog.set_files_pending(m_marker.mailbox_id, true);
    };
    if (!m_labels) {
        m_run.durable_step_files_first(m_catalog, m_messages, files, rows);
    } else {
        m_run.durable_step(m_catalog, m_messages, [&] {
            flagged = rename_for_flags(changed, flags_from, flags_to);
            record_flags(flagged);
            for (const auto& m : flagged) m_labels->follow(m.row.id);
            for (std::size_t i = gone_from; i < gone_to; ++i) retire(expunged[i]);
            if (gone_from != gone_to) m_labels->remove_emptied_folders();
            if (mark) m_catalog.set_files_pending(m_marker.mailbox_id, true);
        });
    }
    if (mark) m_marker.state = Marker::SetWithChanges;
}

// EXAMINE's UIDNEXT says new mail is coming. If no earlier run left files
// pending, the marker the first batch of new files needs is set in the
// commit of the known messages' changes, if there are any; fetch_new then
// neither sweeps the folder nor commits the marker on its own.
void MailboxSync::plan_marker(const store::MailboxRecord& record, const Examined& examined) {
    m_marker = PendingMarker{};
    if (m_run.options.dry_run || record.id == 0) return;
    const auto& uidnext = examined.selected.uidnext;
    if (!uidnext || uidnext->value <= record.uidnext) return;
    m_marker.mailbox_id = record.id;
    m_marker.wanted = !m_catalog.files_pending(record.id);
}

// Set with the changes, but no new file was renamed into the folder (the
// new mail was expunged before it was fetched, or all of it was cataloged
// already): nothing is pending, so the next run need not sweep.
void MailboxSync::clear_unspent_marker(const store::MailboxRecord& record) {
    if (m_marker.state != Marker::Unspent) return;
    m_catalog.set_files_pending(record.id, false);
    m_marker.state = Marker::Untouched;
}

std::vector<MailboxSync::MovedFile> MailboxSync::rename_for_flags(const Changed& changed,
                                                                  std::size_t start,
                                                                  std::size_t end) {
    std::vector<store::Id> ids;
    std::map<store::Id, const std::vector<std::string>*> flags_of;
    for (std::size_t i = start; i < end; ++i) {
        ids.push_back(changed[i].first);
        flags_of[changed[i].first] = &changed[i].second;
    }
    std::vector<MovedFile> moved;
    for (auto& message : m_catalog.messages_by_id(ids)) {
        const auto& flags = *flags_of.at(message.id);
        auto file = m_messages.set_flags(m_messages.locate(message.file), flags);
        moved.push_back({std::move(message), flags, std::move(file)});
    }
    return moved;
}

std::vector<MailboxSync::MovedFile> MailboxSync::move_expunged(const std::vector<store::Id>& ids,
                                                               std::size_t start, std::size_t end) {
    std::vector<MovedFile> moved;
    const bool keep = m_run.account.expunged == ExpungedPolicy::Keep;
    const std::vector<store::Id> range(ids.begin() + static_cast<std::ptrdiff_t>(start),
                                       ids.begin() + static_cast<std::ptrdiff_t>(end));
    for (auto& message : m_catalog.messages_by_id(range)) {
        std::string file;
        if (keep) {
            file = m_messages.move_to_attic(m_messages.locate(message.file));
        } else {
            // Not locate(): it crosses into the attic, where another row's
            // file may share the unique name; remove() follows a rename
            // only inside the file's own folder and tree.
            m_messages.remove(message.file);
        }
        moved.push_back({std::move(message), {}, std::move(file)});
    }
    return moved;
}

void MailboxSync::record_flags(const std::vector<MovedFile>& moved) {
    for (const auto& m : moved)
        m_catalog.update_flags(m.row.id, m.flags, m.row.modseq, m.file, now());
}

void MailboxSync::record_expunged(const std::vector<MovedFile>& moved) {
    for (const auto& m : moved) {
        if (m.file.empty()) {
            m_catalog.delete_message(m.row.id);
        } else {
            m_catalog.mark_expunged(m.row.id, now(), m.file);
        }
    }
}

// Inside a durable step: the message is gone from the server; to the attic
// (or away, when mirroring), its Gmail label links first.
void MailboxSync::retire(store::Id id) {
    auto message = m_catalog.message_by_id(id);
    if (!message) return;
    if (m_labels) m_labels->drop(id);
    if (m_run.account.expunged == ExpungedPolicy::Keep) {
        m_catalog.mark_expunged(id, now(),
                                m_messages.move_to_attic(m_messages.locate(message->file)));
    } else {
        m_messages.remove(message->file);  // never locate() (move_expunged)
        m_catalog.delete_message(id);
    }
}

// Quirk: EXAMINE's UIDNEXT below the catalog's mark with the same
// UIDVALIDITY. RFC 3501 §2.3.1.1 forbids it (UIDs strictly ascending), and a
// server whose mail store went back to an older state (restored from a
// backup, a replica that lagged) gives the UIDs above it again, to other
// messages: the catalog's rows for them would stand for mail they are not,
// and the new mail under our mark would never be fetched. A live row at or
// above UIDNEXT tells it too where the mark stayed lower (a run that failed).
bool MailboxSync::uids_went_back(const store::MailboxRecord& record, const Examined& examined) {
    const auto& uidnext = examined.selected.uidnext;
    if (record.uidvalidity == 0 || !uidnext) return false;
    if (uidnext->value < record.uidnext) return true;
    UidSet above;
    above.add_range(Uid(std::max<std::uint32_t>(uidnext->value, 1)), Uid(0xFFFFFFFFu));
    return !m_catalog.cataloged_uids(record.id, record.uidvalidity, above).empty();
}

// Also for uids_went_back (`new_uidvalidity` the catalog's): the UIDs no
// longer say which message is which, so every message is matched again by
// its content, as after a UIDVALIDITY change.
void MailboxSync::handle_uidvalidity_change(store::MailboxRecord& record,
                                            std::uint32_t new_uidvalidity) {
    const bool same = new_uidvalidity == record.uidvalidity;
    if (same)
        m_report.warnings.push_back("UIDNEXT went down from " + std::to_string(record.uidnext) +
                                    " with the same UIDVALIDITY: messages matched again by content");
    else
        m_report.uidvalidity_reset = true;
    RematchPlanner planner(m_catalog, record.id);
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    m_client.uid_fetch(all, RematchPlanner::listing_items(), [&](imap::FetchData& d) { planner.add(d); });
    auto plan = planner.plan();
    m_report.expunged += plan.unmatched_catalog.size();
    if (m_run.options.dry_run) return;
    // One transaction: the re-keyed messages, the retired unmatched ones and the
    // new UIDVALIDITY land together, so a crash leaves either the old world or
    // the new one (invariant 3).
    m_run.durable_step(m_catalog, m_messages, [&] {
        for (auto id : plan.unmatched_catalog) retire(id);
        for (const auto& [id, uid] : plan.matched) {
            auto message = m_catalog.message_by_id(id);
            if (!message) continue;
            // Same UIDVALIDITY: a message under another UID than the
            // catalog's would take a key another row may still hold; it is
            // retired and fetched again instead (rare: the server renumbered).
            if (same && message->uid != uid) {
                retire(id);
                continue;
            }
            // The file name's ",U=" follows the new UID, as Dovecot's would.
            auto file = m_messages.set_uid(m_messages.locate(message->file), uid);
            m_catalog.rekey_message(id, new_uidvalidity, uid, file);
            const auto& f = planner.flags_of(uid);
            if (f != store::normalize_flags(message->flags)) {
                file = m_messages.set_flags(file, f);
                m_catalog.update_flags(id, f, message->modseq, file, now());
            }
            if (m_labels) m_labels->follow(id);
        }
        record.uidvalidity = new_uidvalidity;
        record.uidnext = 1;
        record.highestmodseq = 0;
        m_catalog.save_mailbox(record);
    });
}

}  // namespace imapkeep::sync
