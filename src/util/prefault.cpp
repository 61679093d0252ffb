#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <imapkeep/util/prefault.hpp>

namespace imapkeep::util {

std::size_t prefault_for_write(void* data, std::size_t size) noexcept {
#ifdef MADV_POPULATE_WRITE
    if (!data || size < kPrefaultMinBytes) return 0;
    static const auto kPage = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<std::uintptr_t>(data);
    const std::uintptr_t first = (begin + kPage - 1) / kPage * kPage;
    const std::uintptr_t last = (begin + size) / kPage * kPage;
    if (last <= first) return 0;
    const std::size_t length = last - first;
    if (::madvise(reinterpret_cast<void*>(first), length, MADV_POPULATE_WRITE) != 0) return 0;
    return length;
#else
    (void)data;
    (void)size;
    return 0;
#endif
}

}  // namespace imapkeep::util
