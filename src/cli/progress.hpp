// The progress bar a backup draws on a terminal (issue 3): messages, bytes,
// rate and ETA, fed by the engine's sync::Progress counters, redrawn about 5
// times a second from its own thread and wiped when the run ends. Callers only
// create one when stderr is a terminal and neither -q nor --json is given.
#pragma once

#include <imapkeep/sync/backup.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace imapkeep::cli {

struct ProgressSnapshot {
    std::uint64_t messages_done = 0;
    std::uint64_t messages_total = 0;
    std::uint64_t bytes_done = 0;
    std::uint64_t bytes_total = 0;
};

// One line of at most `width` columns, e.g.
// "[#####.....]  12/40 msgs  1.2 MB/4.0 MB  310.0 KB/s  ETA 0:09".
// Totals of 0 mean "not known yet": no bar and no ETA.
std::string format_progress(const ProgressSnapshot& snapshot, double elapsed_seconds, int width);

// "0:09", "12:34", "1:02:03"
std::string format_eta(double seconds);

class ProgressBar {
public:
    ProgressBar(const sync::Progress& progress, std::ostream& out, int width);
    ~ProgressBar();  // stop()
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // Stops the thread and clears the line, so the summary starts on a clean line.
    void stop();

private:
    void run();

    const sync::Progress& m_progress;
    std::ostream& m_out;
    int m_width;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

// Columns of the terminal on `fd`, or 80.
int terminal_width(int fd);

}  // namespace imapkeep::cli
