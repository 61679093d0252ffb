// One mailbox's sync: EXAMINE, reconcile known messages by the best path the
// server offers (QRESYNC, CONDSTORE, plain), then stream new messages to disk.
//
// Durability order (DESIGN.md "Store"): body -> tmp/, fsync (batched), rename
// into cur/, then the catalog transaction; the high-water marks move in that
// same transaction, so they never pass a message that is not durable.
#include "sync/mailbox_sync.hpp"

#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/wire/framer.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>

namespace imapkeep::sync {

namespace {

constexpr std::size_t kChunkMessages = 200;
constexpr std::uint64_t kChunkBytes = 32ull << 20;
constexpr std::size_t kPipelineDepth = 3;
constexpr std::size_t kFlagBatch = 500;

// Message-ID from a BODY[HEADER.FIELDS (MESSAGE-ID)] section (RFC 5322 §3.6.4),
// unfolded and trimmed.
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

// Adapts a store PendingMessage to the wire layer's literal sink.
class BodySink : public wire::LiteralSink {
public:
    explicit BodySink(std::unique_ptr<store::PendingMessage> pending) : m_pending(std::move(pending)) {}
    void write(std::string_view chunk) override { m_pending->write(chunk); }
    void finish() override { m_pending->finish(); }
    std::unique_ptr<store::PendingMessage> take() { return std::move(m_pending); }

private:
    std::unique_ptr<store::PendingMessage> m_pending;
};

struct Arrived {
    std::unique_ptr<store::PendingMessage> pending;
    std::vector<std::string> flags;
    std::int64_t internaldate = 0;
    int zone = 0;
    std::string message_id;
    std::uint64_t modseq = 0;
};

}  // namespace

const char* path_name(SyncPath path) {
    switch (path) {
        case SyncPath::Qresync: return "QRESYNC";
        case SyncPath::Condstore: return "CONDSTORE";
        case SyncPath::Plain: return "plain";
    }
    return "plain";
}

void AccountRun::step() {
    auto n = ++steps;
    if (options.stop_after_steps != 0 && n >= options.stop_after_steps) throw StopRequested{};
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

bool MailboxSync::unchanged(const store::MailboxRecord& record, const imap::StatusData& status) const {
    // Without HIGHESTMODSEQ a flag change is invisible to STATUS: never skip then.
    if (!status.uidvalidity || !status.uidnext || !status.highestmodseq) return false;
    if (m_run.best_path == SyncPath::Plain || record.highestmodseq == 0) return false;
    return status.uidvalidity->value == record.uidvalidity && status.uidnext->value == record.uidnext &&
           status.highestmodseq->value == record.highestmodseq;
}

MailboxReport MailboxSync::sync(const ServerMailbox& mailbox,
                                const std::optional<imap::StatusData>& listed_status) {
    const imap::StatusData* status = listed_status ? &*listed_status : nullptr;
    auto started = std::chrono::steady_clock::now();
    m_report = MailboxReport{};
    m_report.name = mailbox.name;
    auto record = load_record(mailbox);
    bool is_new = record.id == 0;
    m_report.created = is_new;
    const bool dry = m_run.options.dry_run;

    // Without LIST-STATUS, one STATUS round trip still spares the EXAMINE and
    // the flag diff of an unchanged mailbox (only a modseq can prove "unchanged").
    std::optional<imap::StatusData> asked;
    if (!is_new && !status && m_run.best_path != SyncPath::Plain && record.highestmodseq != 0) {
        try {
            asked = m_client.status(mailbox.name, {"UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ"});
            status = &*asked;
        } catch (const imap::CommandFailed&) {
            // The EXAMINE below reports the real problem, if any.
        }
    }
    if (!is_new && status && unchanged(record, *status)) {
        m_report.path = "unchanged";
        if (!dry) {
            record.last_sync_at = now();
            m_catalog.save_mailbox(record);
        }
        return m_report;
    }

    SyncPath path = m_run.best_path;
    std::map<std::uint32_t, std::vector<std::string>> qresync_flags;
    UidSet qresync_vanished;
    std::optional<imap::QresyncParams> qresync;
    if (path == SyncPath::Qresync && !is_new && record.uidvalidity != 0 && record.highestmodseq != 0)
        qresync = imap::QresyncParams{UidValidity(record.uidvalidity), ModSeq(record.highestmodseq), {}};
    // With QRESYNC the changes since our modseq arrive in the EXAMINE itself.
    auto selected = m_client.select(mailbox.name, true, qresync, path == SyncPath::Condstore);
    for (const auto& f : selected.changed)
        if (f.uid && f.flags) qresync_flags[f.uid->value] = *f.flags;
    qresync_vanished = selected.vanished;  // ranges: never listed (invariant 4)
    if (!selected.highestmodseq) path = SyncPath::Plain;  // [NOMODSEQ] mailbox
    m_report.path = path_name(path);

    if (!is_new && record.uidvalidity != 0 && record.uidvalidity != selected.uidvalidity.value) {
        handle_uidvalidity_change(record, selected.uidvalidity.value);
    } else if (!is_new) {
        sync_known(record, qresync ? SyncPath::Qresync
                                             : (path == SyncPath::Qresync ? SyncPath::Condstore : path),
                   qresync_flags, qresync_vanished);
    }
    record.uidvalidity = selected.uidvalidity.value;
    record.delimiter = mailbox.delimiter;
    if (!mailbox.mailboxid.empty()) record.mailboxid = mailbox.mailboxid;
    if (!dry && record.id == 0) {
        record.id = m_catalog.save_mailbox(record);
        m_run.step();
    }

    fetch_new(record, std::max<std::uint32_t>(record.uidnext, 1));

    if (selected.uidnext) record.uidnext = std::max(record.uidnext, selected.uidnext->value);
    record.highestmodseq = selected.highestmodseq ? selected.highestmodseq->value : 0;
    record.sync_path = path_name(path);
    record.last_sync_at = now();
    if (!dry) {
        m_catalog.save_mailbox(record);
        m_run.step();
    }
    try {
        m_client.unselect();
    } catch (const imap::CommandFailed&) {
        // Nothing was changed on the server; a refused UNSELECT only costs a reselect.
    }
    m_report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return m_report;
}

// A run killed between renaming files into cur/ and committing their catalog
// rows leaves files no row points to. They are always messages at or above the
// high-water mark, which this run is about to fetch again.
void MailboxSync::remove_orphans(const store::MailboxRecord& record) {
    std::vector<std::string> known;
    for (const auto& m : m_catalog.messages(record.id)) known.push_back(m.file);
    m_messages.remove_unknown_files(m_run.account.name, record.folder, known);
}

void MailboxSync::sync_known(store::MailboxRecord& record,
                             SyncPath path,
                             std::map<std::uint32_t, std::vector<std::string>>& qresync_flags,
                             const UidSet& qresync_vanished) {
    auto catalog = m_catalog.messages(record.id);
    std::erase_if(catalog, [&](const store::MessageRecord& m) { return m.uidvalidity != record.uidvalidity; });
    if (catalog.empty()) return;
    std::uint32_t max_known = 0;
    for (const auto& m : catalog) max_known = std::max(max_known, m.uid);
    UidSet known;
    known.add_range(Uid(1), Uid(max_known));

    FlagDiff diff;
    if (path == SyncPath::Qresync) {
        diff = plan_flags(catalog, qresync_flags, false);
        for (const auto& m : catalog)
            if (qresync_vanished.contains(Uid(m.uid))) diff.expunged.push_back(m.id);
    } else {
        std::map<std::uint32_t, std::vector<std::string>> flags;
        std::optional<ModSeq> since;
        if (path == SyncPath::Condstore) since = ModSeq(record.highestmodseq);
        bool full = path == SyncPath::Plain || record.highestmodseq == 0;
        m_client.uid_fetch(known, "(FLAGS)", [&](imap::FetchData& d) {
            if (d.uid && d.flags) flags[d.uid->value] = *d.flags;
        }, full ? std::nullopt : since);
        diff = plan_flags(catalog, flags, full);
        if (!full) {
            // CONDSTORE reports flag changes only; expunges need the UID list.
            bool esearch = m_client.has_capability("ESEARCH");
            auto found = m_client.uid_search("UID " + known.to_string(), esearch);
            std::vector<std::uint32_t> present;  // of the catalog's UIDs: bounded by it
            for (const auto& m : catalog)
                if (found.uids.contains(Uid(m.uid))) present.push_back(m.uid);
            diff.expunged = plan_expunges(catalog, present);
        }
    }
    // A message both changed and expunged is just expunged.
    std::set<store::Id> gone(diff.expunged.begin(), diff.expunged.end());
    std::erase_if(diff.changed, [&](const auto& c) { return gone.count(c.first) > 0; });
    m_report.flag_changes += diff.changed.size();
    m_report.expunged += diff.expunged.size();
    if (m_run.options.dry_run) return;
    apply_flags(record, diff);
    apply_expunges(diff.expunged);
}

void MailboxSync::apply_flags(const store::MailboxRecord&, const FlagDiff& diff) {
    for (std::size_t start = 0; start < diff.changed.size(); start += kFlagBatch) {
        auto end = std::min(diff.changed.size(), start + kFlagBatch);
        m_run.durable_step(m_catalog, m_messages, [&] {
            for (std::size_t i = start; i < end; ++i) {
                const auto& [id, flags] = diff.changed[i];
                auto message = m_catalog.message_by_id(id);
                if (!message) continue;
                auto file = m_messages.set_flags(m_messages.locate(message->file), flags);
                m_catalog.update_flags(id, flags, message->modseq, file, now());
            }
        });
    }
}

void MailboxSync::apply_expunges(const std::vector<store::Id>& ids) {
    const bool keep = m_run.account.expunged == ExpungedPolicy::Keep;
    for (std::size_t start = 0; start < ids.size(); start += kFlagBatch) {
        auto end = std::min(ids.size(), start + kFlagBatch);
        m_run.durable_step(m_catalog, m_messages, [&] {
            for (std::size_t i = start; i < end; ++i) {
                auto message = m_catalog.message_by_id(ids[i]);
                if (!message) continue;
                auto file = m_messages.locate(message->file);
                if (keep) {
                    m_catalog.mark_expunged(ids[i], now(), m_messages.move_to_attic(file));
                } else {
                    m_messages.remove(file);
                    m_catalog.delete_message(ids[i]);
                }
            }
        });
    }
}

void MailboxSync::handle_uidvalidity_change(store::MailboxRecord& record,
                                            std::uint32_t new_uidvalidity) {
    m_report.uidvalidity_reset = true;
    auto catalog = m_catalog.messages(record.id);
    std::vector<ServerMessageKey> server;
    std::map<std::uint32_t, std::vector<std::string>> flags;
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    m_client.uid_fetch(all, "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
                       [&](imap::FetchData& d) {
                           if (!d.uid) return;
                           ServerMessageKey key{d.uid->value, "", 0, d.rfc822_size.value_or(0)};
                           for (const auto& [section, text] : d.sections) key.message_id = parse_message_id(text);
                           if (d.internaldate)
                               if (auto t = util::parse_imap_datetime(*d.internaldate)) key.internaldate = t->epoch;
                           server.push_back(key);
                           if (d.flags) flags[d.uid->value] = store::normalize_flags(*d.flags);
                       });
    auto plan = plan_rematch(catalog, server);
    m_report.expunged += plan.unmatched_catalog.size();
    if (m_run.options.dry_run) return;
    // One transaction: the re-keyed messages and the new UIDVALIDITY land together,
    // so a crash leaves either the old world or the new one.
    m_run.durable_step(m_catalog, m_messages, [&] {
        for (const auto& [id, uid] : plan.matched) {
            auto message = m_catalog.message_by_id(id);
            if (!message) continue;
            // The file name's ",U=" follows the new UID, as Dovecot's would.
            auto file = m_messages.set_uid(m_messages.locate(message->file), uid);
            m_catalog.rekey_message(id, new_uidvalidity, uid, file);
            const auto& f = flags[uid];
            if (f != store::normalize_flags(message->flags))
                m_catalog.update_flags(id, f, message->modseq, m_messages.set_flags(file, f), now());
        }
        record.uidvalidity = new_uidvalidity;
        record.uidnext = 1;
        record.highestmodseq = 0;
        m_catalog.save_mailbox(record);
    });
    apply_expunges(plan.unmatched_catalog);
}

void MailboxSync::fetch_new(store::MailboxRecord& record, std::uint32_t from_uid) {
    // Which UIDs are new, and how big: one cheap round trip. "n:*" always matches
    // the highest UID even when it is below n (RFC 3501 §6.4.8), so filter.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> wanted;
    UidSet range;
    range.add_range(Uid(from_uid), Uid(0xFFFFFFFFu));
    m_client.uid_fetch(range, "(UID RFC822.SIZE)", [&](imap::FetchData& d) {
        if (!d.uid || d.uid->value < from_uid) return;
        wanted.emplace_back(d.uid->value, d.rfc822_size.value_or(0));
    });
    if (wanted.empty()) return;
    // Never a second copy: after a UIDVALIDITY re-match, or a run killed between
    // its catalog commits, some of these may be cataloged already.
    if (record.id != 0) {
        std::set<std::uint32_t> have;
        for (const auto& m : m_catalog.messages(record.id))
            if (m.uidvalidity == record.uidvalidity) have.insert(m.uid);
        std::erase_if(wanted, [&](const auto& w) { return have.count(w.first) > 0; });
        // Files a killed run renamed into cur/ without cataloging them are among
        // these UIDs: remove them so they are fetched once, not twice.
        if (!m_run.options.dry_run) remove_orphans(record);
    }
    std::sort(wanted.begin(), wanted.end());
    std::uint64_t total_bytes = 0;
    for (const auto& w : wanted) total_bytes += w.second;
    if (auto* p = m_run.options.progress) {
        p->messages_total += wanted.size();
        p->bytes_total += total_bytes;
    }
    if (m_run.options.dry_run) {
        m_report.new_messages += wanted.size();
        m_report.bytes += total_bytes;
        return;
    }
    if (wanted.empty()) return;

    // Chunks by count and bytes, so one command's bodies stay a bounded batch.
    std::vector<UidSet> chunks;
    {
        UidSet current;
        std::size_t count = 0;
        std::uint64_t bytes = 0;
        for (const auto& [uid, size] : wanted) {
            if (count > 0 && (count >= kChunkMessages || bytes + size > kChunkBytes)) {
                chunks.push_back(current);
                current = UidSet();
                count = 0;
                bytes = 0;
            }
            current.add(Uid(uid));
            ++count;
            bytes += size;
        }
        if (!current.empty()) chunks.push_back(current);
    }

    const std::string account = m_run.account.name;
    const std::string folder = record.folder;
    std::map<wire::LiteralSink*, std::unique_ptr<BodySink>> sinks;
    std::map<std::uint32_t, Arrived> arrived;
    m_client.set_body_sink_factory([&](std::string_view, std::uint64_t) -> wire::LiteralSink* {
        auto sink = std::make_unique<BodySink>(m_messages.begin(account, folder));
        auto* raw = sink.get();
        sinks[raw] = std::move(sink);
        return raw;
    });
    auto on_fetch = [&](imap::FetchData& d) {
        if (!d.uid || !d.has_body) return;
        Arrived a;
        if (d.body_sink) {
            auto it = sinks.find(d.body_sink);
            if (it == sinks.end()) return;
            a.pending = it->second->take();
            sinks.erase(it);
        } else {
            // Quirk(various): an empty body can come as "" rather than a literal.
            a.pending = m_messages.begin(account, folder);
            a.pending->write(d.body);
            a.pending->finish();
        }
        if (d.flags) a.flags = store::normalize_flags(*d.flags);
        if (d.internaldate) {
            if (auto t = util::parse_imap_datetime(*d.internaldate)) {
                a.internaldate = t->epoch;
                a.zone = t->zone_offset_seconds;
            }
        }
        for (const auto& [section, text] : d.sections) a.message_id = parse_message_id(text);
        if (d.modseq) a.modseq = d.modseq->value;
        m_report.bytes += a.pending->size();
        if (auto* p = m_run.options.progress) {
            p->messages_done += 1;
            p->bytes_done += a.pending->size();
        }
        if (auto old = arrived.find(d.uid->value); old != arrived.end()) old->second.pending->discard();
        arrived[d.uid->value] = std::move(a);
    };
    std::string items = "(UID FLAGS INTERNALDATE RFC822.SIZE";
    if (m_run.best_path != SyncPath::Plain) items += " MODSEQ";
    items += " BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)] BODY.PEEK[])";

    auto cleanup = [&] {
        m_client.set_body_sink_factory({});
        for (auto& [uid, a] : arrived)
            if (a.pending) a.pending->discard();
        for (auto& [raw, sink] : sinks)
            if (auto p = sink->take()) p->discard();
    };
    std::deque<std::pair<imap::Client::Tag, std::size_t>> inflight;
    try {
        std::size_t next = 0;
        while (next < chunks.size() || !inflight.empty()) {
            while (next < chunks.size() && inflight.size() < kPipelineDepth) {
                inflight.emplace_back(m_client.submit_uid_fetch(chunks[next], items, on_fetch), next);
                ++next;
            }
            auto [tag, index] = inflight.front();
            inflight.pop_front();
            auto completion = m_client.wait(tag);
            if (!completion.ok()) throw imap::CommandFailed("UID FETCH", completion);

            // Durable, then renamed, then cataloged with the new high-water mark.
            std::vector<std::pair<std::uint32_t, Arrived>> batch;
            for (auto u : chunks[index].to_vector(kChunkMessages)) {
                auto it = arrived.find(u.value);
                if (it == arrived.end()) continue;  // expunged since we listed it
                batch.emplace_back(u.value, std::move(it->second));
                arrived.erase(it);
            }
            m_messages.sync_pending();
            std::vector<store::MessageRecord> rows;
            for (auto& [uid, a] : batch) {
                store::MessageRecord m;
                m.mailbox_id = record.id;
                m.uidvalidity = record.uidvalidity;
                m.uid = uid;
                m.internaldate = a.internaldate;
                m.internaldate_zone = a.zone;
                m.size = a.pending->size();
                m.sha256 = a.pending->sha256_hex();
                m.message_id = a.message_id;
                m.flags = a.flags;
                m.modseq = a.modseq;
                m.added_at = now();
                m.file = m_messages.commit(*a.pending, account, folder, uid, a.internaldate, a.flags);
                rows.push_back(std::move(m));
            }
            std::uint32_t last = chunks[index].ranges().back().last;
            m_run.durable_step(m_catalog, m_messages, [&] {
                for (const auto& m : rows) m_catalog.add_message(m);
                record.uidnext = std::max(record.uidnext, last + 1);
                m_catalog.save_mailbox(record);
            });
            m_report.new_messages += rows.size();
        }
    } catch (...) {
        // FETCH commands still in flight would call back into this frame's
        // locals: the connection cannot be used again.
        if (!inflight.empty()) m_client.abandon("a mailbox sync failed with commands in flight");
        cleanup();
        throw;
    }
    cleanup();
}

}  // namespace imapkeep::sync
