// Include in exactly one .cpp of a test binary: replaces the global allocation
// functions to feed the counters of heap_counters.hpp (largest request, live
// bytes and their peak). Under AddressSanitizer nothing is replaced.
#pragma once

#include <malloc.h>

#include <cstdlib>
#include <new>

#include "heap_counters.hpp"

#if !defined(__SANITIZE_ADDRESS__)
namespace imapkeep::testing {
inline void* tracked_alloc(std::size_t size) noexcept {
    std::size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
    void* p = std::malloc(size ? size : 1);
    if (!p) return nullptr;
    const std::size_t usable = malloc_usable_size(p);
    const std::size_t live = g_live_bytes.fetch_add(usable) + usable;
    std::size_t peak = g_peak_bytes.load(std::memory_order_relaxed);
    while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
    }
    return p;
}
inline void tracked_free(void* p) noexcept {
    if (!p) return;
    g_live_bytes.fetch_sub(malloc_usable_size(p));
    std::free(p);
}
}  // namespace imapkeep::testing

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Every non-aligned form, so none is paired with the library's own allocator.
void* operator new(std::size_t size) {
    if (void* p = imapkeep::testing::tracked_alloc(size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    if (void* p = imapkeep::testing::tracked_alloc(size)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return imapkeep::testing::tracked_alloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return imapkeep::testing::tracked_alloc(size);
}
void operator delete(void* p) noexcept { imapkeep::testing::tracked_free(p); }
void operator delete[](void* p) noexcept { imapkeep::testing::tracked_free(p); }
void operator delete(void* p, std::size_t) noexcept { imapkeep::testing::tracked_free(p); }
void operator delete[](void* p, std::size_t) noexcept { imapkeep::testing::tracked_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { imapkeep::testing::tracked_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { imapkeep::testing::tracked_free(p); }
#pragma GCC diagnostic pop
#endif
