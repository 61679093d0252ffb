// store::parallel_each: every item once, failures after all items ran, and
// helper threads that are started once and kept (issue 10: on a VM where a
// thread start costs 0.15-0.25 ms, a batch of 16 fsyncs paid 2-4 ms for its
// threads alone, at every chunk of every mailbox).
#include "store/parallel_each.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using imapkeep::store::parallel_each;
using imapkeep::store::parallel_each_threads_started;

namespace {

// Each index's calls, from a run of parallel_each.
std::vector<int> calls_of(std::size_t count, std::size_t threads) {
    std::vector<std::atomic<int>> calls(count);
    parallel_each(count, threads, [&](std::size_t i) { ++calls[i]; });
    std::vector<int> out;
    for (auto& c : calls) out.push_back(c.load());
    return out;
}

}  // namespace

TEST_CASE("parallel_each calls every index exactly once", "[store][parallel]") {
    struct Case {
        std::size_t count;
        std::size_t threads;
    };
    for (const Case c : {Case{0, 4}, Case{1, 4}, Case{3, 1}, Case{3, 0}, Case{5, 16}, Case{64, 4},
                         Case{1000, 16}}) {
        INFO("count " << c.count << ", threads " << c.threads);
        CHECK(calls_of(c.count, c.threads) == std::vector<int>(c.count, 1));
    }
}

TEST_CASE("parallel_each runs every item when some throw, then rethrows one of theirs",
          "[store][parallel]") {
    std::vector<std::atomic<int>> calls(40);
    auto failing = [&] {
        parallel_each(calls.size(), 8, [&](std::size_t i) {
            ++calls[i];
            if (i % 7 == 3) throw std::runtime_error("item " + std::to_string(i));
        });
    };
    CHECK_THROWS_WITH(failing(), Catch::Matchers::StartsWith("item "));
    for (auto& c : calls) CHECK(c.load() == 1);
}

TEST_CASE("parallel_each keeps its helper threads for the next batch", "[store][parallel]") {
    auto slow_batch = [](std::size_t threads) {
        // Long enough items that every helper joins in.
        parallel_each(4 * threads, threads, [](std::size_t) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    };
    slow_batch(6);
    const auto started = parallel_each_threads_started();
    CHECK(started >= 5);
    for (int round = 0; round < 5; ++round) slow_batch(6);
    CHECK(parallel_each_threads_started() == started);
}

TEST_CASE("parallel_each serves callers on several threads at once", "[store][parallel]") {
    constexpr std::size_t kCallers = 6;
    constexpr std::size_t kItems = 300;
    std::vector<std::vector<std::atomic<int>>> calls(kCallers);
    for (auto& c : calls) c = std::vector<std::atomic<int>>(kItems);
    std::vector<std::thread> callers;
    for (std::size_t k = 0; k < kCallers; ++k)
        callers.emplace_back([&, k] {
            for (int round = 0; round < 20; ++round)
                parallel_each(kItems, 4, [&](std::size_t i) { ++calls[k][i]; });
        });
    for (auto& t : callers) t.join();
    for (std::size_t k = 0; k < kCallers; ++k)
        for (std::size_t i = 0; i < kItems; ++i) CHECK(calls[k][i].load() == 20);
}

TEST_CASE("parallel_each returns only after every item returned", "[store][parallel]") {
    // A helper still inside an item after the call returned would use the
    // caller's frame: the items' state must all be final at return.
    for (int round = 0; round < 50; ++round) {
        std::atomic<int> inside{0};
        std::atomic<int> done{0};
        parallel_each(16, 8, [&](std::size_t i) {
            ++inside;
            if (i % 2 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
            ++done;
            --inside;
        });
        REQUIRE(inside.load() == 0);
        REQUIRE(done.load() == 16);
    }
}
