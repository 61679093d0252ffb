#include "cli/progress.hpp"

#include "cli/report.hpp"

#include <imapkeep/util/utf8.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

namespace imapkeep::cli {

namespace {
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
constexpr int kFreeColumns = 3;
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

namespace {

// Columns of UTF-8 text: one per character (what printable_utf8 leaves).
std::size_t columns(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(
        text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The label made printable (no escape sequence reaches the terminal) and cut
// to `room` columns, keeping its end: the deepest folder says the most.
std::string fit_label(std::string_view label, std::size_t room) {
    std::string text = util::printable_utf8(label);
    std::replace(text.begin(), text.end(), '\t', ' ');
    if (columns(text) <= room) return text;
    std::size_t keep = room - 1, start = text.size();
    while (keep > 0 && start > 0) {
        --start;
        if ((static_cast<unsigned char>(text[start]) & 0xC0) != 0x80) --keep;
    }
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    return "\u2026" + text.substr(start);
}

constexpr std::size_t kLabelReserve = 20;  // columns kept from the bar for the label
constexpr std::size_t kLabelMinimum = 6;

double fraction_of(const ProgressSnapshot& p) {
    if (p.fraction >= 0) return p.fraction;
    // The bar follows bytes when their total is known (a 100 MB message moves
    // it as it should), else messages.
    if (p.bytes_total) return static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total);
    if (p.messages_total) return static_cast<double>(p.messages_done) / static_cast<double>(p.messages_total);
    return -1;
}

// total >= done, and done/total no less than `shown` (updated).
void steady_total(std::uint64_t done, std::uint64_t& total, double& shown) {
    if (total == 0) return;
    total = std::max(total, done);
    if (static_cast<double>(done) / static_cast<double>(total) < shown)
        total = std::max(done, static_cast<std::uint64_t>(static_cast<double>(done) / shown));
    shown = static_cast<double>(done) / static_cast<double>(total);
}

}  // namespace

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

    const int reserve = p.label.empty() ? 0 : static_cast<int>(std::min(columns(p.label), kLabelReserve) + 2);
    double fraction = fraction_of(p);
    int bar = width - static_cast<int>(text.size()) - 4 - reserve;
    if (fraction >= 0 && bar >= 10) {
        fraction = std::min(fraction, 1.0);
        bar = std::min(bar, 40);
        int filled = static_cast<int>(fraction * bar);
        text = "[" + std::string(static_cast<size_t>(filled), '#') +
               std::string(static_cast<size_t>(bar - filled), '.') + "]  " + text;
    }
    if (static_cast<int>(text.size()) > width && width > 0) text.resize(static_cast<size_t>(width));
    const int room = width - static_cast<int>(text.size()) - 2;
    if (!p.label.empty() && room >= static_cast<int>(kLabelMinimum))
        text += "  " + fit_label(p.label, static_cast<std::size_t>(room));
    return text;
}

ProgressSnapshot SteadyProgress::next(ProgressSnapshot p) {
    steady_total(p.messages_done, p.messages_total, m_messages);
    steady_total(p.bytes_done, p.bytes_total, m_bytes);
    double fraction = fraction_of(p);
    if (fraction >= 0) {
        m_fraction = std::max(m_fraction, std::min(fraction, 1.0));
        p.fraction = m_fraction;
    }
    return p;
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
    SteadyProgress steady;
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, kRedrawInterval, [this] { return m_stopping; })) {
        ProgressSnapshot s{m_progress.messages_done.load(), m_progress.messages_total.load(),
                           m_progress.bytes_done.load(), 0, m_progress.current()};
        // A byte total is shown only once every mailbox has been counted.
        if (m_progress.mailboxes_uncounted.load() == 0) s.bytes_total = m_progress.bytes_total.load();
        s = steady.next(std::move(s));
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Leave the last columns free: writing there makes some terminals
        // wrap, and so does the "^C" the terminal echoes on Ctrl-C, which
        // stop() could then not wipe.
        m_out << "\r" << format_progress(s, elapsed, m_width - kFreeColumns) << "\x1b[K" << std::flush;
    }
}

}  // namespace imapkeep::cli
