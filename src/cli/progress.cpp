#include "cli/progress.hpp"

#include "cli/report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

namespace imapkeep::cli {

namespace {
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
}

std::string format_eta(double seconds) {
    auto s = static_cast<long long>(seconds + 0.5);
    char buffer[32];
    if (s >= 3600)
        std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%lld:%02lld", s / 60, s % 60);
    return buffer;
}

std::string format_progress(const ProgressSnapshot& p, double elapsed, int width) {
    std::string text = std::to_string(p.messages_done);
    if (p.messages_total) text += "/" + std::to_string(p.messages_total);
    text += " msgs  " + human_bytes(p.bytes_done);
    if (p.bytes_total) text += "/" + human_bytes(p.bytes_total);
    double rate = elapsed > 0 ? static_cast<double>(p.bytes_done) / elapsed : 0;
    text += "  " + human_bytes(static_cast<std::uint64_t>(rate)) + "/s";
    if (p.bytes_total > p.bytes_done && rate > 0)
        text += "  ETA " + format_eta(static_cast<double>(p.bytes_total - p.bytes_done) / rate);
    else if (p.bytes_total && p.bytes_done >= p.bytes_total)
        text += "  ETA 0:00";

    // The bar follows bytes when their total is known (a 100 MB message moves
    // it as it should), else messages.
    double fraction = -1;
    if (p.bytes_total)
        fraction = static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total);
    else if (p.messages_total)
        fraction = static_cast<double>(p.messages_done) / static_cast<double>(p.messages_total);
    int bar = width - static_cast<int>(text.size()) - 4;
    if (fraction >= 0 && bar >= 10) {
        if (fraction > 1) fraction = 1;
        bar = std::min(bar, 40);
        int filled = static_cast<int>(fraction * bar);
        text = "[" + std::string(static_cast<size_t>(filled), '#') +
               std::string(static_cast<size_t>(bar - filled), '.') + "]  " + text;
    }
    if (static_cast<int>(text.size()) > width && width > 0) text.resize(static_cast<size_t>(width));
    return text;
}

int terminal_width(int fd) {
    winsize ws{};
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

ProgressBar::ProgressBar(const sync::Progress& progress, std::ostream& out, int width)
    : m_progress(progress), m_out(out), m_width(width), m_thread([this] { run(); }) {}

ProgressBar::~ProgressBar() { stop(); }

void ProgressBar::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
    m_out << "\r\x1b[K" << std::flush;
}

void ProgressBar::run() {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, kRedrawInterval, [this] { return m_stopping; })) {
        ProgressSnapshot s{m_progress.messages_done.load(), m_progress.messages_total.load(),
                           m_progress.bytes_done.load(), m_progress.bytes_total.load()};
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Leave the last column free: writing there makes some terminals wrap.
        m_out << "\r" << format_progress(s, elapsed, m_width - 1) << "\x1b[K" << std::flush;
    }
}

}  // namespace imapkeep::cli
