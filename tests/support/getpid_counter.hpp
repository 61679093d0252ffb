// Counts getpid() calls made by the code under test: the test binary's own
// getpid replaces libc's for every object linked into it (the static imapkeep
// layers included) and forwards to the kernel. glibc caches no pid, so each
// call is a syscall; hot paths must not make one per message.
//
// Defines a function: include it in ONE .cpp of a test binary.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace imapkeep::test {
inline std::atomic<long> g_getpid_calls{0};
inline long getpid_calls() { return g_getpid_calls.load(); }
}  // namespace imapkeep::test

extern "C" pid_t getpid() noexcept {
    imapkeep::test::g_getpid_calls.fetch_add(1);
    return static_cast<pid_t>(::syscall(SYS_getpid));
}
