#include <imapkeep/util/files.hpp>
#include <imapkeep/util/sha256.hpp>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace imapkeep::util {
namespace {
std::string to_hex(const unsigned char* data, std::size_t len) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(len * 2, '\0');
    for (std::size_t i = 0; i < len; ++i) {
        out[2 * i] = kHex[data[i] >> 4];
        out[2 * i + 1] = kHex[data[i] & 0x0f];
    }
    return out;
}
}  // namespace

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
    std::string digest;  // set once finished
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
    m_impl->ctx = EVP_MD_CTX_new();
    if (m_impl->ctx == nullptr || EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256: cannot initialise digest");
    }
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
    if (!m_impl->digest.empty()) throw std::logic_error("SHA-256: update after hex_digest");
    if (EVP_DigestUpdate(m_impl->ctx, data.data(), data.size()) != 1) {
        throw std::runtime_error("SHA-256: update failed");
    }
}

std::string Sha256::hex_digest() {
    if (m_impl->digest.empty()) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(m_impl->ctx, md, &len) != 1) throw std::runtime_error("SHA-256: final failed");
        m_impl->digest = to_hex(md, len);
    }
    return m_impl->digest;
}

std::string sha256_hex(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.hex_digest();
}

std::string sha256_file_hex(const std::string& path) { return sha256_file(path).sha256; }

FileDigest sha256_file(const std::string& path) {
    Sha256 h;
    std::uint64_t size = 0;
    for_each_chunk(path, 1 << 16, [&](std::string_view piece) {
        h.update(piece);
        size += piece.size();
    });
    return {h.hex_digest(), size};
}

}  // namespace imapkeep::util
