#include "store/dir_sync.hpp"

#include <algorithm>
#include <vector>

namespace imapkeep::store {

void DirSync::mark(const std::string& dir) {
    std::lock_guard lock(m_mutex);
    m_dirty.insert(dir);
}

void DirSync::sync(const std::function<void(const std::string&)>& fsync_dir) {
    // A pass in flight that failed gave its directories back: take them over.
    while (!wait_for(run_pass(fsync_dir))) {
    }
}

std::set<std::uint64_t> DirSync::run_pass(
    const std::function<void(const std::string&)>& fsync_dir) {
    std::set<std::string> dirs;
    std::set<std::uint64_t> earlier;
    std::uint64_t pass = 0;
    {
        std::lock_guard lock(m_mutex);
        dirs.swap(m_dirty);
        earlier = m_in_flight;
        pass = m_next_pass++;
        m_in_flight.insert(pass);
    }
    auto done = dirs.begin();
    try {
        for (; done != dirs.end(); ++done) fsync_dir(*done);
    } catch (...) {
        std::lock_guard lock(m_mutex);
        m_dirty.insert(done, dirs.end());
        m_in_flight.erase(pass);
        m_failed.insert(pass);
        m_done.notify_all();
        throw;
    }
    std::lock_guard lock(m_mutex);
    m_in_flight.erase(pass);
    m_done.notify_all();
    return earlier;
}

bool DirSync::wait_for(const std::set<std::uint64_t>& passes) {
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] {
        return std::none_of(passes.begin(), passes.end(),
                            [&](std::uint64_t p) { return m_in_flight.count(p) > 0; });
    });
    return std::none_of(passes.begin(), passes.end(),
                        [&](std::uint64_t p) { return m_failed.count(p) > 0; });
}

}  // namespace imapkeep::store
