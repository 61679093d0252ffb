#include <imapkeep/util/files.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

using imapkeep::util::fsync_parent_dir;
using imapkeep::util::fsync_path;
using imapkeep::util::read_file;
using imapkeep::util::write_file_atomic;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/imapkeep-files-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        DIR* d = ::opendir(path.c_str());
        while (dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(d);
        return names;
    }
};

int errno_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}
}  // namespace

TEST_CASE("write_file_atomic writes, replaces and leaves no temp file", "[util][files]") {
    TempDir dir;
    std::string path = dir.path + "/msg";
    const std::vector<std::string> contents = {
        "first", "", std::string("bin\0ary\r\n", 9), std::string(200000, 'x'), "last"};
    for (const auto& content : contents) {
        write_file_atomic(path, content);
        CHECK(read_file(path) == content);
        CHECK(dir.entries() == std::vector<std::string>{"msg"});
    }
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("file helpers report errors as std::system_error with errno", "[util][files]") {
    TempDir dir;
    CHECK(errno_of([&] { read_file(dir.path + "/missing"); }) == ENOENT);
    CHECK(errno_of([&] { write_file_atomic(dir.path + "/no/such/dir/f", "x"); }) == ENOENT);
    CHECK(errno_of([&] { fsync_path(dir.path + "/missing"); }) == ENOENT);
    CHECK(errno_of([&] { read_file(dir.path); }) == EISDIR);
    CHECK(dir.entries().empty());
}

TEST_CASE("fsync_path and fsync_parent_dir accept files and directories", "[util][files]") {
    TempDir dir;
    std::string path = dir.path + "/f";
    write_file_atomic(path, "data");
    CHECK_NOTHROW(fsync_path(path));
    CHECK_NOTHROW(fsync_path(dir.path));
    CHECK_NOTHROW(fsync_parent_dir(path));
    // A bare name refers to the current directory.
    CHECK_NOTHROW(fsync_parent_dir("relative-name"));
}
