// Ctrl-C and SIGTERM during a backup (issue 11): the first SIGINT or SIGTERM
// raises a stop flag that the engine checks at its durable boundaries
// (sync::BackupOptions::stop), and puts both signals back to their default
// action, so a second one kills at once (still safe: invariants 1-8 make a
// kill at any moment safe).
#pragma once

#include <atomic>
#include <csignal>

namespace imapkeep::cli {

// Installs the handlers for its lifetime (one at a time per process); the
// destructor restores the previous actions.
class StopSignals {
  public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    const std::atomic<bool>& flag() const;
    // The signal that raised the flag (SIGINT or SIGTERM), or 0.
    int signal() const;

  private:
    struct sigaction m_old_int {};
    struct sigaction m_old_term {};
};

// 128 + the signal: 130 for SIGINT, 143 for SIGTERM (the shells' convention).
int exit_code_for_signal(int signal);

}  // namespace imapkeep::cli
