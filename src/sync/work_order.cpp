#include "sync/work_order.hpp"

#include <algorithm>
#include <numeric>

namespace imapkeep::sync {

namespace {

// A message to download (FETCH of its body, the file, its share of a batch's
// fsync) costs 0.1 ms in a cold run's large batches and up to 1 ms in a
// handful; a known message's line in a flags listing about 3 µs (issue 10's
// 1%-changed profiles). 64 sits between: a mailbox's size still counts,
// as it does on the plain path, but new mail weighs more.
constexpr std::uint64_t kNewMessageWeight = 64;

std::uint64_t weight(const MailboxWork& w) {
    return w.new_messages * kNewMessageWeight + w.messages;
}

}  // namespace

std::vector<std::size_t> most_work_first(const std::vector<MailboxWork>& work) {
    std::vector<std::size_t> order(work.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return weight(work[a]) > weight(work[b]);
    });
    return order;
}

}  // namespace imapkeep::sync
