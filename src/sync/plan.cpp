#include <imapkeep/sync/plan.hpp>

#include <algorithm>
#include <set>
#include <strings.h>

namespace imapkeep::sync {

namespace {

bool is_inbox(const std::string& s) { return strcasecmp(s.c_str(), "INBOX") == 0; }

// Backtracking-free matcher over (name, pattern) positions; patterns are short.
bool match_at(const std::string& name, std::size_t n, const std::string& pattern, std::size_t p,
              char delimiter) {
    while (p < pattern.size()) {
        char c = pattern[p];
        if (c == '*' || c == '%') {
            for (std::size_t k = n; k <= name.size(); ++k) {
                if (match_at(name, k, pattern, p + 1, delimiter)) return true;
                if (k < name.size() && c == '%' && delimiter && name[k] == delimiter) return false;
            }
            return false;
        }
        if (n >= name.size() || name[n] != c) return false;
        ++n;
        ++p;
    }
    return n == name.size();
}

}  // namespace

bool mailbox_matches(const std::string& name, const std::string& pattern,
                     const std::string& delimiter) {
    if (is_inbox(name) && is_inbox(pattern)) return true;
    std::string n = is_inbox(name) ? "INBOX" : name;
    return match_at(n, 0, pattern, 0, delimiter.empty() ? '\0' : delimiter[0]);
}

bool mailbox_selected(const std::string& name, const std::string& delimiter,
                      const std::vector<std::string>& include,
                      const std::vector<std::string>& exclude) {
    bool in = include.empty() ||
              std::any_of(include.begin(), include.end(), [&](const std::string& p) {
                  return mailbox_matches(name, p, delimiter);
              });
    if (!in) return false;
    return std::none_of(exclude.begin(), exclude.end(), [&](const std::string& p) {
        return mailbox_matches(name, p, delimiter);
    });
}

MailboxChanges plan_mailboxes(const std::vector<ServerMailbox>& server,
                              const std::vector<store::MailboxRecord>& catalog) {
    MailboxChanges out;
    std::set<std::string> server_names;
    for (const auto& s : server) server_names.insert(s.name);
    std::set<std::string> catalog_names;
    std::vector<const store::MailboxRecord*> gone;
    for (const auto& c : catalog) {
        if (c.deleted_at) continue;
        catalog_names.insert(c.name);
        if (!server_names.count(c.name)) gone.push_back(&c);
    }
    std::vector<const ServerMailbox*> fresh;
    for (const auto& s : server)
        if (!catalog_names.count(s.name)) fresh.push_back(&s);

    std::set<const ServerMailbox*> claimed;
    for (const auto* g : gone) {
        const ServerMailbox* match = nullptr;
        int candidates = 0;
        for (const auto* f : fresh) {
            if (claimed.count(f)) continue;
            bool same = !g->mailboxid.empty() && !f->mailboxid.empty()
                            ? g->mailboxid == f->mailboxid
                            : g->uidvalidity != 0 && f->uidvalidity == g->uidvalidity;
            if (same) {
                match = f;
                ++candidates;
            }
        }
        if (match && candidates == 1) {
            claimed.insert(match);
            bool proven = !g->mailboxid.empty() && !match->mailboxid.empty();
            (proven ? out.renamed : out.unproven).emplace_back(g->id, *match);
        } else {
            out.deleted.push_back(g->id);
        }
    }
    for (const auto* f : fresh)
        if (!claimed.count(f)) out.created.push_back(*f);
    return out;
}

FlagDiff plan_flags(const std::vector<store::MessageRecord>& catalog,
                    const std::map<std::uint32_t, std::vector<std::string>>& server_flags,
                    bool complete) {
    return plan_flags(
        catalog,
        [&](std::uint32_t uid) -> const std::vector<std::string>* {
            auto it = server_flags.find(uid);
            return it == server_flags.end() ? nullptr : &it->second;
        },
        complete);
}

FlagDiff plan_flags(const std::vector<store::MessageRecord>& catalog, const ServerFlagsOf& server_flags,
                    bool complete) {
    FlagDiff out;
    for (const auto& m : catalog) {
        const auto* reported = server_flags(m.uid);
        if (!reported) {
            if (complete) out.expunged.push_back(m.id);
            continue;
        }
        auto flags = store::normalize_flags(*reported);
        if (flags != store::normalize_flags(m.flags)) out.changed.emplace_back(m.id, std::move(flags));
    }
    return out;
}

std::vector<store::Id> plan_expunges(const std::vector<store::MessageRecord>& catalog, const UidSet& present) {
    std::vector<store::Id> out;
    for (const auto& m : catalog)
        if (!present.contains(Uid(m.uid))) out.push_back(m.id);
    return out;
}

std::vector<store::MessageRecord> rename_sample(std::vector<store::MessageRecord> catalog,
                                                std::uint32_t uidvalidity, std::size_t count) {
    std::erase_if(catalog, [&](const store::MessageRecord& m) { return m.uidvalidity != uidvalidity; });
    std::sort(catalog.begin(), catalog.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    if (catalog.size() <= count) return catalog;
    std::vector<store::MessageRecord> out;
    for (std::size_t i = 0; i < count; ++i) out.push_back(catalog[i * (catalog.size() - 1) / (count - 1)]);
    return out;
}

bool same_messages(const std::vector<store::MessageRecord>& sample,
                   const std::vector<ServerMessageKey>& server) {
    std::map<std::uint32_t, const ServerMessageKey*> by_uid;
    for (const auto& s : server) by_uid[s.uid] = &s;
    bool identified = false;
    for (const auto& m : sample) {
        auto it = by_uid.find(m.uid);
        if (it == by_uid.end()) continue;  // expunged since: no evidence either way
        if (it->second->message_id != m.message_id || it->second->size != m.size) return false;
        identified = identified || !m.message_id.empty();
    }
    return identified;
}

Rematch plan_rematch(const std::vector<store::MessageRecord>& catalog,
                     const std::vector<ServerMessageKey>& server) {
    using Key = std::tuple<std::string, std::int64_t, std::uint64_t>;
    Rematch out;
    std::map<Key, std::vector<store::Id>> rows;
    for (const auto& m : catalog) rows[{m.message_id, m.internaldate, m.size}].push_back(m.id);
    std::map<Key, int> on_server;
    for (const auto& s : server) ++on_server[{s.message_id, s.internaldate, s.size}];
    std::set<store::Id> used;
    for (const auto& s : server) {
        const Key key{s.message_id, s.internaldate, s.size};
        auto it = rows.find(key);
        // Without a Message-ID, or with a key that more than one message has
        // on either side, the key cannot tell the messages apart: download
        // them again rather than file one's bytes under another's UID.
        if (s.message_id.empty() || it == rows.end() || it->second.size() != 1 || on_server[key] != 1) {
            out.unmatched_server.push_back(s.uid);
            continue;
        }
        used.insert(it->second.front());
        out.matched.emplace_back(it->second.front(), s.uid);
    }
    for (const auto& m : catalog)
        if (!used.count(m.id)) out.unmatched_catalog.push_back(m.id);
    return out;
}

ChunkLimits chunk_limits(const PacingLimits& pacing) {
    ChunkLimits limits;
    // Clamped as doubles: a huge rate must not overflow the conversion.
    if (pacing.max_messages_per_second > 0) {
        const double paced = std::clamp(pacing.max_messages_per_second * kChunkSeconds, 1.0,
                                        static_cast<double>(limits.messages));
        limits.messages = static_cast<std::size_t>(paced);
    }
    if (pacing.max_bytes_per_second > 0) {
        const double paced = std::clamp(pacing.max_bytes_per_second * kChunkSeconds, 1.0,
                                        static_cast<double>(limits.bytes));
        limits.bytes = static_cast<std::uint64_t>(paced);
    }
    return limits;
}

std::vector<UidSet> plan_chunks(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted,
                                const ChunkLimits& limits) {
    std::vector<UidSet> chunks;
    UidSet current;
    std::size_t count = 0;
    std::uint64_t bytes = 0;
    for (const auto& [uid, size] : wanted) {
        if (count > 0 && (count >= limits.messages || bytes + size > limits.bytes)) {
            chunks.push_back(std::move(current));
            current = UidSet();
            count = 0;
            bytes = 0;
        }
        current.add(Uid(uid));
        ++count;
        bytes += size;
    }
    if (!current.empty()) chunks.push_back(std::move(current));
    return chunks;
}

}  // namespace imapkeep::sync
