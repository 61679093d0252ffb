#include "cli/progress.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <thread>

using namespace imapkeep::cli;

namespace {

ProgressSnapshot snap(std::uint64_t done, std::uint64_t total, std::uint64_t bytes_done, std::uint64_t bytes_total,
                      std::string label = "") {
    ProgressSnapshot p;
    p.messages_done = done;
    p.messages_total = total;
    p.bytes_done = bytes_done;
    p.bytes_total = bytes_total;
    p.label = std::move(label);
    return p;
}

}  // namespace

TEST_CASE("progress line: counts, bytes, rate, ETA, bar", "[progress]") {
    struct Case {
        ProgressSnapshot p;
        double elapsed;
        int width;
        const char* expected;
    };
    const Case cases[] = {
        // Totals unknown: no bar, no ETA.
        {snap(0, 0, 0, 0), 1, 80, "0 msgs  0 B  0 B/s"},
        {snap(5, 0, 2048, 0), 2, 80, "5 msgs  2.0 KB  1.0 KB/s"},
        // Half the bytes in 10 s: 10 s to go; bar 40 wide at most.
        {snap(10, 40, 1024 * 1024, 2 * 1024 * 1024), 10, 120,
         "[####################....................]  10/40 msgs  1.0 MB/2.0 MB  102.4 KB/s  ETA 0:10"},
        // Narrow terminal: the bar shrinks to what fits.
        {snap(10, 40, 1024 * 1024, 2 * 1024 * 1024), 10, 72,
         "[##########...........]  10/40 msgs  1.0 MB/2.0 MB  102.4 KB/s  ETA 0:10"},
        // Too narrow for a bar: text only, cut to the width.
        {snap(10, 40, 1024 * 1024, 2 * 1024 * 1024), 10, 20, "10/40 msgs  1.0 MB/2"},
        // Messages known, bytes not: the bar follows messages.
        {snap(1, 4, 100, 0), 1, 60, "[########........................]  1/4 msgs  100 B  100 B/s"},
        {snap(4, 4, 100, 100), 1, 40, "4/4 msgs  100 B/100 B  100 B/s  ETA 0:00"},
    };
    for (const auto& c : cases) {
        std::string line = format_progress(c.p, c.elapsed, c.width);
        INFO(line);
        CHECK(line == c.expected);
        CHECK(static_cast<int>(line.size()) <= c.width);
    }
}

TEST_CASE("ETA formatting", "[progress]") {
    CHECK(format_eta(0) == "0:00");
    CHECK(format_eta(9.4) == "0:09");
    CHECK(format_eta(754) == "12:34");
    CHECK(format_eta(3723) == "1:02:03");
}

TEST_CASE("the bar redraws from its thread and clears the line when stopped", "[progress]") {
    imapkeep::sync::Progress progress;
    progress.messages_total = 2;
    progress.messages_done = 1;
    std::ostringstream out;
    {
        ProgressBar bar(progress, out, 80);
        std::this_thread::sleep_for(std::chrono::milliseconds(450));
        bar.stop();
    }
    std::string text = out.str();
    CHECK(text.find("\r[") != std::string::npos);
    CHECK(text.find("1/2 msgs") != std::string::npos);
    CHECK(text.size() >= 6);
    CHECK(text.substr(text.size() - 4) == "\r\x1b[K");  // cleared last
}

TEST_CASE("progress line: the current account and mailbox, fitted to the width", "[progress]") {
    struct Case {
        ProgressSnapshot p;
        int width;
        const char* expected;
    };
    const Case cases[] = {
        {snap(3, 0, 100, 0, "work/INBOX"), 80, "3 msgs  100 B  100 B/s  work/INBOX"},
        {snap(1, 4, 100, 0, "work/INBOX"), 72, "[########........................]  1/4 msgs  100 B  100 B/s  work/INBOX"},
        // A long name is cut, keeping its end (the deepest folder), with "…".
        {snap(3, 0, 100, 0, "work/Archive/2023/Projects/Kitchen"), 40, "3 msgs  100 B  100 B/s  …rojects/Kitchen"},
        // Control bytes from the server cannot reach the terminal.
        {snap(3, 0, 100, 0, "work/\x1b[2Jx\ty"), 80, "3 msgs  100 B  100 B/s  work/\\x1B[2Jx y"},
        // UTF-8 counts as one column per character, and is cut between characters.
        {snap(3, 0, 100, 0, "work/Entwürfe"), 80, "3 msgs  100 B  100 B/s  work/Entwürfe"},
        {snap(3, 0, 100, 0, "work/ÄÄÄÄÄÄÄÄÄÄ"), 30, "3 msgs  100 B  100 B/s  …ÄÄÄÄÄ"},
        // No room for any of it: left out.
        {snap(3, 0, 100, 0, "work/INBOX"), 24, "3 msgs  100 B  100 B/s"},
    };
    for (const auto& c : cases) {
        std::string line = format_progress(c.p, 1, c.width);
        INFO(line);
        CHECK(line == c.expected);
    }
}

TEST_CASE("the bar never moves backwards when a total is corrected", "[progress]") {
    // A scripted run: estimates from LIST-STATUS, then real counts that are
    // larger (new mail arrived) or smaller (expunged), bytes known late.
    struct Step {
        std::uint64_t done, total, bytes_done, bytes_total;
    };
    const Step steps[] = {
        {0, 100, 0, 0},   {20, 100, 2000, 0},  {40, 100, 4000, 0},
        {40, 300, 4000, 0},  // a mailbox had far more than estimated
        {60, 300, 6000, 0},  {60, 250, 6000, 0},  {120, 250, 12000, 30000},
        {130, 120, 13000, 30000},  // the total fell below done
        {240, 250, 29000, 30000}, {250, 250, 30000, 30000},
    };
    SteadyProgress steady;
    double last_fraction = 0, last_ratio = 0;
    for (const auto& s : steps) {
        ProgressSnapshot raw = snap(s.done, s.total, s.bytes_done, s.bytes_total, "a/INBOX");
        ProgressSnapshot shown = steady.next(raw);
        INFO(s.done << "/" << s.total << " shown " << shown.messages_done << "/" << shown.messages_total
                    << " fraction " << shown.fraction);
        CHECK(shown.messages_done == s.done);
        CHECK(shown.messages_total >= shown.messages_done);
        double ratio = static_cast<double>(shown.messages_done) / static_cast<double>(shown.messages_total);
        CHECK(ratio >= last_ratio - 1e-12);
        CHECK(shown.fraction >= last_fraction);
        CHECK(shown.fraction <= 1.0);
        last_ratio = ratio;
        last_fraction = shown.fraction;
    }
    CHECK(last_fraction == 1.0);
}
