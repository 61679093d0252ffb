#include <imapkeep/util/sha256.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

using imapkeep::util::Sha256;
using imapkeep::util::sha256_file_hex;
using imapkeep::util::sha256_hex;

namespace {
// FIPS 180-2 / NIST CSHS example vectors.
const std::vector<std::pair<std::string, std::string>> kVectors = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};
}  // namespace

TEST_CASE("sha256_hex known vectors", "[util][sha256]") {
    for (const auto& [input, digest] : kVectors) {
        INFO(input.size() << " bytes");
        CHECK(sha256_hex(input) == digest);
    }
}

TEST_CASE("Sha256 incremental equals one-shot for any split", "[util][sha256]") {
    for (const auto& [input, digest] : kVectors) {
        for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096}}) {
            if (input.size() > 100000 && chunk < 64) continue;
            Sha256 h;
            for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
                h.update(std::string_view(input).substr(pos, chunk));
            }
            CHECK(h.hex_digest() == digest);
            CHECK(h.hex_digest() == digest);  // repeatable
            CHECK_THROWS_AS(h.update("x"), std::logic_error);
        }
    }
}

TEST_CASE("sha256_file_hex", "[util][sha256]") {
    char dir_template[] = "/tmp/imapkeep-sha-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    std::string path = std::string(dir_template) + "/f";
    std::string content = kVectors[2].first;
    for (int i = 0; i < 3000; ++i) content += static_cast<char>(i);  // > one read chunk
    FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    CHECK(sha256_file_hex(path) == sha256_hex(content));
    CHECK_THROWS_AS(sha256_file_hex(path + ".missing"), std::runtime_error);
    ::unlink(path.c_str());
    ::rmdir(dir_template);
}
