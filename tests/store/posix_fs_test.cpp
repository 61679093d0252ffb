#include "store/posix_fs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/store/catalog.hpp>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

TEST_CASE("posix_fs helpers", "[store][fs]") {
    TempDir dir;
    CHECK(make_dir(dir / "a"));
    CHECK_FALSE(make_dir(dir / "a"));
    make_dirs(dir / "b/c/d");
    CHECK(is_dir(dir / "b/c/d"));
    CHECK_NOTHROW(fsync_dir(dir / "b/c"));
    CHECK_THROWS_AS(fsync_dir(dir / "nope"), StoreError);

    std::ofstream(dir / "a/f") << "data";
    CHECK_THROWS_AS(make_dir(dir / "a/f"), StoreError);  // a file is in the way
    CHECK(fsync_file(dir / "a/f"));
    CHECK_FALSE(fsync_file(dir / "a/missing"));

    auto names = list_dir(dir.path());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"a", "b"});
    CHECK(list_dir(dir / "missing").empty());

    CHECK(rename_path(dir / "a/f", dir / "a/g"));
    CHECK_FALSE(rename_path(dir / "a/f", dir / "a/h"));
    CHECK(exists(dir / "a/g"));
    CHECK_THROWS_AS(rename_path(dir / "a/g", dir / "nodir/g"), StoreError);
    CHECK(unlink_path(dir / "a/g"));
    CHECK_FALSE(unlink_path(dir / "a/g"));
    CHECK_FALSE(exists(dir / "a/g"));
}
