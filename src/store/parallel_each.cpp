#include "store/parallel_each.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace imapkeep::store {

namespace {

// One call's items, shared by the caller and the helpers that joined it.
struct Batch {
    const std::function<void(std::size_t)>* each = nullptr;
    std::size_t count = 0;
    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::size_t helping = 0;  // helpers inside work(); HelperPool::m_mutex guards it

    void work() {
        for (std::size_t i = next++; i < count; i = next++) {
            try {
                (*each)(i);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!failure) failure = std::current_exception();
            }
        }
    }
};

// Helper threads started once and kept for the process: a thread start costs
// more than the fsync it would help with on some VMs (issue 10). A call
// queues one slot per helper it wants; an idle helper takes a slot and works
// on that batch until its items run out. The caller works too, takes back the
// slots no helper took, and waits for the helpers still inside its batch, so
// no helper touches the batch once the call has returned.
class HelperPool {
  public:
    // Never destroyed: its threads end with the process, and no exit waits
    // for a helper that may be inside a slow fsync of another caller.
    static HelperPool& instance() {
        static auto* pool = new HelperPool;
        return *pool;
    }

    void run(Batch& batch, std::size_t helpers) {
        offer(batch, helpers);
        batch.work();
        std::unique_lock lock(m_mutex);
        std::erase(m_slots, &batch);
        m_batch_done.wait(lock, [&] { return batch.helping == 0; });
    }

    std::size_t started() const { return m_started.load(); }

  private:
    void offer(Batch& batch, std::size_t helpers) {
        {
            std::lock_guard lock(m_mutex);
            for (std::size_t i = 0; i < helpers; ++i) m_slots.push_back(&batch);
            // Idle helpers take these slots; start threads for the rest.
            const std::size_t busy = m_started - m_idle;
            const std::size_t wanted = std::min(kMaxHelpers, busy + m_slots.size());
            while (m_started < wanted) {
                std::thread([this] { serve(); }).detach();
                ++m_started;
            }
        }
        if (helpers == 1) {
            m_slot_queued.notify_one();
        } else {
            m_slot_queued.notify_all();
        }
    }

    void serve() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            ++m_idle;
            m_slot_queued.wait(lock, [&] { return !m_slots.empty(); });
            --m_idle;
            Batch* batch = m_slots.front();
            m_slots.pop_front();
            ++batch->helping;
            lock.unlock();
            batch->work();
            lock.lock();
            if (--batch->helping == 0) m_batch_done.notify_all();
        }
    }

    // Concurrent calls (one per mailbox worker) share the helpers; past this
    // many, a call's slots wait for a helper or are taken back by the caller.
    static constexpr std::size_t kMaxHelpers = 32;

    std::mutex m_mutex;
    std::condition_variable m_slot_queued;
    std::condition_variable m_batch_done;
    std::deque<Batch*> m_slots;
    std::size_t m_idle = 0;
    std::atomic<std::size_t> m_started{0};  // helpers, never stopped
};

}  // namespace

void parallel_each(std::size_t count, std::size_t threads,
                   const std::function<void(std::size_t)>& each) {
    Batch batch;
    batch.each = &each;
    batch.count = count;
    const std::size_t wanted = std::min(count, std::max<std::size_t>(threads, 1));
    if (wanted <= 1) {
        batch.work();
    } else {
        HelperPool::instance().run(batch, wanted - 1);
    }
    if (batch.failure) std::rethrow_exception(batch.failure);
}

std::size_t parallel_each_threads_started() { return HelperPool::instance().started(); }

}  // namespace imapkeep::store
