#include <imapkeep/archive/names.hpp>

#include <imapkeep/util/sha256.hpp>
#include <imapkeep/util/utf7.hpp>

#include <stdexcept>

namespace imapkeep::archive {

namespace {

bool is_inbox(std::string_view name) {
    if (name.size() != 5) return false;
    for (std::size_t i = 0; i < 5; ++i)
        if ((name[i] | 0x20) != "inbox"[i]) return false;
    return true;
}

void append_hex(std::string& out, unsigned char c) {
    static const char kHex[] = "0123456789ABCDEF";
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
}

// Maildir++ level: modified UTF-7 (as Dovecot writes it), then "%XX" for the
// bytes that would change the folder structure.
std::string maildir_level(std::string_view level) {
    if (level.empty()) return "%";
    std::string encoded;
    bool raw = false;
    try {
        encoded = util::utf7_encode(level);
    } catch (const std::invalid_argument&) {
        encoded = std::string(level);  // invalid UTF-8: escape byte by byte below
        raw = true;
    }
    std::string out;
    for (unsigned char c : encoded) {
        if (c == '%' || c == '.' || c == '/' || c < 0x20 || c == 0x7F || (raw && c >= 0x80))
            append_hex(out, c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

// NAME_MAX: a Maildir++ folder (the whole hierarchy) or an mbox/eml level is
// one file name.
constexpr std::size_t kMaxNameBytes = 255;
constexpr std::size_t kMboxSuffixBytes = 5;  // ".mbox" after the last level

// `name` if it fits in `limit` bytes, else cut and ended with "~" and 16 hex
// digits of the SHA-256 of the whole, so that two long names stay two (as the
// store does for its folders).
std::string fit(std::string name, std::size_t limit) {
    if (name.size() <= limit) return name;
    const auto hash = util::sha256_hex(name).substr(0, 16);
    name.resize(limit - 1 - hash.size());
    return name + "~" + hash;
}

}  // namespace

std::vector<std::string> split_mailbox(std::string_view name, std::string_view delimiter) {
    std::vector<std::string> levels;
    if (delimiter.empty()) {
        levels.emplace_back(name);
        return levels;
    }
    std::size_t start = 0;
    while (true) {
        auto pos = name.find(delimiter, start);
        if (pos == std::string_view::npos) {
            levels.emplace_back(name.substr(start));
            return levels;
        }
        levels.emplace_back(name.substr(start, pos - start));
        start = pos + delimiter.size();
    }
}

std::string escape_path_level(std::string_view level) {
    if (level.empty()) return "%";
    std::string out;
    for (std::size_t i = 0; i < level.size(); ++i) {
        auto c = static_cast<unsigned char>(level[i]);
        if (c == '%' || c == '/' || c < 0x20 || c == 0x7F || (i == 0 && c == '.'))
            append_hex(out, c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string mailbox_relative_path(std::string_view name, std::string_view delimiter) {
    if (is_inbox(name)) return "INBOX";
    std::string out;
    for (const auto& level : split_mailbox(name, delimiter)) {
        if (!out.empty()) out += '/';
        out += fit(escape_path_level(level), kMaxNameBytes - kMboxSuffixBytes);
    }
    return out;
}

std::string maildir_folder(std::string_view name, std::string_view delimiter) {
    if (is_inbox(name)) return "";
    std::string out;
    for (const auto& level : split_mailbox(name, delimiter)) out += "." + maildir_level(level);
    return fit(std::move(out), kMaxNameBytes);
}

std::string message_stem(std::uint32_t uidvalidity, std::uint32_t uid) {
    return std::to_string(uidvalidity) + "." + std::to_string(uid);
}

std::string target_mailbox_name(std::string_view source, std::string_view source_delimiter,
                                std::string_view prefix, std::string_view target_delimiter) {
    std::vector<std::string> levels;
    // The prefix is written by a user, usually with "/": accept it and the
    // target's own delimiter.
    std::string p(prefix);
    if (!target_delimiter.empty() && target_delimiter != "/") {
        for (std::size_t pos = 0; (pos = p.find(target_delimiter, pos)) != std::string::npos;)
            p.replace(pos, target_delimiter.size(), "/");
    }
    for (auto& level : split_mailbox(p, "/"))
        if (!level.empty()) levels.push_back(level);
    if (levels.empty() && is_inbox(source)) return "INBOX";
    for (auto& level : split_mailbox(source, source_delimiter)) levels.push_back(std::move(level));
    std::string joiner = target_delimiter.empty() ? std::string(source_delimiter.empty() ? "/" : source_delimiter)
                                                  : std::string(target_delimiter);
    std::string out;
    for (std::size_t i = 0; i < levels.size(); ++i) out += (i ? joiner : "") + levels[i];
    return out;
}

}  // namespace imapkeep::archive
