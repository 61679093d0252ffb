#include "cli/signals.hpp"

namespace imapkeep::cli {

namespace {

static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

void restore_default(int signal) {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal, &action, nullptr);
}

extern "C" void on_stop_signal(int signal) {
    int none = 0;
    g_signal.compare_exchange_strong(none, signal);
    g_stop.store(true);
    // The next one is not caught: it kills.
    restore_default(SIGINT);
    restore_default(SIGTERM);
}

}  // namespace

StopSignals::StopSignals() {
    g_stop = false;
    g_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    // Blocking reads and writes carry on; the flag is looked at between them.
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &m_old_int);
    ::sigaction(SIGTERM, &action, &m_old_term);
}

StopSignals::~StopSignals() {
    ::sigaction(SIGINT, &m_old_int, nullptr);
    ::sigaction(SIGTERM, &m_old_term, nullptr);
}

const std::atomic<bool>& StopSignals::flag() const { return g_stop; }

int StopSignals::signal() const { return g_signal.load(); }

int exit_code_for_signal(int signal) { return 128 + signal; }

}  // namespace imapkeep::cli
