// CommitQueue (src/sync/commit_queue.hpp): chunk commits run on a second
// thread, one at a time and in order; a failure reaches the submitting thread
// and stops every later commit; at most `max_waiting` jobs wait.
#include "sync/commit_queue.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <vector>

using imapkeep::sync::CommitQueue;
using namespace std::chrono_literals;

TEST_CASE("commit queue: jobs run in submission order, all done at finish()",
          "[sync][commit_queue]") {
    std::vector<int> order;  // only the queue's thread appends
    CommitQueue queue(2);
    for (int i = 0; i < 50; ++i) queue.submit([&order, i] { order.push_back(i); });
    queue.finish();
    REQUIRE(order.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("commit queue: a failed job stops later ones and reaches the caller",
          "[sync][commit_queue]") {
    std::atomic<int> ran{0};
    CommitQueue queue(4);
    queue.submit([&] { ++ran; });
    queue.submit([] { throw std::runtime_error("disk full"); });
    queue.submit([&] { ++ran; });
    REQUIRE_THROWS_WITH(queue.finish(), "disk full");
    CHECK(ran == 1);
    // Later submissions are refused with the same error, and never run.
    REQUIRE_THROWS_WITH(queue.submit([&] { ++ran; }), "disk full");
    CHECK(ran == 1);
}

TEST_CASE("commit queue: submit() blocks while max_waiting jobs wait", "[sync][commit_queue]") {
    std::atomic<bool> release{false};
    std::atomic<int> submitted{0};
    {
        CommitQueue queue(1);
        queue.submit([&] {
            while (!release) std::this_thread::sleep_for(1ms);
        });
        std::thread producer([&] {
            for (int i = 0; i < 3; ++i) {
                queue.submit([] {});
                ++submitted;
            }
        });
        std::this_thread::sleep_for(100ms);
        // One running (held), one waiting: the second extra submit must block.
        CHECK(submitted <= 1);
        release = true;
        producer.join();
        queue.finish();
        CHECK(submitted == 3);
    }
}

TEST_CASE("commit queue: destruction waits for the running job, none runs after",
          "[sync][commit_queue]") {
    std::atomic<bool> started{false};
    std::atomic<bool> destroyed{false};
    std::atomic<int> finished{0};
    std::atomic<int> ran_after{0};
    auto job = [&] {
        started = true;
        std::this_thread::sleep_for(50ms);
        if (destroyed) ++ran_after;
        ++finished;
    };
    {
        CommitQueue queue(1);
        queue.submit(job);
        queue.submit(job);  // waiting, or dropped: either leaves nothing behind
        while (!started) std::this_thread::sleep_for(1ms);
    }
    destroyed = true;
    const int at_destruction = finished;
    CHECK(at_destruction >= 1);
    std::this_thread::sleep_for(120ms);
    CHECK(finished == at_destruction);
    CHECK(ran_after == 0);
}
