#include <imapkeep/util/fingerprint.hpp>

#include <cctype>

namespace imapkeep::util {

std::optional<std::string> normalize_fingerprint(std::string_view text) {
    if (text.size() > 7 && (text.substr(0, 7) == "sha256:" || text.substr(0, 7) == "SHA256:")) text.remove_prefix(7);
    std::string hex;
    for (char c : text) {
        if (c == ':') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (hex.size() != 64) return std::nullopt;
    return hex;
}

}  // namespace imapkeep::util
