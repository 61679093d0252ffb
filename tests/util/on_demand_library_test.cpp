#include <zlib.h>

#include <catch2/catch.hpp>
#include <imapkeep/util/on_demand_library.hpp>
#include <string>

using imapkeep::util::LibraryMissing;
using imapkeep::util::OnDemandLibrary;

TEST_CASE("an on-demand library gives its functions (zlib: the version its header names)",
          "[util][dlopen]") {
    const OnDemandLibrary zlib({"libz-imapkeep-missing.so.9", "libz.so.1"}, "zlib1g",
                               "compression");
    const auto version = zlib.function<decltype(&::zlibVersion)>("zlibVersion");
    CHECK(std::string(version()) == ZLIB_VERSION);
}

TEST_CASE("a missing library or symbol names the package and the feature", "[util][dlopen]") {
    struct Case {
        const char* soname;
        const char* symbol;
        const char* expected;
    };
    const Case cases[] = {
        {"libimapkeep-missing.so.1", nullptr,
         "libimapkeep-missing.so.1 could not be loaded (install pkg-x, needed for feature y)"},
        {"libz.so.1", "imapkeep_no_such_function",
         "libz.so.1 has no imapkeep_no_such_function (install a pkg-x"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.soname);
        try {
            const OnDemandLibrary library({c.soname}, "pkg-x", "feature y");
            if (c.symbol) library.symbol(c.symbol);
            FAIL("no LibraryMissing");
        } catch (const LibraryMissing& e) {
            CHECK_THAT(e.what(), Catch::Contains(c.expected));
        }
    }
}
