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
    std::string label;     // "work/INBOX": the account and mailbox being synced
    double fraction = -1;  // of the bar, 0..1; < 0: from the counts
};

// One line of at most `width` columns, e.g.
// "[#####.....]  12/40 msgs  1.2 MB/4.0 MB  310.0 KB/s  ETA 0:09  work/INBOX".
// Totals of 0 mean "not known yet": no bar and no ETA. The label goes last,
// made printable and cut at its start ("…ts/Kitchen") to fit, or left out.
std::string format_progress(const ProgressSnapshot& snapshot, double elapsed_seconds, int width);

// What the bar shows, from the engine's counters: those totals are estimates
// corrected up or down as mailboxes are counted, and the bar must never move
// backwards. Keeps total >= done, done/total never decreasing (a total
// corrected upwards shows as done/shown-fraction until the real one catches
// up), and the bar's fraction never decreasing.
class SteadyProgress {
public:
    ProgressSnapshot next(ProgressSnapshot raw);

private:
    double m_messages = 0;
    double m_bytes = 0;
    double m_fraction = 0;
};

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
