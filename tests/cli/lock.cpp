#include "cli/lock.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace imapkeep::cli;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "imapkeep-lock-XXXXXX").string();
        path = ::mkdtemp(templ.data());
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("a second lock on the same store is refused with the holder's pid", "[lock]") {
    TempDir dir;
    const std::string store = (dir.path / "store").string();
    {
        StoreLock first(store);
        struct stat st {};
        REQUIRE(::stat(store.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);  // created private

        // flock is per open file description: a second open in this process conflicts.
        try {
            StoreLock second(store);
            FAIL("second lock was granted");
        } catch (const LockBusy& e) {
            CHECK(e.holder() == ::getpid());
            CHECK(std::string(e.what()) == "another imapkeep run holds the lock on " + store + " (pid " +
                                               std::to_string(::getpid()) + ")");
        }

        // Another process is refused too.
        pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            try {
                StoreLock other(store);
                ::_exit(0);
            } catch (const LockBusy& e) {
                ::_exit(e.holder() == ::getppid() ? 75 : 1);
            } catch (...) {
                ::_exit(2);
            }
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 75);
    }
    // Released with the object.
    CHECK_NOTHROW(StoreLock(store));
}

TEST_CASE("a lock held by a dead process is free again", "[lock]") {
    TempDir dir;
    const std::string store = dir.path.string();
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        StoreLock held(store);
        ::_exit(0);  // no destructor runs: only process death releases it
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    StoreLock mine(store);
    std::ifstream pid_file(dir.path / ".lock");
    pid_t recorded = 0;
    pid_file >> recorded;
    CHECK(recorded == ::getpid());
}
