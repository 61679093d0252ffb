#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/file_system.hpp>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

TEST_CASE("posix file system", "[store][fs]") {
    TempDir dir;
    auto fs = posix_file_system();
    CHECK(fs->make_dir(dir / "a"));
    CHECK_FALSE(fs->make_dir(dir / "a"));
    make_dirs(*fs, dir / "b/c/d");
    CHECK(fs->is_dir(dir / "b/c/d"));
    CHECK_NOTHROW(fs->fsync_dir(dir / "b/c"));
    CHECK_THROWS_AS(fs->fsync_dir(dir / "nope"), StoreError);

    std::ofstream(dir / "a/f") << "data";
    CHECK_THROWS_AS(fs->make_dir(dir / "a/f"), StoreError);  // a file is in the way
    CHECK(fs->fsync_file(dir / "a/f"));
    CHECK_FALSE(fs->fsync_file(dir / "a/missing"));

    auto names = fs->list_dir(dir.path());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"a", "b"});
    CHECK(fs->list_dir(dir / "missing").empty());

    CHECK(fs->rename(dir / "a/f", dir / "a/g"));
    CHECK_FALSE(fs->rename(dir / "a/f", dir / "a/h"));
    CHECK(fs->exists(dir / "a/g"));
    CHECK_THROWS_AS(fs->rename(dir / "a/g", dir / "nodir/g"), StoreError);
    CHECK(fs->unlink(dir / "a/g"));
    CHECK_FALSE(fs->unlink(dir / "a/g"));
    CHECK_FALSE(fs->exists(dir / "a/g"));

    const int fd = fs->create_exclusive(dir / "a/new");
    REQUIRE(fd >= 0);
    CHECK(fs->create_exclusive(dir / "a/new") == -1);
    fs->write(fd, "hello", dir / "a/new");
    fs->set_mtime(fd, 1000, dir / "a/new");
    fs->fsync(fd, dir / "a/new");
    fs->close(fd, dir / "a/new");
    fs->touch(dir / "a/marker");
    fs->touch(dir / "a/marker");
    CHECK(fs->exists(dir / "a/marker"));
    fs->make_dir(dir / "empty");
    fs->remove_dir(dir / "empty");
    CHECK_FALSE(fs->exists(dir / "empty"));
    CHECK_THROWS_AS(fs->remove_dir(dir / "a"), StoreError);  // not empty
}
