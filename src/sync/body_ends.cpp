#include "sync/body_ends.hpp"

#include <deque>
#include <imapkeep/imap/fetch_items.hpp>
#include <utility>

namespace imapkeep::sync {

namespace {

constexpr std::size_t kProbesInFlight = 64;

}  // namespace

std::set<std::uint32_t> bodies_ending_at(imap::Client& client,
                                         const std::map<std::uint32_t, std::uint64_t>& ends) {
    // Kept by UID, never per FETCH: the client hands untagged FETCH data to
    // the oldest FETCH still open, which a server running pipelined FETCHes
    // at once (RFC 3501 §5.5) makes another probe than the one that asked.
    std::map<std::uint32_t, bool> ended;  // uid -> every answer held no octet
    auto on_fetch = [&](imap::FetchData& d) {
        if (!d.uid || !d.has_body || !ends.contains(d.uid->value)) return;
        auto [it, added] = ended.try_emplace(d.uid->value, true);
        it->second = it->second && d.body_sink == nullptr && d.body.empty();
    };
    std::set<std::uint32_t> refused;
    std::deque<std::pair<imap::Client::Tag, std::uint32_t>> inflight;
    auto next = ends.begin();
    auto send = [&] {
        UidSet one;
        one.add(Uid(next->first));
        const auto items = imap::FetchItems().uid().body_peek_partial(next->second, 1);
        inflight.emplace_back(client.submit_uid_fetch(one, items, on_fetch), next->first);
        ++next;
    };
    try {
        if (next != ends.end()) send();
        while (!inflight.empty()) {
            auto [tag, uid] = inflight.front();
            const auto completion = client.wait(tag);
            inflight.pop_front();
            if (!completion.ok()) refused.insert(uid);
            while (refused.empty() && next != ends.end() && inflight.size() < kProbesInFlight) send();
        }
    } catch (...) {
        // Probes still in flight would write into this frame's locals.
        if (!inflight.empty()) client.abandon("a partial FETCH failed with commands in flight");
        throw;
    }
    std::set<std::uint32_t> out;
    for (const auto& [uid, empty] : ended)
        if (empty && !refused.contains(uid)) out.insert(uid);
    return out;
}

}  // namespace imapkeep::sync
