#include <imapkeep/sync/plan.hpp>

#include <algorithm>
#include <imapkeep/util/sha256.hpp>
#include <set>
#include <strings.h>

namespace imapkeep::sync {

namespace {

bool is_inbox(const std::string& s) { return strcasecmp(s.c_str(), "INBOX") == 0; }

// Eight bytes, little-endian: the digest of a key reads the same on every host.
std::string fixed_width(std::uint64_t v) {
    std::string out(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i) & 0xff);
    return out;
}

std::uint8_t hex_value(char c) {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
}

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

namespace {

// For catalog rows of either kind: they are read by id, uid and flags.
template <class Row>
FlagDiff flags_against(const std::vector<Row>& catalog, const ServerFlagsOf& server_flags,
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

template <class Row>
std::vector<store::Id> absent_from(const std::vector<Row>& catalog, const UidSet& present) {
    std::vector<store::Id> out;
    for (const auto& m : catalog)
        if (!present.contains(Uid(m.uid))) out.push_back(m.id);
    return out;
}

}  // namespace

FlagDiff plan_flags(const std::vector<store::MessageRecord>& catalog,
                    const ServerFlagsOf& server_flags, bool complete) {
    return flags_against(catalog, server_flags, complete);
}

FlagDiff plan_flags(const std::vector<store::KnownFlags>& catalog,
                    const ServerFlagsOf& server_flags, bool complete) {
    return flags_against(catalog, server_flags, complete);
}

std::vector<store::Id> plan_expunges(const std::vector<store::MessageRecord>& catalog,
                                     const UidSet& present) {
    return absent_from(catalog, present);
}

std::vector<store::Id> plan_expunges(const std::vector<store::KnownFlags>& catalog,
                                     const UidSet& present) {
    return absent_from(catalog, present);
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

RematchDigest rematch_digest(std::string_view message_id, std::int64_t internaldate, std::uint64_t size) {
    util::Sha256 sha;
    sha.update(fixed_width(message_id.size()));
    sha.update(message_id);
    sha.update(fixed_width(static_cast<std::uint64_t>(internaldate)));
    sha.update(fixed_width(size));
    const std::string hex = sha.hex_digest();
    RematchDigest out{};
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::uint8_t>(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
    return out;
}

void RematchKeys::add_catalog(store::Id id, std::string_view message_id, std::int64_t internaldate,
                              std::uint64_t size) {
    if (message_id.empty())
        m_catalog_unkeyed.push_back(id);
    else
        m_catalog.push_back({rematch_digest(message_id, internaldate, size), id});
}

void RematchKeys::add_server(std::uint32_t uid, std::string_view message_id, std::int64_t internaldate,
                             std::uint64_t size, std::uint32_t tag) {
    if (message_id.empty())
        m_server_unkeyed.push_back(uid);
    else
        m_server.push_back({rematch_digest(message_id, internaldate, size), uid, tag});
}

Rematch RematchKeys::plan() {
    std::sort(m_catalog.begin(), m_catalog.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    std::sort(m_server.begin(), m_server.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    Rematch out;
    out.matched.reserve(std::min(m_catalog.size(), m_server.size()));
    out.unmatched_catalog.assign(m_catalog_unkeyed.begin(), m_catalog_unkeyed.end());
    out.unmatched_server.assign(m_server_unkeyed.begin(), m_server_unkeyed.end());
    // A merge of the two sorted sides, one run of equal keys at a time.
    auto c = m_catalog.begin();
    auto s = m_server.begin();
    while (c != m_catalog.end() || s != m_server.end()) {
        const bool catalog_first = s == m_server.end() || (c != m_catalog.end() && c->key < s->key);
        const bool server_first = c == m_catalog.end() || (s != m_server.end() && s->key < c->key);
        const RematchDigest key = catalog_first ? c->key : s->key;
        auto c_end = c;
        if (!server_first)
            while (c_end != m_catalog.end() && c_end->key == key) ++c_end;
        auto s_end = s;
        if (!catalog_first)
            while (s_end != m_server.end() && s_end->key == key) ++s_end;
        // A key that more than one message has on either side cannot tell
        // them apart: download them again rather than file one's bytes under
        // another's UID.
        if (c_end - c == 1 && s_end - s == 1) {
            out.matched.emplace_back(c->id, s->uid);
        } else {
            for (auto i = c; i != c_end; ++i) out.unmatched_catalog.push_back(i->id);
            for (auto i = s; i != s_end; ++i) out.unmatched_server.push_back(i->uid);
        }
        c = c_end;
        s = s_end;
    }
    std::sort(out.matched.begin(), out.matched.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    std::sort(out.unmatched_server.begin(), out.unmatched_server.end());
    std::sort(out.unmatched_catalog.begin(), out.unmatched_catalog.end());
    m_catalog = {};
    m_catalog_unkeyed = {};
    m_server_unkeyed = {};
    std::sort(m_server.begin(), m_server.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    return out;
}

std::uint32_t RematchKeys::tag_of(std::uint32_t uid) const {
    auto it = std::lower_bound(m_server.begin(), m_server.end(), uid,
                               [](const ServerKey& k, std::uint32_t u) { return k.uid < u; });
    return it != m_server.end() && it->uid == uid ? it->tag : 0;
}

Rematch plan_rematch(const std::vector<store::MessageRecord>& catalog,
                     const std::vector<ServerMessageKey>& server) {
    RematchKeys keys;
    for (const auto& m : catalog) keys.add_catalog(m.id, m.message_id, m.internaldate, m.size);
    for (const auto& s : server) keys.add_server(s.uid, s.message_id, s.internaldate, s.size);
    return keys.plan();
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
