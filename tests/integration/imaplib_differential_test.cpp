// Differential test: the same command sequence through python3's imaplib
// (tests/integration/differential/imaplib_sequence.py) and through this
// library (imaplib_differential_driver) against the same Dovecot. Every
// (type, data), raised exception kind, state, capability list and
// untagged_responses snapshot must be equal once the values that legitimately
// differ between two sessions are normalised: Dovecot's timing text
// "(0.001 + 0.000 secs)" and UIDVALIDITY-sized numbers (a new mailbox per run).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>
#include <unistd.h>
#include "test_env.hpp"

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::vector<std::string> run(const std::string& command) {
    std::vector<std::string> lines;
    FILE* p = ::popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string line;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) {
        line += buf;
        if (!line.empty() && line.back() == '\n') {
            line.pop_back();
            lines.push_back(line);
            line.clear();
        }
    }
    if (!line.empty()) lines.push_back(line);
    int status = ::pclose(p);
    INFO(command);
    CHECK(status == 0);
    return lines;
}

nlohmann::json normalise(const std::string& line) {
    static const std::regex kSecs(R"(\((\d+\.\d+ \+ )+\d+\.\d+ secs\))");
    static const std::regex kBig(R"(\b\d{9,}\b)");
    std::string s = std::regex_replace(line, kSecs, "(<secs>)");
    s = std::regex_replace(s, kBig, "<N>");
    return nlohmann::json::parse(s);
}

}  // namespace

TEST_CASE("imaplib: same results as CPython's imaplib against Dovecot", "[integration][imaplib][differential]") {
    if (!imapkeep::testing::have_dovecot_env()) return;
    // python3 is a dependency of the test command (scripts/deps.sh).
    REQUIRE(std::system("python3 -c 'import imaplib' >/dev/null 2>&1") == 0);
    std::random_device rd;
    const std::string box = "imaplib-diff-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
    // user2 logs in (user1 is busier with other tests); user1 is the ACL target.
    const std::string args = env("IMAPKEEP_TEST_HOST") + " " + env("IMAPKEEP_TEST_IMAP_PORT") + " " +
                             env("IMAPKEEP_TEST_USER2") + " " + env("IMAPKEEP_TEST_PASSWORD2") + " " +
                             env("IMAPKEEP_TEST_USER") + " " + box;
    auto python = run("python3 " IMAPKEEP_SOURCE_DIR "/tests/integration/differential/imaplib_sequence.py " + args);
    auto cpp = run(IMAPKEEP_BINARY_DIR "/tests/imaplib_differential_driver " + args);

    REQUIRE(python.size() > 80);  // the whole sequence ran
    CHECK(cpp.size() == python.size());
    for (std::size_t i = 0; i < std::min(python.size(), cpp.size()); ++i) {
        auto want = normalise(python[i]);
        auto got = normalise(cpp[i]);
        INFO("python: " << python[i]);
        INFO("c++:    " << cpp[i]);
        CHECK(got == want);
    }
}
