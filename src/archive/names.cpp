#include <imapkeep/archive/names.hpp>

#include <imapkeep/util/sha256.hpp>
#include <imapkeep/util/utf7.hpp>

#include <algorithm>
#include <cctype>
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

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

// The user's --prefix as levels: written with "/" or the target's delimiter.
std::vector<std::string> prefix_levels(std::string_view prefix, std::string_view target_delimiter) {
    std::string p(prefix);
    if (!target_delimiter.empty() && target_delimiter != "/") {
        for (std::size_t pos = 0; (pos = p.find(target_delimiter, pos)) != std::string::npos;)
            p.replace(pos, target_delimiter.size(), "/");
    }
    std::vector<std::string> levels;
    for (auto& level : split_mailbox(p, "/"))
        if (!level.empty()) levels.push_back(level);
    return levels;
}

// The fullwidth form (U+FF01..U+FF5E) of a printable ASCII delimiter, as UTF-8;
// "_" for any other.
std::string stand_in_for(std::string_view delimiter) {
    if (delimiter.size() != 1 || delimiter[0] <= ' ' || delimiter[0] > '~') return "_";
    const unsigned code = 0xFF00u + static_cast<unsigned char>(delimiter[0]) - 0x20u;
    std::string out;
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
    return out;
}

std::string replaced(std::string level, std::string_view what) {
    const auto stand_in = stand_in_for(what);
    for (std::size_t pos = 0; (pos = level.find(what, pos)) != std::string::npos; pos += stand_in.size())
        level.replace(pos, what.size(), stand_in);
    return level;
}

// A source level holding the target's delimiter, or a character it refuses,
// stays one level (names.hpp).
std::string one_level(std::string level, const NameMapping& m) {
    if (m.target_delimiter.empty()) return level;
    if (m.target_delimiter != m.source_delimiter) level = replaced(std::move(level), m.target_delimiter);
    for (char c : m.stand_in_characters) level = replaced(std::move(level), std::string_view(&c, 1));
    return level;
}

}  // namespace

std::string target_mailbox_name(std::string_view source, const NameMapping& m) {
    auto levels = prefix_levels(m.prefix, m.target_delimiter);
    // A user who wrote the target's personal prefix (--prefix INBOX.) gets it once.
    const auto personal = prefix_levels(m.target_prefix, m.target_delimiter);
    if (!personal.empty() && levels.size() >= personal.size() &&
        std::equal(personal.begin(), personal.end(), levels.begin(),
                   [](const auto& a, const auto& b) { return is_inbox(a) ? is_inbox(b) : a == b; }))
        levels.erase(levels.begin(), levels.begin() + static_cast<std::ptrdiff_t>(personal.size()));
    if (levels.empty() && is_inbox(source)) return "INBOX";
    if (!m.source_prefix.empty() && starts_with_nocase(source, m.source_prefix) && source.size() > m.source_prefix.size())
        source.remove_prefix(m.source_prefix.size());
    for (auto& level : split_mailbox(source, m.source_delimiter))
        levels.push_back(one_level(std::move(level), m));
    const std::string joiner = !m.target_delimiter.empty()  ? m.target_delimiter
                               : !m.source_delimiter.empty() ? m.source_delimiter
                                                             : std::string("/");
    std::string out = m.target_delimiter.empty() ? std::string() : m.target_prefix;
    for (std::size_t i = 0; i < levels.size(); ++i) out += (i ? joiner : "") + levels[i];
    return out;
}

std::string target_mailbox_name(std::string_view source, std::string_view source_delimiter,
                                std::string_view prefix, std::string_view target_delimiter) {
    NameMapping m;
    m.source_delimiter = source_delimiter;
    m.prefix = prefix;
    m.target_delimiter = target_delimiter;
    return target_mailbox_name(source, m);
}

std::string source_personal_prefix(const std::vector<SourceMailbox>& mailboxes) {
    std::string prefix;
    for (const auto& mb : mailboxes) {
        if (is_inbox(mb.name)) continue;
        if (mb.delimiter.empty() || mb.delimiter == "/") return "";
        const std::string below_inbox = "INBOX" + mb.delimiter;
        if (!starts_with_nocase(mb.name, below_inbox) || mb.name.size() == below_inbox.size()) return "";
        if (!prefix.empty() && prefix != below_inbox) return "";
        prefix = below_inbox;
    }
    return prefix;
}

}  // namespace imapkeep::archive
