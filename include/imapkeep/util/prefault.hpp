// Fresh memory made writable in one system call instead of one page fault
// per 4 KiB page (madvise MADV_POPULATE_WRITE, Linux 5.14). For a buffer
// about to be filled whole, such as a literal's string of its announced
// size: on a paravirtualised VM a page fault cost about 8 us, and the
// imaplib face's fetch-all of 20k messages took 111,727 of them, about 40%
// of its time (issue 10, scenario 6).
//
// Contract: only the pages wholly inside [data, data + size) are touched;
// their contents are unchanged (already present pages are left as they are,
// absent ones read as zero, as a first write would find them). Best effort:
// an older kernel, or memory that cannot be populated, leaves the faults to
// come as before. Never throws, thread-safe.
#pragma once

#include <cstddef>

namespace imapkeep::util {

// Below this size a buffer comes from the heap's pages already in use, and
// the call would cost more than the faults it saves.
inline constexpr std::size_t kPrefaultMinBytes = 256 * 1024;

// Populates the whole pages of [data, data + size) when size >= kPrefaultMinBytes.
// Returns the bytes populated (0: none).
std::size_t prefault_for_write(void* data, std::size_t size) noexcept;

}  // namespace imapkeep::util
