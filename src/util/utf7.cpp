// Modified UTF-7 (RFC 3501 §5.1.3):
//   - printable US-ASCII except "&" (0x20-0x25, 0x27-0x7e) represents itself;
//   - "&" is written "&-";
//   - everything else is UTF-16 in modified base64 (RFC 2045 alphabet with ","
//     instead of "/", no "=" padding) between "&" and "-".
#include <imapkeep/util/utf7.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace imapkeep::util {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int alphabet_index(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

bool is_printable_ascii(std::uint32_t c) { return c >= 0x20 && c <= 0x7e; }

// Decodes one UTF-8 sequence at `pos`; rejects overlong forms, surrogates and
// values above U+10FFFF (RFC 3629 §3).
std::uint32_t next_code_point(std::string_view s, std::size_t& pos) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char b0 = byte(pos);
    std::size_t len;
    std::uint32_t cp;
    std::uint32_t min;
    if (b0 < 0x80) {
        ++pos;
        return b0;
    } else if ((b0 & 0xe0) == 0xc0) {
        len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        throw std::invalid_argument("utf7_encode: invalid UTF-8 lead byte");
    }
    if (pos + len > s.size()) throw std::invalid_argument("utf7_encode: truncated UTF-8 sequence");
    for (std::size_t i = 1; i < len; ++i) {
        unsigned char b = byte(pos + i);
        if ((b & 0xc0) != 0x80) throw std::invalid_argument("utf7_encode: invalid UTF-8 continuation");
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        throw std::invalid_argument("utf7_encode: invalid UTF-8 code point");
    }
    pos += len;
    return cp;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

void flush_shift(std::string& out, std::vector<std::uint16_t>& units) {
    if (units.empty()) return;
    out += '&';
    std::uint32_t bits = 0;
    int nbits = 0;
    for (std::uint16_t u : units) {
        bits = (bits << 16) | u;
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            out += kAlphabet[(bits >> nbits) & 0x3f];
        }
        bits &= (1u << nbits) - 1;
    }
    if (nbits > 0) out += kAlphabet[(bits << (6 - nbits)) & 0x3f];
    out += '-';
    units.clear();
}

// Decodes the base64 between "&" and "-" into UTF-8, appending to `out`.
bool decode_shift(std::string_view b64, std::string& out) {
    std::vector<std::uint16_t> units;
    std::uint32_t bits = 0;
    int nbits = 0;
    for (char c : b64) {
        int v = alphabet_index(c);
        if (v < 0) return false;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        nbits += 6;
        if (nbits >= 16) {
            nbits -= 16;
            units.push_back(static_cast<std::uint16_t>(bits >> nbits));
            bits &= (1u << nbits) - 1;
        }
    }
    // A canonical encoder emits only the characters needed for whole UTF-16
    // units, so fewer than 6 bits may be left over, and they must be zero.
    if (nbits >= 6 || bits != 0 || units.empty()) return false;
    for (std::size_t i = 0; i < units.size(); ++i) {
        std::uint32_t u = units[i];
        std::uint32_t cp;
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 1 >= units.size()) return false;
            std::uint32_t low = units[++i];
            if (low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return false;
        } else {
            cp = u;
        }
        // Printable ASCII must represent itself; NUL has no place in a name.
        if (is_printable_ascii(cp) || cp == 0) return false;
        append_utf8(out, cp);
    }
    return true;
}

}  // namespace

std::string utf7_encode(std::string_view utf8) {
    std::string out;
    std::vector<std::uint16_t> units;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        std::uint32_t cp = next_code_point(utf8, pos);
        if (is_printable_ascii(cp)) {
            flush_shift(out, units);
            out += static_cast<char>(cp);
            if (cp == '&') out += '-';
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
            units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            units.push_back(static_cast<std::uint16_t>(cp));
        }
    }
    flush_shift(out, units);
    return out;
}

std::optional<std::string> utf7_decode(std::string_view mutf7) {
    std::string out;
    std::size_t pos = 0;
    while (pos < mutf7.size()) {
        char c = mutf7[pos];
        if (!is_printable_ascii(static_cast<unsigned char>(c))) return std::nullopt;
        if (c != '&') {
            out += c;
            ++pos;
            continue;
        }
        std::size_t end = mutf7.find('-', pos + 1);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == pos + 1) {
            out += '&';
        } else {
            if (!decode_shift(mutf7.substr(pos + 1, end - pos - 1), out)) return std::nullopt;
            // Two shift runs back to back ("&AAA-&AAA-") decode like one: accept
            // only the canonical single run, or two wire names would become the
            // same mailbox.
            if (end + 2 < mutf7.size() && mutf7[end + 1] == '&' && mutf7[end + 2] != '-')
                return std::nullopt;
        }
        pos = end + 1;
    }
    return out;
}

}  // namespace imapkeep::util
