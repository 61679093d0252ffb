#include "cli/progress.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <thread>

using namespace imapkeep::cli;

TEST_CASE("progress line: counts, bytes, rate, ETA, bar", "[progress]") {
    struct Case {
        ProgressSnapshot p;
        double elapsed;
        int width;
        const char* expected;
    };
    const Case cases[] = {
        // Totals unknown: no bar, no ETA.
        {{0, 0, 0, 0}, 1, 80, "0 msgs  0 B  0 B/s"},
        {{5, 0, 2048, 0}, 2, 80, "5 msgs  2.0 KB  1.0 KB/s"},
        // Half the bytes in 10 s: 10 s to go; bar 40 wide at most.
        {{10, 40, 1024 * 1024, 2 * 1024 * 1024}, 10, 120,
         "[####################....................]  10/40 msgs  1.0 MB/2.0 MB  102.4 KB/s  ETA 0:10"},
        // Narrow terminal: the bar shrinks to what fits.
        {{10, 40, 1024 * 1024, 2 * 1024 * 1024}, 10, 72,
         "[##########...........]  10/40 msgs  1.0 MB/2.0 MB  102.4 KB/s  ETA 0:10"},
        // Too narrow for a bar: text only, cut to the width.
        {{10, 40, 1024 * 1024, 2 * 1024 * 1024}, 10, 20, "10/40 msgs  1.0 MB/2"},
        // Messages known, bytes not: the bar follows messages.
        {{1, 4, 100, 0}, 1, 60, "[########........................]  1/4 msgs  100 B  100 B/s"},
        {{4, 4, 100, 100}, 1, 40, "4/4 msgs  100 B/100 B  100 B/s  ETA 0:00"},
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
