// For the tests against the test Ceph RGW (scripts/test-env/ceph.sh, started by
// up.sh): its settings from the environment, a key prefix of each test's own,
// and a seekable source of pseudo-random bytes that is never held in memory.
#pragma once

#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/util/sha256.hpp>
#include <string>

#include "test_env.hpp"

namespace imapkeep::testing {

inline bool have_rgw_env() {
    return test_env_has({"IMAPKEEP_TEST_S3_ENDPOINT", "IMAPKEEP_TEST_S3_ACCESS_KEY",
                         "IMAPKEEP_TEST_S3_SECRET_KEY", "IMAPKEEP_TEST_S3_BUCKET"},
                        "the test Ceph RGW");
}

inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

inline s3::S3Config rgw_config() {
    s3::S3Config config;
    config.endpoint = env("IMAPKEEP_TEST_S3_ENDPOINT");
    config.credentials = {env("IMAPKEEP_TEST_S3_ACCESS_KEY"), env("IMAPKEEP_TEST_S3_SECRET_KEY")};
    config.stall_timeout = std::chrono::seconds(20);
    return config;
}

inline std::string rgw_bucket() { return env("IMAPKEEP_TEST_S3_BUCKET"); }

// The port of IMAPKEEP_TEST_S3_ENDPOINT ("http://127.0.0.1:PORT").
inline int rgw_port() {
    const std::string endpoint = env("IMAPKEEP_TEST_S3_ENDPOINT");
    return std::atoi(endpoint.substr(endpoint.rfind(':') + 1).c_str());
}

// Keys no other test, run or process uses: "test/<pid>-<n>-<time>/<name>/".
inline std::string unique_prefix(const std::string& name) {
    static std::atomic<int> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return "test/" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(now) + "/" + name + "/";
}

// splitmix64 of the 8-byte block index: any offset can be read without the rest.
class GeneratedSource : public s3::ByteSource {
  public:
    GeneratedSource(std::uint64_t size, std::uint64_t seed) : m_size(size), m_seed(seed) {}
    std::uint64_t size() const override { return m_size; }
    std::size_t read(char* out, std::size_t max) override {
        std::size_t n = 0;
        for (; n < max && m_position < m_size; ++n, ++m_position) out[n] = byte_at(m_position);
        return n;
    }
    void seek(std::uint64_t offset) override { m_position = offset; }
    char byte_at(std::uint64_t offset) const {
        std::uint64_t z = m_seed + (offset / 8 + 1) * 0x9E3779B97F4A7C15ULL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return static_cast<char>(z >> (8 * (offset % 8)));
    }
    std::string sha256() {
        util::Sha256 hash;
        char piece[65536];
        seek(0);
        for (std::size_t n; (n = read(piece, sizeof piece)) > 0;) hash.update({piece, n});
        return hash.hex_digest();
    }

  private:
    std::uint64_t m_size;
    std::uint64_t m_seed;
    std::uint64_t m_position = 0;
};

// S3's ETag of a single PUT is the body's MD5.
inline std::string md5_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0x0f];
    }
    return out;
}

}  // namespace imapkeep::testing
