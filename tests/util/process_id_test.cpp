// The pid in temp names is taken once per process (again in a forked child),
// not by a getpid syscall per file.
#include <imapkeep/util/files.hpp>
#include <imapkeep/util/process_id.hpp>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/getpid_counter.hpp"

using imapkeep::test::getpid_calls;

TEST_CASE("write_file_atomic takes the pid once per process", "[util][perf]") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "imapkeep-pid.XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    imapkeep::util::write_file_atomic(tmpl + "/f", "0");
    const long before = getpid_calls();
    for (int i = 0; i < 50; ++i) imapkeep::util::write_file_atomic(tmpl + "/f", std::to_string(i));
    CHECK(getpid_calls() - before == 0);
    std::filesystem::remove_all(tmpl);
}

TEST_CASE("process_id is the caller's pid, in a forked child too", "[util][perf]") {
    REQUIRE(imapkeep::util::process_id() == ::syscall(SYS_getpid));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) _exit(imapkeep::util::process_id() == ::syscall(SYS_getpid) ? 0 : 1);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
