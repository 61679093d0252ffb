// MailboxSync::fetch_new: list the UIDs above the high-water mark, download
// their bodies in pipelined chunks, and commit each chunk with a mark that
// never passes a UID whose bytes did not arrive whole (DESIGN.md invariant 1).
#include <algorithm>
#include <imapkeep/imap/server_hint.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/wire/framer.hpp>
#include <set>
#include <utility>

#include "sync/body_ends.hpp"
#include "sync/commit_queue.hpp"
#include "sync/fetched_items.hpp"
#include "sync/gmail_adopt.hpp"
#include "sync/mailbox_sync.hpp"

namespace imapkeep::sync {

namespace {

constexpr std::size_t kPipelineDepth = 3;
// Refused chunk FETCHes split again per mailbox and run: one bad message
// costs about 2 x log2(chunk size) of them; a server that refuses every FETCH
// is not asked thousands of times.
constexpr std::size_t kMaxRefusedSplits = 40;
constexpr std::uint32_t kMaxUid = 0xFFFFFFFFu;

// Adapts a store PendingMessage to the wire layer's literal sink.
class BodySink : public wire::LiteralSink {
  public:
    explicit BodySink(std::unique_ptr<store::PendingMessage> pending)
        : m_pending(std::move(pending)) {}
    void write(std::string_view chunk) override { m_pending->write(chunk); }
    // receive() finishes the message once the whole FETCH response is there:
    // its INTERNALDATE must be set before the data fsync (store::PendingMessage).
    void finish() override {}
    std::unique_ptr<store::PendingMessage> take() { return std::move(m_pending); }

  private:
    std::unique_ptr<store::PendingMessage> m_pending;
};

// A message's items, gathered over its FETCH responses (fetched_items.hpp),
// onto its body once every response of its chunk has arrived.
void take_items(Arrived& a, const imap::FetchData& items) {
    if (items.flags) a.flags = store::normalize_flags(*items.flags);
    if (items.internaldate)
        if (auto date = util::parse_imap_datetime(*items.internaldate)) {
            a.internaldate = date->epoch;
            a.zone = date->zone_offset_seconds;
        }
    for (const auto& [section, text] : items.sections) a.message_id = parse_message_id(text);
    if (items.modseq) a.modseq = items.modseq->value;
    a.gmail = gmail_fetched(items);
}

}  // namespace

// What one fetch_new run has in flight: bodies being streamed, bodies that
// arrived whole, and UIDs whose body did not.
struct MailboxSync::NewMail {
    std::map<std::uint32_t, std::uint64_t> listed_size;  // uid -> RFC822.SIZE from the listing
    std::map<wire::LiteralSink*, std::unique_ptr<BodySink>> sinks;
    std::map<std::uint32_t, Arrived> arrived;
    std::map<std::uint32_t, std::string> incomplete;  // uid -> why
    // Bodies shorter than their RFC822.SIZE, also in `incomplete` until
    // confirm_short_bodies() finds them whole or cut.
    std::map<std::uint32_t, Arrived> short_bodies;
    // uid -> the items its FETCH responses carried so far, until its chunk
    // is taken: a server may split them from the body's response.
    std::map<std::uint32_t, imap::FetchData> items;
    // The mailbox's files_pending marker is set (durably) in the catalog.
    bool files_pending = false;
    std::size_t renamed = 0;  // files this run renamed into the folder
    // How far the mark may move once every listed UID is durable or gone:
    // the server's UIDNEXT, or the first UID held for a later run.
    std::uint32_t complete_to = 0;
    std::size_t refused_splits = 0;

    ~NewMail() {
        for (auto& [uid, a] : arrived)
            if (a.pending) a.pending->discard();
        for (auto& [uid, a] : short_bodies)
            if (a.pending) a.pending->discard();
        for (auto& [raw, sink] : sinks)
            if (auto p = sink->take()) p->discard();
    }
    // The first UID this run leaves for a later one (the daily budget, Gmail
    // --mailbox INBOX): kept UIDs above it may be fetched, but no mark passes it.
    std::uint32_t held = kMaxUid;
    // The mark may not pass the first UID whose body has not arrived whole,
    // nor a held one.
    std::uint32_t limit(std::uint32_t candidate) const {
        candidate = std::min(candidate, held);
        return incomplete.empty() ? candidate : std::min(candidate, incomplete.begin()->first);
    }
};

// A chunk whose FETCH completed: its whole bodies, and how far its commit may
// move the mark. Every FETCH response of this chunk and of the ones before it
// has arrived, so `incomplete` already holds each of their failed UIDs.
struct MailboxSync::ReadyChunk {
    std::vector<std::pair<std::uint32_t, Arrived>> batch;
    std::uint32_t mark = 0;
    bool last = false;
};

void MailboxSync::fetch_new(store::MailboxRecord& record, std::uint32_t from_uid,
                            std::optional<Uid> server_uidnext) {
    auto listed = list_new_uids(from_uid);
    // The listing covered every UID below the server's UIDNEXT: with all of
    // them durable (or gone), the mark may move there.
    const std::uint32_t listed_to = listed.empty() ? from_uid : listed.back().first + 1;
    auto wanted = drop_cataloged(record, std::move(listed));
    std::optional<std::uint32_t> held;  // Gmail --mailbox INBOX: INBOX's messages only
    if (m_labels && !m_run.gmail_label_filter.empty())
        held = keep_labelled(m_client, *m_run.gmail, m_run.gmail_label_filter, wanted);
    // Gmail, a store from before Gmail support: its label-folder files become All Mail's copies.
    if (m_labels)
        m_report.adopted +=
            adopt_stored_copies(m_run, m_client, m_catalog, m_messages, *m_labels, record, wanted);
    count_new(wanted);
    if (m_run.options.dry_run) return;

    if (auto budget = m_run.hold_for_budget(wanted, m_report))  // pacing: the daily budget
        held = std::min(held.value_or(*budget), *budget);
    NewMail state;
    if (held) state.held = *held;
    // Only bodies of `wanted` are fetched: a size is kept for those alone.
    for (const auto& [uid, size] : wanted) state.listed_size[uid] = size;
    state.complete_to = listed_to;
    if (server_uidnext) state.complete_to = std::max(state.complete_to, server_uidnext->value);
    if (held) state.complete_to = std::min(state.complete_to, *held);
    if (!wanted.empty()) {
        // Set by this run's changes: no earlier run left files to sweep.
        state.files_pending = m_marker.state == Marker::SetWithChanges || sweep_if_pending(record);
        download(record, plan_chunks(wanted, chunk_limits(m_run.pacer.limits())), state);
        confirm_short_bodies(record, state);
    }
    report_incomplete(state);
    release_connection();        // the rest needs the catalog and the disk alone
    reconcile_deferred(record);  // nothing to download: the changes now
    if (m_marker.state == Marker::SetWithChanges) settle_marker(state, wanted.empty());

    record.uidnext = std::max(record.uidnext, state.limit(state.complete_to));
}

MailboxSync::Listing MailboxSync::list_new_uids(std::uint32_t from_uid) {
    // "n:*" always matches the highest UID even when it is below n (RFC 3501
    // §6.4.8), so filter.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> listed;
    UidSet range;
    range.add_range(Uid(from_uid), Uid(kMaxUid));
    m_client.uid_fetch(range, imap::FetchItems().uid().rfc822_size(), [&](imap::FetchData& d) {
        if (!d.uid || d.uid->value < from_uid) return;
        listed.emplace_back(d.uid->value, d.rfc822_size.value_or(0));
    });
    std::sort(listed.begin(), listed.end());
    listed.erase(std::unique(listed.begin(), listed.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 listed.end());
    return listed;
}

MailboxSync::Listing MailboxSync::drop_cataloged(const store::MailboxRecord& record,
                                                 Listing wanted) {
    if (record.id == 0 || wanted.empty()) return wanted;
    // Never a second copy: after a UIDVALIDITY re-match, or a run killed between
    // its catalog commits, or a UID held back by an incomplete body, some of
    // these are cataloged already. Only the listed UIDs are asked about.
    UidSet listed;
    for (const auto& w : wanted) listed.add(Uid(w.first));
    const UidSet have = m_catalog.cataloged_uids(record.id, record.uidvalidity, listed);
    std::erase_if(wanted, [&](const auto& w) { return have.contains(Uid(w.first)); });
    // After a re-match every UID is cataloged: the listing of the whole
    // mailbox is not held for the rest of the run.
    wanted.shrink_to_fit();
    return wanted;
}

// Files a killed run renamed into the folder without cataloging them are
// among the UIDs about to be fetched: removed, so each is stored once, not
// twice. Only a folder whose files_pending marker is set can hold them
// (Catalog::files_pending), so a clean history costs no listing. Returns the
// marker, which stays set until the last batch of this run is cataloged.
bool MailboxSync::sweep_if_pending(const store::MailboxRecord& record) {
    if (!m_catalog.files_pending(record.id)) return false;
    m_run.confirm_writer(m_catalog);
    remove_orphans(record);
    return true;
}

void MailboxSync::count_new(const Listing& wanted) {
    std::uint64_t total_bytes = 0;
    for (const auto& w : wanted) total_bytes += w.second;
    m_run.counted(m_report.name, wanted.size(), total_bytes);
    if (m_run.options.dry_run) {
        m_report.new_messages += wanted.size();
        m_report.bytes += total_bytes;
    }
}

// Up to kPipelineDepth chunk FETCHes in flight; each completed chunk is
// committed on the commit thread while the next ones are read.
void MailboxSync::download(store::MailboxRecord& record, const std::vector<UidSet>& chunks,
                           NewMail& state) {
    const std::string account = m_run.account.name;
    const std::string folder = record.folder;
    m_client.set_body_sink_factory([&](std::string_view, std::uint64_t) -> wire::LiteralSink* {
        auto sink = std::make_unique<BodySink>(m_messages.begin(account, folder));
        auto* raw = sink.get();
        state.sinks[raw] = std::move(sink);
        return raw;
    });
    auto on_fetch = [&](imap::FetchData& d) { receive(d, record, state); };
    imap::FetchItems items;
    items.uid().flags().internaldate().rfc822_size();
    if (m_run.best_path != SyncPath::Plain) items.modseq();
    if (m_labels) add_gmail_items(items);
    items.header_fields_peek({"MESSAGE-ID"}).body_peek();

    std::vector<UidSet> queue = chunks;  // grows by the halves of refused chunks
    std::deque<std::pair<imap::Client::Tag, std::size_t>> inflight;
    // Declared before the try: on a failure, a commit in progress ends before
    // this frame's locals go.
    CommitQueue commits;
    try {
        reconcile_while_fetching(record, state, commits);
        std::size_t next = 0;
        while (next < queue.size() || !inflight.empty()) {
            while (next < queue.size() && inflight.size() < kPipelineDepth) {
                inflight.emplace_back(m_client.submit_uid_fetch(queue[next], items, on_fetch),
                                      next);
                ++next;
            }
            auto [tag, index] = inflight.front();
            auto completion = m_client.wait(tag);
            inflight.pop_front();
            const UidSet chunk = queue[index];
            if (!completion.ok()) requeue_refused(chunk, completion, state, queue);
            auto ready =
                std::make_shared<ReadyChunk>(take_chunk(chunk, state, index + 1 == queue.size()));
            commits.submit([this, &record, &state, ready] { commit_chunk(record, *ready, state); });
        }
        m_client.set_body_sink_factory({});
        // Every body is here: the next mailbox may use the connection while
        // these commits end, unless a short body or a missing one is left to
        // ask about (confirm_short_bodies, report_incomplete).
        if (state.short_bodies.empty() && state.incomplete.empty()) release_connection();
        commits.finish();
    } catch (const imap::Abort&) {
        m_client.set_body_sink_factory({});
        std::vector<UidSet> unfinished;
        for (const auto& f : inflight) unfinished.push_back(queue[f.second]);
        keep_arrived(record, unfinished, state, commits);
        throw;
    } catch (...) {
        if (m_released) throw;  // a commit failed; the connection is another mailbox's
        // FETCH commands still in flight would call back into this frame's
        // locals: the connection cannot be used again.
        if (!inflight.empty()) m_client.abandon("a mailbox sync failed with commands in flight");
        m_client.set_body_sink_factory({});
        throw;
    }
}

void MailboxSync::release_connection() {
    if (m_released || !m_release) return;
    m_released = true;
    std::exchange(m_release, {})();
}

// The deferred changes, on the commit thread while this one reads the new
// bodies from the socket (issue 10: a 1% change spent a third of a mailbox's
// time applying them with the bodies waiting). Queued before the first
// chunk's commit, so they still commit first: their commit may set the
// files-pending marker, which the first batch then needs to set no more.
// They ask the server nothing (can_defer_reconcile, can_defer_apply), and
// while a download runs only the commit thread touches the catalog.
void MailboxSync::reconcile_while_fetching(store::MailboxRecord& record, NewMail& state,
                                           CommitQueue& commits) {
    if (!m_deferred || m_deferred->done) return;
    commits.submit([this, &record, &state] {
        if (!reconcile_deferred(record)) return;
        if (m_marker.state == Marker::SetWithChanges) state.files_pending = true;
    });
}

// The connection died with chunks in flight: the chunks already complete are
// committed, then the bodies of the unfinished ones that arrived whole, with a
// mark held below the first that did not (take_chunk). The retry after the
// reconnect then asks only for the rest, and nothing is downloaded twice.
void MailboxSync::keep_arrived(store::MailboxRecord& record, const std::vector<UidSet>& unfinished,
                               NewMail& state, CommitQueue& commits) {
    commits.finish();
    ReadyChunk kept;
    for (const auto& chunk : unfinished) {
        auto part = take_chunk(chunk, state, /*last=*/false);
        for (auto& arrived : part.batch) kept.batch.push_back(std::move(arrived));
        kept.mark = part.mark;
    }
    if (!kept.batch.empty()) commit_chunk(record, kept, state);
}

// One FETCH response of a body chunk: its items are kept by UID, and its
// body only when all of it came.
void MailboxSync::receive(imap::FetchData& d, const store::MailboxRecord& record, NewMail& state) {
    if (!d.uid) return;
    std::uint32_t uid = d.uid->value;
    std::unique_ptr<store::PendingMessage> pending;
    if (d.body_sink) {
        auto it = state.sinks.find(d.body_sink);
        if (it == state.sinks.end()) return;
        pending = it->second->take();
        state.sinks.erase(it);
    } else if (d.has_body) {
        // Quirk(various): an empty body can come as "" (or NIL) rather than a literal.
        pending = m_messages.begin(m_run.account.name, record.folder);
        pending->write(d.body);
    }
    auto listed = state.listed_size.find(uid);
    if (listed == state.listed_size.end()) {
        // Not asked for (a FETCH of a cataloged or unlisted UID): never stored.
        if (pending) pending->discard();
        return;
    }
    const imap::FetchData& items = state.items[uid];
    merge_fetched(state.items[uid], d);
    if (!pending) return;  // items without the body (split, or a flag update): take_chunk joins them
    std::optional<util::ImapDateTime> date;
    if (items.internaldate) date = util::parse_imap_datetime(*items.internaldate);
    if (date) pending->set_internaldate(date->epoch);
    pending->finish();
    Arrived a;
    a.pending = std::move(pending);
    // RFC822.SIZE is the size of BODY[] (RFC 3501 §6.4.5): fewer bytes is a
    // truncated or NIL body, or a server whose RFC822.SIZE is an estimate.
    // Held back (and the mark below it) until confirm_short_bodies() knows.
    const std::uint64_t expected = items.rfc822_size.value_or(listed->second);
    if (a.pending->size() < expected) {
        state.incomplete[uid] = "body arrived with " + std::to_string(a.pending->size()) + " of " +
                                std::to_string(expected) + " bytes";
        if (auto old = state.short_bodies.find(uid); old != state.short_bodies.end())
            old->second.pending->discard();
        state.short_bodies[uid] = std::move(a);
        return;
    }
    accept_body(uid, std::move(a), state);
}

// A whole body, kept for its chunk's commit: take_chunk() takes it (and
// clears the UID's `incomplete` entry) if it came before the chunk's end. One
// that comes after, from a server sending a FETCH of a UID out of turn, is
// never stored, and never lets the mark pass that UID.
void MailboxSync::accept_body(std::uint32_t uid, Arrived a, NewMail& state) {
    count_body(a);
    if (auto old = state.arrived.find(uid); old != state.arrived.end())
        old->second.pending->discard();
    state.arrived[uid] = std::move(a);
}

void MailboxSync::count_body(const Arrived& a) {
    m_report.bytes += a.pending->size();
    m_run.pacer.count_message();  // pacing: max_messages_per_second
    if (auto* p = m_run.options.progress) {
        p->messages_done += 1;
        p->bytes_done += a.pending->size();
    }
}

// Quirk(OVH Hosted Exchange): RFC822.SIZE far above the bytes of the BODY[]
// it sends, for every message and every time (stalwartlabs/vandelay#12:
// "BODY[] 6298 bytes vs RFC822.SIZE 19189"). Taken for truncated, no message
// of such a server would ever be stored. After the chunks, with no FETCH in
// flight, the server is asked whether each short body ends where it ended
// (bodies_ending_at): those that do are committed as sent, with the mark the
// last chunk could not move; the rest stay this run's errors, their bytes
// gone, and are fetched again next run.
void MailboxSync::confirm_short_bodies(store::MailboxRecord& record, NewMail& state) {
    if (state.short_bodies.empty()) return;
    // A short body that came besides a whole one, or after its chunk was
    // committed, is no candidate: never a second copy.
    UidSet parked;
    for (const auto& [uid, a] : state.short_bodies) parked.add(Uid(uid));
    const UidSet have = record.id == 0 ? UidSet{}
                                       : m_catalog.cataloged_uids(record.id, record.uidvalidity, parked);
    std::map<std::uint32_t, std::uint64_t> ends;
    for (const auto& [uid, a] : state.short_bodies)
        if (!have.contains(Uid(uid))) ends[uid] = a.pending->size();
    const auto whole = ends.empty() ? std::set<std::uint32_t>{} : bodies_ending_at(m_client, ends);
    ReadyChunk ready;
    for (auto& [uid, a] : state.short_bodies) {
        if (!whole.contains(uid)) {
            a.pending->discard();
            continue;
        }
        count_body(a);
        state.incomplete.erase(uid);
        ready.batch.emplace_back(uid, std::move(a));
    }
    state.short_bodies.clear();
    if (ready.batch.empty()) return;
    // Every chunk is committed: each UID below the server's UIDNEXT is
    // stored, gone, or still in `incomplete`.
    ready.mark = state.limit(state.complete_to);
    ready.last = true;
    const std::size_t kept = ready.batch.size();
    commit_chunk(record, ready, state);
    // Stored as the server sent them, which is all it has: a note, not an
    // error, so that a user who compares sizes knows why (RFC822.SIZE is
    // only an estimate on some servers, e.g. Quirk(OVH Hosted Exchange)).
    m_report.warnings.push_back(std::to_string(kept) + (kept == 1 ? " body was" : " bodies were") +
                                " shorter than the server's RFC822.SIZE and kept as sent"
                                " (the server says it ends there)");
}

// A NO for a chunk FETCH answers for all of it, though one message is usually
// at fault (Gmail's "Some messages could not be FETCHed", a corrupt file):
// the bodies that arrived whole are kept, and the missing UIDs are asked for
// again in halves, so the bad one ends up alone and reported while every other
// message is stored in this run. A throttling hint or a BAD still ends the
// mailbox's sync (the worker paces, or reports); a refused chunk of one UID
// is not split further, and that UID stays reported (report_incomplete).
void MailboxSync::requeue_refused(const UidSet& chunk, const imap::Completion& completion,
                                  NewMail& state, std::vector<UidSet>& queue) {
    imap::CommandFailed refusal("UID FETCH", completion);
    if (completion.status == "BAD" || imap::server_hint(refusal)) throw refusal;
    std::vector<Uid> missing;
    for (const Uid uid : chunk.to_vector(chunk.size())) {
        if (state.arrived.contains(uid.value)) continue;
        missing.push_back(uid);
        state.incomplete[uid.value] = refusal.what();
    }
    if (chunk.size() < 2 || missing.empty()) return;
    if (++state.refused_splits > kMaxRefusedSplits) return;
    const std::size_t half = (missing.size() + 1) / 2;
    for (std::size_t start = 0; start < missing.size(); start += half) {
        UidSet part;
        for (std::size_t i = start; i < std::min(missing.size(), start + half); ++i)
            part.add(missing[i]);
        queue.push_back(std::move(part));
    }
}

MailboxSync::ReadyChunk MailboxSync::take_chunk(const UidSet& chunk, NewMail& state, bool last) {
    ReadyChunk ready;
    for (const auto& range : chunk.ranges()) {
        for (std::uint64_t u = range.first; u <= range.last; ++u) {
            auto uid = static_cast<std::uint32_t>(u);
            // Every response of this chunk has arrived: the UID's items are whole.
            auto items = state.items.extract(uid);
            auto parked = state.short_bodies.find(uid);
            auto it = state.arrived.find(uid);
            if (it == state.arrived.end()) {
                if (items && parked != state.short_bodies.end()) take_items(parked->second, items.mapped());
                // No whole body: expunged since the listing, or a server that
                // failed to send it. report_incomplete tells which.
                state.incomplete.try_emplace(uid, "no body in the FETCH reply");
                continue;
            }
            if (items) take_items(it->second, items.mapped());
            ready.batch.emplace_back(uid, std::move(it->second));
            state.arrived.erase(it);
            state.incomplete.erase(uid);
            if (parked != state.short_bodies.end()) {
                parked->second.pending->discard();
                state.short_bodies.erase(parked);
            }
        }
    }
    ready.mark = state.limit(static_cast<std::uint32_t>(chunk.ranges().back().last) + 1);
    ready.last = last;
    return ready;
}

// Durable, then renamed, then cataloged with the new high-water mark. Only
// this thread touches the catalog and `state.files_pending` while a download
// runs. The last chunk's commit also saves the mailbox's final record
// (m_closing): every FETCH response has arrived by then, so `state` knows
// how far the mark may go, and the folder has seen its last write.
void MailboxSync::commit_chunk(store::MailboxRecord& record, ReadyChunk& ready, NewMail& state) {
    const std::string account = m_run.account.name;
    // Not with UIDs that gave no whole body: report_incomplete() may find
    // them expunged, which lets the mark move further than it can here.
    const bool closing = ready.last && m_closing && state.incomplete.empty();
    m_messages.sync_pending();
    if (!ready.batch.empty()) mark_files_pending(record, state);
    std::vector<store::MessageRecord> rows;
    std::vector<std::optional<GmailFetched>> gmail;
    for (auto& [uid, a] : ready.batch) {
        gmail.push_back(std::move(a.gmail));
        store::MessageRecord m;
        m.mailbox_id = record.id;
        m.uidvalidity = record.uidvalidity;
        m.uid = uid;
        m.internaldate = a.internaldate;
        m.internaldate_zone = a.zone;
        store::describe_stored(*a.pending, m);
        m.message_id = a.message_id;
        m.flags = a.flags;
        m.modseq = a.modseq;
        m.added_at = now();
        m.file =
            m_messages.commit(*a.pending, account, record.folder, uid, a.internaldate, a.flags);
        a.pending.reset();
        rows.push_back(std::move(m));
        ++state.renamed;
    }
    try {
        m_run.durable_step_files_first(
            m_catalog, m_messages,
            [&] {  // renamed above: what is left is the folder's stamp
                if (closing) stamp_after_writes(record);
            },
            [&] {
                const auto ids = m_catalog.add_messages(rows);
                for (std::size_t i = 0; i < rows.size(); ++i)
                    if (m_labels && gmail[i]) m_labels->record(ids[i], *gmail[i], rows[i].added_at);
                record.uidnext = std::max(record.uidnext, ready.mark);
                if (closing) {
                    record.uidnext = std::max(record.uidnext, state.limit(state.complete_to));
                    close_record(record, *m_closing->examined, m_closing->reconciled);
                }
                m_catalog.save_mailbox(record);
                // Chunks commit in order: after the last one, every file this
                // run renamed into the folder has its row.
                if (ready.last && state.files_pending)
                    m_catalog.set_files_pending(record.id, false);
            },
            rows.size());
    } catch (const store::NotCommitted&) {
        remove_refused(rows);
        throw;
    }
    if (ready.last) state.files_pending = false;
    if (closing) m_closing->saved = true;
    m_report.new_messages += rows.size();
}

// The files of a chunk whose commit was refused with nothing committed (a
// fleet worker whose lease another worker took over: store::LeaseLost). No
// later run of ours may catalog them, and the marker that would make the next
// run sweep them may already be cleared by the new holder of the account, so
// they go now. Their names are unique to this writer: no other writer's file
// is touched. A kill before this leaves them (see mark_files_pending).
void MailboxSync::remove_refused(const std::vector<store::MessageRecord>& rows) noexcept {
    for (const auto& m : rows) {
        try {
            m_messages.remove(m.file);
        } catch (const std::exception&) {
            // The refusal is what the caller must see; a file left is an
            // orphan as after a kill.
        }
    }
}

// After fetch_new, of a marker this run set with its changes: cleared by
// the last batch's commit, unspent (nothing was renamed into the folder:
// finish() clears it), or left set by batches that renamed files but did
// not all commit, for the next run's sweep.
void MailboxSync::settle_marker(const NewMail& state, bool nothing_wanted) {
    if (nothing_wanted || (state.files_pending && state.renamed == 0)) {
        m_marker.state = Marker::Unspent;
    } else if (!state.files_pending) {
        m_marker.state = Marker::Untouched;
    }
}

// Durable before the first rename of this run into the folder (its own
// commit, O(1) per mailbox and run): a kill between a rename and the batch
// commit then leaves the marker that makes the next run sweep the folder.
void MailboxSync::mark_files_pending(const store::MailboxRecord& record, NewMail& state) {
    if (state.files_pending) return;
    m_catalog.set_files_pending(record.id, true);
    state.files_pending = true;
}

// UIDs that gave no whole body: those the server still has are this
// mailbox's errors (fetched again next run); the rest were expunged meanwhile.
void MailboxSync::report_incomplete(NewMail& state) {
    if (state.incomplete.empty()) return;
    UidSet asked;
    for (const auto& [uid, why] : state.incomplete) asked.add(Uid(uid));
    auto present = server_uids(asked);
    std::erase_if(state.incomplete,
                  [&](const auto& entry) { return !present.contains(Uid(entry.first)); });
    for (const auto& [uid, why] : state.incomplete)
        m_report.errors.push_back("UID " + std::to_string(uid) + ": " + why +
                                  "; fetched again next run");
}

}  // namespace imapkeep::sync
