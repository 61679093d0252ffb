#include "s3/xml.hpp"

#include <cstdint>

namespace imapkeep::s3::xml {

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// CharRef ::= '&#' [0-9]+ ';' | '&#x' [0-9a-fA-F]+ ';'   (XML 1.0 §4.1)
std::optional<std::uint32_t> char_ref(std::string_view body) {
    if (body.size() < 2 || body[0] != '#') return std::nullopt;
    const bool is_hex = body[1] == 'x';
    std::string_view digits = body.substr(is_hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return std::nullopt;
    std::uint32_t cp = 0;
    for (char c : digits) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (is_hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (is_hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) return std::nullopt;
        cp = cp * (is_hex ? 16 : 10) + static_cast<std::uint32_t>(d);
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    return cp;
}

std::optional<std::string> entity(std::string_view body) {
    if (body == "amp") return "&";
    if (body == "lt") return "<";
    if (body == "gt") return ">";
    if (body == "quot") return "\"";
    if (body == "apos") return "'";
    if (auto cp = char_ref(body)) {
        std::string out;
        append_utf8(out, *cp);
        return out;
    }
    return std::nullopt;
}

}  // namespace

std::vector<std::string_view> elements(std::string_view document, std::string_view name) {
    const std::string open = "<" + std::string(name) + ">";
    const std::string empty = "<" + std::string(name) + "/>";
    const std::string close = "</" + std::string(name) + ">";
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (true) {
        const std::size_t o = document.find(open, at);
        const std::size_t e = document.find(empty, at);
        if (e != std::string_view::npos && (o == std::string_view::npos || e < o)) {
            out.emplace_back();
            at = e + empty.size();
            continue;
        }
        if (o == std::string_view::npos) break;
        const std::size_t start = o + open.size();
        const std::size_t end = document.find(close, start);
        if (end == std::string_view::npos) break;
        out.push_back(document.substr(start, end - start));
        at = end + close.size();
    }
    return out;
}

std::optional<std::string> text(std::string_view document, std::string_view name) {
    auto found = elements(document, name);
    if (found.empty()) return std::nullopt;
    return unescape(found.front());
}

std::string unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        const std::size_t semi = raw[i] == '&' ? raw.find(';', i) : std::string_view::npos;
        if (semi != std::string_view::npos && semi - i <= 12) {
            if (auto replaced = entity(raw.substr(i + 1, semi - i - 1))) {
                out += *replaced;
                i = semi + 1;
                continue;
            }
        }
        out += raw[i++];
    }
    return out;
}

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string root_name(std::string_view document) {
    std::size_t at = 0;
    while (true) {
        at = document.find('<', at);
        if (at == std::string_view::npos || at + 1 >= document.size()) return "";
        const char next = document[at + 1];
        if (next != '?' && next != '!') break;
        at = document.find('>', at);
        if (at == std::string_view::npos) return "";
    }
    const std::size_t end = document.find_first_of(" \t\r\n/>", at + 1);
    if (end == std::string_view::npos) return "";
    return std::string(document.substr(at + 1, end - at - 1));
}

}  // namespace imapkeep::s3::xml
