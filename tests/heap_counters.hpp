// What the replaced allocation functions of largest_allocation.hpp record, for
// any .cpp of a binary that has them: the largest single request (so a test
// can prove that an announced literal size never became an allocation) and
// the bytes held by live allocations with their peak (so a test can bound
// what one operation holds at once). kCountsAllocations is false under
// AddressSanitizer, which owns operator new: the checks are then skipped, and
// run in every normal build.
#pragma once

#include <atomic>
#include <cstddef>

namespace imapkeep::testing {

inline std::atomic<std::size_t> g_largest_allocation{0};
inline std::atomic<std::size_t> g_live_bytes{0};
inline std::atomic<std::size_t> g_peak_bytes{0};

// Starts a new peak at what is held now; returns that level.
inline std::size_t reset_peak_heap() {
    const std::size_t now = g_live_bytes.load();
    g_peak_bytes = now;
    return now;
}

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCountsAllocations = false;
#else
inline constexpr bool kCountsAllocations = true;
#endif

}  // namespace imapkeep::testing
