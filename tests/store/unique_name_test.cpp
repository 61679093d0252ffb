// Issue 10, "unique names without a syscall each": a Maildir unique name
// carries the pid, taken once per process (again in a forked child), not once
// per message.
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <imapkeep/store/message_store.hpp>
#include <string>

#include "store/maildir_names.hpp"
#include "support/getpid_counter.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::getpid_calls;
using imapkeep::test::TempDir;

namespace {

std::string real_pid() { return std::to_string(::syscall(SYS_getpid)); }

bool carries_pid(const std::string& name, const std::string& pid) {
    return name.find("." + pid + "_") != std::string::npos;
}

}  // namespace

TEST_CASE("unique names cost no getpid each", "[store][names][perf]") {
    CHECK(carries_pid(unique_name(1), real_pid()));
    const long before = getpid_calls();
    for (int i = 0; i < 1000; ++i) unique_name(1'700'000'000 + i);
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    for (int i = 0; i < 100; ++i) {
        auto pending = store->begin("acct", "");
        pending->write("x");
        pending->finish();
        store->sync_pending();
        store->commit(*pending, "acct", "", static_cast<std::uint32_t>(i + 1), 0, {});
    }
    CHECK(getpid_calls() - before <= 1);
}

TEST_CASE("a forked child's unique names carry its own pid", "[store][names][perf]") {
    REQUIRE(carries_pid(unique_name(1), real_pid()));  // the parent's pid is taken
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) _exit(carries_pid(unique_name(1), real_pid()) ? 0 : 1);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
