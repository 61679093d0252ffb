// Include in exactly one .cpp of a test binary: replaces the global allocation
// functions to record the largest single request, so a test can prove that an
// announced literal size never became an allocation. Under AddressSanitizer the
// sanitizer owns operator new, so nothing is replaced and kCountsAllocations is
// false (the checks are then skipped, and run in every normal build).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace imapkeep::testing {
inline std::atomic<std::size_t> g_largest_allocation{0};
}

#if defined(__SANITIZE_ADDRESS__)
namespace imapkeep::testing {
inline constexpr bool kCountsAllocations = false;
}
#else
namespace imapkeep::testing {
inline constexpr bool kCountsAllocations = true;
inline void* tracked_alloc(std::size_t size) noexcept {
    std::size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
    return std::malloc(size ? size : 1);
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
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#endif
