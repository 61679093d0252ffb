// The calling process's id without a syscall each time (glibc caches no pid):
// taken once, and again in a child made by fork(2) (a pthread_atfork handler
// forgets it). Thread-safe. A child made by a raw clone(2) that skips the
// fork handlers must not call it before exec; posix_spawn's children never do.
#pragma once

#include <sys/types.h>

namespace imapkeep::util {

pid_t process_id() noexcept;

}  // namespace imapkeep::util
