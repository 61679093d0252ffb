#include "sync/work_order.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace imapkeep::sync {

namespace {

std::chrono::microseconds times(std::uint64_t count, std::chrono::microseconds each) {
    return each * static_cast<std::int64_t>(std::min<std::uint64_t>(count, UINT32_MAX));
}

std::chrono::microseconds estimate(const MailboxWork& w, bool lists_known, const WorkCosts& costs) {
    const auto known =
        lists_known ? times(w.messages, costs.listed_message) : std::chrono::microseconds{};
    return costs.mailbox + times(w.new_messages, costs.new_message) +
           times(w.changes, costs.change) + known;
}

}  // namespace

std::vector<std::size_t> most_work_first(const std::vector<MailboxWork>& work, bool lists_known,
                                         const WorkCosts& costs) {
    std::vector<std::chrono::microseconds> cost;
    for (const auto& w : work) cost.push_back(estimate(w, lists_known, costs));
    std::vector<std::size_t> order(work.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
    return order;
}

ConnectionPlan plan_connections(const std::vector<MailboxWork>& work, bool lists_known, int at_most,
                                const WorkCosts& costs) {
    const int most = std::max(1, std::min<int>(at_most, static_cast<int>(work.size())));
    const bool guessing =
        std::any_of(work.begin(), work.end(), [](const MailboxWork& w) { return !w.estimated; });
    if (guessing || costs.connection.count() <= 0) return {most, 0, {}, {}};
    ConnectionPlan plan;
    std::chrono::microseconds total{}, largest{};
    for (const auto& w : work) {
        plan.estimates.push_back(estimate(w, lists_known, costs));
        total += plan.estimates.back();
        largest = std::max(largest, plan.estimates.back());
    }
    const auto extra = (total - largest) / (2 * costs.connection);
    plan.at_once = static_cast<int>(std::min<std::int64_t>(most, 1 + extra));
    plan.standby = most - plan.at_once;
    plan.standby_after = 2 * std::max(total, costs.connection);
    return plan;
}

bool standby_worth_opening(std::chrono::microseconds elapsed, std::chrono::microseconds taken,
                           std::chrono::microseconds untaken,
                           std::chrono::microseconds connection) {
    if (taken.count() <= 0) return untaken.count() > 0;
    const double pace = static_cast<double>(elapsed.count()) / static_cast<double>(taken.count());
    return pace * static_cast<double>(untaken.count()) >=
           2.0 * static_cast<double>(connection.count());
}

}  // namespace imapkeep::sync
