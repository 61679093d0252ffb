// MailboxSync::sync_known: flags and expunges of the messages the catalog
// already has, by the path the server offers. The catalog is read in windows
// of BackupOptions::known_window rows (ascending UID); only the changes found are kept, so
// memory follows the window and the change, not the mailbox
// (issue 10: a plain-path run at 100k messages must stay under 64 MB). With a
// mod-sequence, only the rows of the UIDs the server named are read, so the
// time follows the change too.
#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>
#include <set>

#include "sync/mailbox_sync.hpp"

namespace imapkeep::sync {

namespace {

constexpr std::uint32_t kMaxUid = 0xFFFFFFFFu;
constexpr std::size_t kFirstWindow = 500;

ServerFlagsOf flags_of(const FlagChanges& changes) {
    return [&changes](std::uint32_t uid) { return changes.find(uid); };
}

UidSet every_uid() {
    UidSet all;
    all.add_range(Uid(1), Uid(kMaxUid));
    return all;
}

}  // namespace

void MailboxSync::sync_known(store::MailboxRecord& record, SyncPath path,
                             const imap::SelectData& selected) {
    FlagDiff found = list_known(record, path, selected);
    apply_known(found);
    apply_labels();
}

FlagDiff MailboxSync::list_known(store::MailboxRecord& record, SyncPath path,
                                 const imap::SelectData& selected) {
    retire_stale(record);
    ServerChanges server;
    server.path = path;
    server.full = path == SyncPath::Plain || record.highestmodseq == 0 ||
                  (m_labels && m_run.gmail_relabel_all);
    server.selected = &selected;
    // QRESYNC's changes came with the EXAMINE.
    if (path == SyncPath::Qresync) server.changed = std::move(m_examined_changes);
    // Only what changed is kept across windows: applied at the end, in the
    // same batches (and commits) as one whole-mailbox diff would be.
    const UidSet scope = known_scope(record, server);
    if (server.full && path != SyncPath::Qresync) return full_pass(record, scope, server);
    FlagDiff found;
    std::uint32_t next = 1;
    while (next != 0 && !scope.empty()) {
        KnownRows window = read_window(record, next, scope, window_rows());
        if (window.rows.empty()) break;
        next = window.rows.back().uid == kMaxUid ? 0 : window.rows.back().uid + 1;
        FlagDiff diff = plan_window(window, server);
        std::move(diff.changed.begin(), diff.changed.end(), std::back_inserter(found.changed));
        found.expunged.insert(found.expunged.end(), diff.expunged.begin(), diff.expunged.end());
    }
    return found;
}

std::size_t MailboxSync::window_rows() const { return std::max<std::size_t>(m_run.options.known_window, 1); }

imap::FetchItems MailboxSync::known_items() const {
    imap::FetchItems items;
    items.flags();
    return m_labels ? add_gmail_items(items) : items;
}

// Gmail: a label change moves the message's modseq, so CHANGEDSINCE brings
// its X-GM-LABELS; only those that differ from the catalog's are kept.
void MailboxSync::plan_labels(const KnownRows& window, const ServerChanges& server) {
    if (!m_labels) return;
    for (const auto& m : window.rows) {
        auto it = server.labels.find(m.uid);
        if (it == server.labels.end()) continue;
        auto labels = it->second;
        std::sort(labels.begin(), labels.end());
        labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
        auto known = m_catalog.gmail_message(m.id);
        if (!known || known->labels != labels) m_relabel.emplace_back(m.id, std::move(labels));
    }
}

// The label changes (and their history), in batches of one durable step
// each; link_pending() moves the links after.
void MailboxSync::apply_labels() {
    auto changes = std::move(m_relabel);
    m_relabel.clear();
    if (!m_labels || m_run.options.dry_run) return;
    constexpr std::size_t kBatch = 500;
    for (std::size_t start = 0; start < changes.size(); start += kBatch) {
        auto end = std::min(changes.size(), start + kBatch);
        m_run.durable_step(m_catalog, m_messages, [&] {
            for (std::size_t i = start; i < end; ++i) {
                const auto& [id, labels] = changes[i];
                auto message = m_catalog.message_by_id(id);
                if (!message || message->expunged_at) continue;
                m_labels->relabel(id, labels, now());
            }
        });
    }
}

void MailboxSync::link_pending(const store::MailboxRecord& record) {
    if (m_run.options.dry_run) return;
    constexpr std::size_t kBatch = 500;
    for (;;) {
        // Looked for first: a mailbox with nothing to link costs no step.
        auto ids = m_catalog.unlinked_gmail_messages(record.id, kBatch);
        if (ids.empty()) return;
        m_run.durable_step(m_catalog, m_messages, [&] {
            m_labels->link(ids);
            m_labels->remove_emptied_folders();
        });
        if (ids.size() < kBatch) return;
    }
}

// One window of a full pass: its catalog rows, and its FETCH.
struct MailboxSync::FullWindow {
    KnownRows window;
    imap::Client::Tag tag;
};

// Every known message's flags (the plain path, or CONDSTORE without a mark
// yet), window by window. Each window's FETCH is sent as soon as its rows are
// read, before the previous window's answer is awaited: the server works on
// one window while the catalog reads the next. Two windows are held at most.
// The flags are kept by UID for all windows in flight, never per FETCH: a
// server may run the FETCHes at once (RFC 3501 §5.5; Dovecot does), so the
// next window's flags can come before the previous one's completion, and the
// client hands untagged FETCH data to the oldest FETCH still open. A window
// is planned once its own completion came, which follows all of its data.
FlagDiff MailboxSync::full_pass(const store::MailboxRecord& record, const UidSet& scope,
                                ServerChanges& server) {
    FlagDiff found;
    std::map<std::uint32_t, std::vector<std::string>> flags;  // by UID, of the windows in flight
    std::deque<std::unique_ptr<FullWindow>> inflight;  // after `flags`: its FETCHes write there
    std::uint32_t next = scope.empty() ? 0 : 1;
    auto send_next = [&] {
        auto w = std::make_unique<FullWindow>();
        // The first window (from UID 1) small: the server works on its FETCH
        // while the next, full one is read (issue 10: reading 5,000 rows
        // takes about what the server takes to answer for them).
        w->window = read_window(record, next, scope,
                                next == 1 ? std::min(window_rows(), kFirstWindow) : window_rows());
        if (w->window.rows.empty()) {
            next = 0;
            return;
        }
        next = w->window.rows.back().uid == kMaxUid ? 0 : w->window.rows.back().uid + 1;
        w->tag = m_client.submit_uid_fetch(w->window.span, known_items(), [&flags, &server](imap::FetchData& d) {
            if (d.uid && d.flags) flags[d.uid->value] = *d.flags;
            if (d.uid && d.gm_labels) server.labels[d.uid->value] = *d.gm_labels;
        });
        inflight.push_back(std::move(w));
    };
    try {
        if (next != 0) send_next();
        while (!inflight.empty()) {
            if (next != 0 && inflight.size() < 2) send_next();
            auto w = std::move(inflight.front());
            inflight.pop_front();
            const auto completion = m_client.wait(w->tag);
            if (!completion.ok()) throw imap::CommandFailed("UID FETCH", completion);
            plan_labels(w->window, server);
            FlagDiff diff = plan_flags(
                w->window.rows,
                [&flags](std::uint32_t uid) -> const std::vector<std::string>* {
                    auto it = flags.find(uid);
                    return it == flags.end() ? nullptr : &it->second;
                },
                true);
            for (const auto& m : w->window.rows) flags.erase(m.uid);
            std::move(diff.changed.begin(), diff.changed.end(), std::back_inserter(found.changed));
            found.expunged.insert(found.expunged.end(), diff.expunged.begin(), diff.expunged.end());
        }
    } catch (...) {
        // A FETCH still in flight would write into a window about to go:
        // its answer is awaited, so the connection stays usable (new mail is
        // still fetched after a refused listing, invariant 7).
        try {
            for (const auto& w : inflight) m_client.wait(w->tag);
        } catch (...) {
            m_client.abandon("a flag listing failed with commands in flight");
        }
        throw;
    }
    return found;
}

// What changed among one window's rows. CONDSTORE is asked once, at the first
// window: CHANGEDSINCE returns only the changed messages and the UIDs that
// still exist come back as ranges. (A full pass is full_pass's.)
FlagDiff MailboxSync::plan_window(const KnownRows& window, ServerChanges& server) {
    if (server.path == SyncPath::Qresync) {
        FlagDiff diff = plan_flags(window.rows, flags_of(server.changed), false);
        // VANISHED stays a set of ranges (invariant 4): membership per row.
        for (const auto& m : window.rows)
            if (server.selected->vanished.contains(Uid(m.uid))) diff.expunged.push_back(m.id);
        return diff;
    }
    plan_labels(window, server);
    FlagDiff diff = plan_flags(window.rows, flags_of(server.changed), false);
    // CONDSTORE reports flag changes only; expunges need the UID list.
    diff.expunged = plan_expunges(window.rows, *server.present);
    return diff;
}

// QRESYNC: what EXAMINE reported changed or vanished. CONDSTORE: what changed
// since the mark, and the cataloged UIDs the server no longer has (one
// CHANGEDSINCE fetch and one UID list, asked here once). Built from ranges, so
// a VANISHED of "1:4294967295" costs what "7" costs (invariant 4).
UidSet MailboxSync::known_scope(const store::MailboxRecord& record, ServerChanges& server) {
    if (server.full) return every_uid();
    std::vector<UidSet::Range> ranges;
    if (server.path == SyncPath::Qresync) {
        ranges = server.selected->vanished.ranges();
    } else {
        fetch_changed_since(record, server);
        const UidSet cataloged =
            m_catalog.cataloged_uids(record.id, record.uidvalidity, every_uid());
        ranges = cataloged.minus(*server.present).ranges();
    }
    for (std::uint32_t uid : server.changed.uids()) ranges.push_back({uid, uid});
    for (const auto& entry : server.labels) ranges.push_back({entry.first, entry.first});
    return UidSet::from_ranges(std::move(ranges));
}

// CONDSTORE without QRESYNC: the flags changed since the mark, and which of
// the known UIDs the server still has (expunges are not reported otherwise).
void MailboxSync::fetch_changed_since(const store::MailboxRecord& record, ServerChanges& server) {
    UidSet known;
    known.add_range(Uid(1), Uid(max_known_uid(record)));
    m_client.uid_fetch(
        known, known_items(),
        [&](imap::FetchData& d) {
            if (d.uid && d.flags) server.changed.set(d.uid->value, *d.flags);
            if (d.uid && d.gm_labels) server.labels[d.uid->value] = *d.gm_labels;
        },
        ModSeq(record.highestmodseq));
    server.present = server_uids(known);
}

MailboxSync::KnownRows MailboxSync::read_window(const store::MailboxRecord& record,
                                                std::uint32_t from, const UidSet& scope,
                                                std::size_t rows) {
    UidSet above;
    above.add_range(Uid(from), Uid(kMaxUid));
    KnownRows window;
    window.rows =
        m_catalog.known_flags_in(record.id, record.uidvalidity, scope.intersect(above), rows);
    if (!window.rows.empty()) window.span.add_range(Uid(from), Uid(window.rows.back().uid));
    return window;
}

// The highest UID the catalog has live (rows above the high-water mark
// exist: bodies held back as incomplete, then cataloged).
std::uint32_t MailboxSync::max_known_uid(const store::MailboxRecord& record) {
    UidSet all;
    all.add_range(Uid(1), Uid(kMaxUid));
    const UidSet have = m_catalog.cataloged_uids(record.id, record.uidvalidity, all);
    return have.empty() ? 1 : have.ranges().back().last;
}

// One window's changes, counted and (unless a dry run) applied.
void MailboxSync::apply_known(FlagDiff& diff) {
    // A message both changed and expunged is just expunged.
    std::set<store::Id> gone(diff.expunged.begin(), diff.expunged.end());
    std::erase_if(diff.changed, [&](const auto& c) { return gone.count(c.first) > 0; });
    m_report.flag_changes += diff.changed.size();
    m_report.expunged += diff.expunged.size();
    if (m_run.options.dry_run) return;
    apply_changes(diff);
}

// Live rows of an older UIDVALIDITY have no UID on the server any more: a
// re-match stopped half-way (by an older version, which committed it in two
// steps) left them. They are retired here, so replaying is always safe.
void MailboxSync::retire_stale(const store::MailboxRecord& record) {
    for (std::uint32_t uidvalidity : m_catalog.live_uidvalidities(record.id)) {
        if (uidvalidity == record.uidvalidity) continue;
        // Paged by UID, not by what is left: a dry run retires nothing.
        std::uint32_t from = 1;
        while (from != 0) {
            UidSet above;
            above.add_range(Uid(from), Uid(kMaxUid));
            auto rows = m_catalog.known_flags_in(record.id, uidvalidity, above, window_rows());
            if (rows.empty()) break;
            from = rows.back().uid == kMaxUid ? 0 : rows.back().uid + 1;
            std::vector<store::Id> stale;
            for (const auto& m : rows) stale.push_back(m.id);
            m_report.expunged += stale.size();
            if (!m_run.options.dry_run) apply_expunges(stale);
        }
    }
}

}  // namespace imapkeep::sync
