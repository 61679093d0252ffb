#include <catch2/catch.hpp>

#include "store/buffer_pool.hpp"

using imapkeep::store::BufferPool;

TEST_CASE("a buffer given back keeps its capacity for the next taker", "[store][buffer_pool]") {
    BufferPool pool;
    std::string buffer = pool.take();
    buffer.append(100'000, 'x');
    const auto capacity = buffer.capacity();
    pool.give(buffer);
    CHECK(buffer.capacity() < capacity);  // the giver keeps nothing
    std::string again = pool.take();
    CHECK(again.empty());
    CHECK(again.capacity() == capacity);
    CHECK(pool.kept() == 0);
}

TEST_CASE("the pool keeps a bounded number of bounded buffers", "[store][buffer_pool]") {
    struct Case {
        const char* name;
        std::size_t count;
        std::size_t size;
        std::size_t kept;
    };
    const Case cases[] = {
        {"nothing to keep", 3, 0, 0},
        {"a few", 3, 1000, 3},
        {"more than kMaxKept", BufferPool::kMaxKept + 5, 1000, BufferPool::kMaxKept},
        {"each larger than kMaxCapacity", 2, BufferPool::kMaxCapacity + 1, 0},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        BufferPool pool;
        std::vector<std::string> taken(c.count);
        for (auto& b : taken) b = std::string(c.size, 'y');
        for (auto& b : taken) pool.give(b);
        CHECK(pool.kept() == c.kept);
    }
}
