// SHA-256 via OpenSSL EVP, incremental so message bodies hash as they stream.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace imapkeep::util {
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::string_view data);
    std::string hex_digest();  // finishes; lower-case hex
private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};
std::string sha256_hex(std::string_view data);
// Hash of a whole file, read in 64 KiB chunks; throws std::runtime_error if
// it cannot be read.
std::string sha256_file_hex(const std::string& path);
struct FileDigest {
    std::string sha256;  // lower-case hex
    std::uint64_t size = 0;
};
// The same with the number of bytes hashed.
FileDigest sha256_file(const std::string& path);
}  // namespace imapkeep::util
