#include <imapkeep/util/process_id.hpp>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace imapkeep::util {
namespace {

std::atomic<pid_t> g_pid{0};

void forget_pid() noexcept { g_pid.store(0, std::memory_order_relaxed); }

}  // namespace

pid_t process_id() noexcept {
    const pid_t cached = g_pid.load(std::memory_order_relaxed);
    if (cached != 0) return cached;
    static std::once_flag registered;
    std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, forget_pid); });
    const pid_t pid = ::getpid();
    g_pid.store(pid, std::memory_order_relaxed);
    return pid;
}

}  // namespace imapkeep::util
