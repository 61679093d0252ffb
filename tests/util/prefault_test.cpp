// util::prefault_for_write: the pages are there afterwards, without a fault
// each, and what the buffer held is unchanged.
#include <sys/mman.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <imapkeep/util/prefault.hpp>
#include <memory>
#include <string>

using imapkeep::util::kPrefaultMinBytes;
using imapkeep::util::prefault_for_write;

namespace {

long minor_faults() {
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_minflt;
}

// Minor faults while a fresh buffer of `size` bytes is written whole,
// populated first or not.
long faults_writing(std::size_t size, bool populate) {
    // Fresh pages of 4 KiB each, whatever the kernel's huge page policy.
    void* mapped =
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mapped != MAP_FAILED);
    std::unique_ptr<void, std::function<void(void*)>> unmap(mapped,
                                                            [size](void* p) { ::munmap(p, size); });
    ::madvise(mapped, size, MADV_NOHUGEPAGE);
    char* buffer = static_cast<char*>(mapped);
    if (populate) REQUIRE(prefault_for_write(buffer, size) == size);
    const long before = minor_faults();
    std::memset(buffer, 'x', size);
    return minor_faults() - before;
}

}  // namespace

TEST_CASE("prefault_for_write populates a fresh buffer's pages in one call", "[util][prefault]") {
    constexpr std::size_t kSize = 16 * 1024 * 1024;
    const long plain = faults_writing(kSize, false);
    const long populated = faults_writing(kSize, true);
    INFO("faults writing 16 MiB: " << plain << " without, " << populated
                                   << " after prefault_for_write");
    CHECK(plain >= 4000);  // one per page
    CHECK(populated * 4 < plain);
}

TEST_CASE("prefault_for_write keeps what the buffer holds", "[util][prefault]") {
    std::string text(kPrefaultMinBytes * 2, '\0');
    for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
    const std::string copy = text;
    CHECK(prefault_for_write(text.data(), text.size()) > 0);
    CHECK(text == copy);
}

TEST_CASE("prefault_for_write leaves small or empty buffers alone", "[util][prefault]") {
    struct Case {
        const char* what;
        std::size_t size;
    };
    std::string buffer(kPrefaultMinBytes, 'y');
    for (const Case& c : {Case{"empty", 0}, Case{"one byte", 1},
                          Case{"just under the minimum", kPrefaultMinBytes - 1}}) {
        INFO(c.what);
        CHECK(prefault_for_write(buffer.data(), c.size) == 0);
    }
    CHECK(prefault_for_write(nullptr, kPrefaultMinBytes * 4) == 0);
    CHECK(buffer == std::string(kPrefaultMinBytes, 'y'));
}
