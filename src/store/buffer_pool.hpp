// Write buffers kept for the next message (issue 10). Each message a
// MaildirPending gathers in a buffer of up to kWriteBuffer bytes; a fresh
// string per message grew by doubling, and past glibc's mmap threshold every
// growth mapped new pages and faulted each of them in: about 8% of a cold
// backup's CPU (perf: _M_mutate -> clear_page, malloc_consolidate). A buffer
// given back keeps its capacity for the next message of any thread. Memory
// stays bounded: at most kMaxKept buffers of at most kMaxCapacity bytes are
// kept; a larger or surplus one is freed.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace imapkeep::store {

class BufferPool {
  public:
    static constexpr std::size_t kMaxKept = 8;
    static constexpr std::size_t kMaxCapacity = 1024 * 1024;

    // Room for every buffer kept, so that give() never allocates.
    BufferPool() { m_kept.reserve(kMaxKept); }

    // An empty string, with the capacity of one given back earlier if any.
    std::string take() {
        std::lock_guard lock(m_mutex);
        if (m_kept.empty()) return {};
        std::string buffer = std::move(m_kept.back());
        m_kept.pop_back();
        return buffer;
    }
    // Leaves `buffer` empty (no capacity) in any case.
    void give(std::string& buffer) noexcept {
        std::string kept;
        kept.swap(buffer);
        if (kept.capacity() > kMaxCapacity || kept.capacity() == std::string().capacity()) return;
        kept.clear();
        std::lock_guard lock(m_mutex);
        if (m_kept.size() < kMaxKept) m_kept.push_back(std::move(kept));
    }
    std::size_t kept() const {
        std::lock_guard lock(m_mutex);
        return m_kept.size();
    }

  private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_kept;
};

}  // namespace imapkeep::store
