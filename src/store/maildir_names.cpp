#include "store/maildir_names.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/util/process_id.hpp>
#include <imapkeep/util/sha256.hpp>
#include <imapkeep/util/utf7.hpp>
#include <stdexcept>
#include <vector>

namespace imapkeep::store {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::toupper(x) == std::toupper(y);
           });
}

bool needs_escape(unsigned char c, bool escape_8bit) {
    return c == '%' || c == '.' || c == '/' || c < 0x20 || c == 0x7F || (escape_8bit && c >= 0x80);
}

std::string percent_escape(std::string_view text, bool escape_8bit) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (needs_escape(c, escape_8bit)) {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // only upper case is ever written, so only it decodes
}

std::vector<std::string_view> split(std::string_view text, std::string_view delimiter) {
    std::vector<std::string_view> parts;
    if (delimiter.empty()) {
        parts.push_back(text);
        return parts;
    }
    std::size_t pos = 0;
    while (true) {
        auto next = text.find(delimiter, pos);
        if (next == std::string_view::npos) {
            parts.push_back(text.substr(pos));
            return parts;
        }
        parts.push_back(text.substr(pos, next - pos));
        pos = next + delimiter.size();
    }
}

bool plain_component(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.size() <= kMaxNameBytes &&
           s.find('/') == std::string_view::npos && s.find('\0') == std::string_view::npos;
}

// Maildir's rule for the host part: "/" -> "\057" and ":" -> "\072"; we also
// encode "," (Dovecot reads ",S=" / ",U=" fields after it) and drop the rest of
// what could confuse a reader.
std::string maildir_host() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "localhost";
    std::string host;
    for (const char* p = buffer; *p; ++p) {
        const unsigned char c = static_cast<unsigned char>(*p);
        if (c == '/')
            host += "\\057";
        else if (c == ':')
            host += "\\072";
        else if (c == ',')
            host += "\\054";
        else if (c > 0x20 && c < 0x7F)
            host += static_cast<char>(c);
    }
    return host.empty() ? "localhost" : host;
}

}  // namespace

std::string escape_folder_level(std::string_view level) {
    // "%" alone cannot come out of the escape below (each "%" has two hex digits
    // after it), so it stands for the empty level unambiguously.
    if (level.empty()) return "%";
    try {
        return percent_escape(util::utf7_encode(level), false);
    } catch (const std::invalid_argument&) {
        // Not UTF-8 (a server sent raw 8-bit names): keep every byte, escaped.
        return percent_escape(level, true);
    }
}

std::string folder_for_mailbox(std::string_view mailbox, std::string_view delimiter) {
    // RFC 3501 §5.1: INBOX is case-insensitive; it is the Maildir++ root.
    if (iequals(mailbox, "INBOX")) return "";
    auto levels = split(mailbox, delimiter);
    std::string folder;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        folder += '.';
        folder += (i == 0 && iequals(levels[i], "INBOX")) ? std::string("INBOX")
                                                          : escape_folder_level(levels[i]);
    }
    if (folder.size() > kMaxNameBytes) {
        // The whole hierarchy is one directory name in Maildir++: shorten it and
        // keep it unique with a hash of the full name.
        const auto hash = util::sha256_hex(folder).substr(0, 16);
        folder.resize(kMaxNameBytes - 1 - hash.size());
        folder += '~';
        folder += hash;
    }
    return folder;
}

std::optional<std::string> decode_folder_level(std::string_view level) {
    if (level == "%") return std::string();
    std::string out;
    for (std::size_t i = 0; i < level.size(); ++i) {
        if (level[i] != '%') {
            out += level[i];
            continue;
        }
        if (i + 2 >= level.size()) return std::nullopt;
        const int hi = hex_value(level[i + 1]);
        const int lo = hex_value(level[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

void check_folder(std::string_view folder) {
    if (folder.empty()) return;
    if (folder.front() != '.' || !plain_component(folder))
        throw StoreError("invalid Maildir++ folder name: \"" + std::string(folder) + "\"");
}

void check_account(std::string_view account) {
    if (!plain_component(account) || account.front() == '.')
        throw StoreError("invalid account name for the store: \"" + std::string(account) + "\"");
}

std::string unique_name(std::int64_t now) {
    static std::atomic<std::uint64_t> counter{0};
    static const std::string host = maildir_host();
    return std::to_string(now) + "." + std::to_string(util::process_id()) + "_" +
           std::to_string(counter.fetch_add(1)) + "." + host;
}

std::string_view base_name(std::string_view name) {
    auto info = name.rfind(":2,");
    return info == std::string_view::npos ? name : name.substr(0, info);
}

std::string_view unique_part(std::string_view name) {
    auto base = base_name(name);
    auto uid = base.find(",U=");
    return uid == std::string_view::npos ? base : base.substr(0, uid);
}

std::string with_uid(std::string_view name, std::uint32_t uid) {
    std::string out(unique_part(name));
    out += ",U=" + std::to_string(uid);
    out += name.substr(base_name(name).size());  // ":2,..." if any
    return out;
}

std::string with_info(std::string_view name, std::string_view letters) {
    std::string out(base_name(name));
    out += ":2,";
    out += letters;
    return out;
}

std::string StorePath::dir() const {
    std::string out = tree + "/" + account;
    if (!folder.empty()) out += "/" + folder;
    return out + "/" + sub;
}

std::string StorePath::relative() const { return dir() + "/" + name; }

StorePath parse_store_path(std::string_view relative) {
    auto bad = [&](const char* why) {
        return StoreError("invalid store path \"" + std::string(relative) + "\": " + why);
    };
    if (relative.empty() || relative.front() == '/') throw bad("not relative");
    auto parts = split(relative, "/");
    for (auto part : parts)
        if (!plain_component(part)) throw bad("empty, \".\" or \"..\" component");
    if (parts.size() != 4 && parts.size() != 5) throw bad("not TREE/ACCOUNT/[FOLDER/]SUB/NAME");
    StorePath p;
    p.tree = parts[0];
    p.account = parts[1];
    p.folder = parts.size() == 5 ? std::string(parts[2]) : std::string();
    p.sub = parts[parts.size() - 2];
    p.name = parts.back();
    if (p.tree != "mail" && p.tree != "attic") throw bad("tree is not mail/ or attic/");
    if (p.sub != "cur" && p.sub != "new" && p.sub != "tmp") throw bad("not in cur/, new/ or tmp/");
    check_account(p.account);
    if (parts.size() == 5 && p.folder.front() != '.') throw bad("folder does not start with \".\"");
    return p;
}

}  // namespace imapkeep::store
