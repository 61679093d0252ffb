// The store lock: one imapkeep run per store at a time (issue 3 "Crash safety
// and cron"). flock(LOCK_EX|LOCK_NB) on STORE/.lock, which also records the
// holder's pid for the "busy" message.
//
// flock belongs to the open file description, so the lock is held as long as
// the StoreLock lives (and dies with the process, even on SIGKILL: no stale
// locks). A second StoreLock on the same store fails, in this process too.
#pragma once

#include <stdexcept>
#include <optional>
#include <string>
#include <sys/types.h>

namespace imapkeep::cli {

class LockBusy : public std::runtime_error {
public:
    LockBusy(const std::string& store, pid_t holder);
    pid_t holder() const { return m_holder; }  // 0 when unknown

private:
    pid_t m_holder;
};

class StoreLock {
public:
    // Creates the store directory (0700) if needed, then takes the lock.
    // Throws LockBusy when another run holds it, std::system_error on I/O errors.
    explicit StoreLock(const std::string& store_path);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

private:
    int m_fd = -1;
};

// Whether a run holds the store's lock now, without taking it or creating
// anything: the holder's pid (0 if unknown) or nullopt when the lock is free
// or the store has none.
std::optional<pid_t> lock_holder(const std::string& store_path);

}  // namespace imapkeep::cli
