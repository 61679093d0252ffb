#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <imapkeep/s3/byte_source.hpp>
#include <stdexcept>
#include <string>
#include <system_error>

using namespace imapkeep::s3;

namespace {

std::string read_all(ByteSource& source, std::size_t piece) {
    std::string out, buffer(piece, '\0');
    for (std::size_t n; (n = source.read(buffer.data(), buffer.size())) > 0;)
        out.append(buffer, 0, n);
    return out;
}

struct TempFile {
    std::string path;
    explicit TempFile(const std::string& content) {
        char name[] = "/tmp/imapkeep-s3-source.XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path, std::ios::binary) << content;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("MemorySource and FileSource read from any offset", "[s3][source]") {
    const std::string bytes = std::string("abc\0def\r\n", 9) + std::string(70000, 'x');
    TempFile file(bytes);
    MemorySource memory(bytes);
    FileSource on_disk(file.path);
    for (ByteSource* source :
         {static_cast<ByteSource*>(&memory), static_cast<ByteSource*>(&on_disk)}) {
        CHECK(source->size() == bytes.size());
        for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{65536}}) {
            source->seek(0);
            CHECK(read_all(*source, piece) == bytes);
        }
        source->seek(4);
        CHECK(read_all(*source, 3).substr(0, 5) == "def\r\n");
        source->seek(bytes.size());
        char c;
        CHECK(source->read(&c, 1) == 0);
        CHECK_THROWS_AS(source->seek(bytes.size() + 1), std::out_of_range);
    }
}

TEST_CASE("FileSource: a missing file, and a file that shrinks while read", "[s3][source]") {
    CHECK_THROWS_AS(FileSource("/nonexistent/imapkeep-s3"), std::system_error);
    TempFile file(std::string(1000, 'y'));
    FileSource source(file.path);
    REQUIRE(::truncate(file.path.c_str(), 10) == 0);
    char buffer[100];
    CHECK(source.read(buffer, sizeof buffer) == 10);
    // The size promised to the server cannot be kept: an error, never a short body.
    CHECK_THROWS_AS(source.read(buffer, sizeof buffer), std::runtime_error);
}
