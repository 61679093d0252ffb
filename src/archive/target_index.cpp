// Finding messages on a restore target by SHA-256 (target_index.hpp).
#include "archive/target_index.hpp"

#include <deque>
#include <imapkeep/util/sha256.hpp>
#include <imapkeep/wire/framer.hpp>
#include <map>
#include <memory>
#include <set>

namespace imapkeep::archive::detail {

namespace {

// Bodies per UID FETCH: enough to keep the link busy, few enough that a
// mailbox of look-alikes is read in steps.
constexpr std::uint64_t kHashChunk = 64;

class HashSink : public wire::LiteralSink {
  public:
    void write(std::string_view chunk) override { m_hash.update(chunk); }
    void finish() override { m_hex = m_hash.hex_digest(); }
    const std::string& hex() const { return m_hex; }

  private:
    util::Sha256 m_hash;
    std::string m_hex;
};

// The UIDs in `within` but not `taken` whose RFC822.SIZE is a wanted size.
UidSet candidates_by_size(imap::Client& client, const std::vector<WantedMessage>& wanted,
                          const UidSet& within, const UidSet& taken) {
    std::set<std::uint64_t> sizes;
    for (const auto& w : wanted) sizes.insert(w.size);
    UidSet out;
    client.uid_fetch(within, imap::FetchItems().uid().rfc822_size(), [&](imap::FetchData& fd) {
        if (!fd.uid || !fd.rfc822_size || taken.contains(*fd.uid)) return;
        if (sizes.contains(*fd.rfc822_size)) out.add(*fd.uid);
    });
    return out;
}

// Streams the bodies of `uids` through SHA-256, calling `found(uid, hex)`.
void hash_bodies(imap::Client& client, const UidSet& uids,
                 const std::function<void(Uid, const std::string&)>& found) {
    // The framer may start the next literal before this one is handed over,
    // so sinks are found by address.
    std::map<wire::LiteralSink*, std::unique_ptr<HashSink>> sinks;
    client.set_body_sink_factory([&](std::string_view, std::uint64_t) -> wire::LiteralSink* {
        auto sink = std::make_unique<HashSink>();
        auto* key = sink.get();
        sinks.emplace(key, std::move(sink));
        return key;
    });
    try {
        client.uid_fetch(uids, imap::FetchItems().uid().body_peek(), [&](imap::FetchData& fd) {
            auto it = sinks.find(fd.body_sink);
            if (fd.uid && it != sinks.end())
                found(*fd.uid, it->second->hex());
            else if (fd.uid && fd.has_body && !fd.body_sink)  // sent as a quoted string
                found(*fd.uid, util::sha256_hex(fd.body));
            if (it != sinks.end()) sinks.erase(it);
        });
    } catch (...) {
        client.set_body_sink_factory(nullptr);
        throw;
    }
    client.set_body_sink_factory(nullptr);
}

}  // namespace

UidSet all_uids() {
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    return all;
}

std::vector<std::optional<Uid>> find_in_target(imap::Client& client,
                                               const std::vector<WantedMessage>& wanted,
                                               const UidSet& within, const UidSet& taken) {
    std::vector<std::optional<Uid>> out(wanted.size());
    if (wanted.empty()) return out;
    const UidSet candidates = candidates_by_size(client, wanted, within, taken);
    std::map<std::string, std::deque<std::size_t>> open;  // SHA-256 -> wanted entries not yet found
    for (std::size_t i = 0; i < wanted.size(); ++i) open[wanted[i].sha256].push_back(i);
    std::size_t left = wanted.size();
    for (const auto& chunk : candidates.chunked(kHashChunk)) {
        hash_bodies(client, chunk, [&](Uid uid, const std::string& hex) {
            auto it = open.find(hex);
            if (it == open.end() || it->second.empty()) return;
            out[it->second.front()] = uid;
            it->second.pop_front();
            --left;
        });
        if (left == 0) break;
    }
    return out;
}

}  // namespace imapkeep::archive::detail
