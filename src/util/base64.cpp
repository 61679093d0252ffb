#include <imapkeep/util/base64.hpp>

#include <openssl/evp.h>

#include <vector>

namespace imapkeep::util {

std::string base64_encode(std::string_view data) {
    if (data.empty()) return {};
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    // EVP_EncodeBlock writes a trailing NUL beyond the returned length.
    std::vector<unsigned char> buf(out.size() + 1);
    int n = EVP_EncodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.assign(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
    return out;
}

namespace {
bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}
}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
    // EVP_DecodeBlock is lenient (skips surrounding whitespace, treats '=' in the
    // middle oddly), so the RFC 4648 §4 shape is checked here first: groups of
    // four alphabet characters, with at most two '=' at the very end.
    if (text.empty()) return std::string{};
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    if (text.back() == '=') ++padding;
    if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
    if (padding == 1 && text[text.size() - 2] == '=') return std::nullopt;
    for (std::size_t i = 0; i < text.size() - padding; ++i) {
        if (!is_base64_char(text[i])) return std::nullopt;
    }
    std::vector<unsigned char> buf(text.size() / 4 * 3 + 1);
    int n = EVP_DecodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    // DecodeBlock counts the bytes a full last group would carry; '=' stands
    // for bytes that are not there.
    std::size_t len = static_cast<std::size_t>(n) - padding;
    return std::string(reinterpret_cast<const char*>(buf.data()), len);
}

}  // namespace imapkeep::util
