#include <imapkeep/util/md5.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>

namespace imapkeep::util {

std::string hmac_md5_hex(std::string_view key, std::string_view data) {
    // Fetching MD5 explicitly (rather than EVP_md5()) makes a FIPS-only
    // provider fail here with a clear message instead of deep in HMAC.
    std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, "MD5", nullptr), &EVP_MD_free);
    if (!md) throw std::runtime_error("HMAC-MD5: MD5 is not available from the OpenSSL providers");
    std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                          &EVP_MAC_free);
    if (!mac) throw std::runtime_error("HMAC-MD5: HMAC is not available from the OpenSSL providers");
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()),
                                                                  &EVP_MAC_CTX_free);
    char digest_name[] = "MD5";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    // A null key means "keep the previous key" to EVP_MAC_init, so an empty key
    // still needs a valid pointer.
    static const unsigned char kEmpty[1] = {0};
    const unsigned char* key_bytes =
        key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t out_len = 0;
    if (!ctx || EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out, &out_len, sizeof out) != 1) {
        throw std::runtime_error("HMAC-MD5: computation failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(out_len * 2);
    for (std::size_t i = 0; i < out_len; ++i) {
        hex += kHex[out[i] >> 4];
        hex += kHex[out[i] & 0x0f];
    }
    return hex;
}

}  // namespace imapkeep::util
