#include "imaplib/untagged.hpp"

namespace imaplib::detail {

namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the run of characters at the start of `s` that satisfy `pred`.
template <class Pred>
std::size_t run(std::string_view s, Pred pred) {
    std::size_t n = 0;
    while (n < s.size() && pred(s[n])) ++n;
    return n;
}

}  // namespace

LineKind classify_line(std::string_view line, std::string_view tagpre) {
    LineKind out;
    // A tag is the prefix and a number; the type is a maximal run of A-Z and
    // must be followed by a space (the data may be empty).
    if (!tagpre.empty() && line.starts_with(tagpre)) {
        auto rest = line.substr(tagpre.size());
        auto digits = run(rest, is_digit);
        if (digits > 0 && digits < rest.size() && rest[digits] == ' ') {
            auto after = rest.substr(digits + 1);
            auto type_len = run(after, is_upper);
            if (type_len > 0 && type_len < after.size() && after[type_len] == ' ') {
                out.kind = LineKind::Kind::Tagged;
                out.tag = std::string(line.substr(0, tagpre.size() + digits));
                out.type = std::string(after.substr(0, type_len));
                out.data = std::string(after.substr(type_len + 1));
                return out;
            }
        }
    }
    if (line.starts_with("* ")) {
        auto rest = line.substr(2);
        auto type_len = run(rest, [](char c) { return is_upper(c) || c == '-'; });
        if (type_len > 0) {
            out.kind = LineKind::Kind::Untagged;
            out.type = std::string(rest.substr(0, type_len));
            if (type_len < rest.size() && rest[type_len] == ' ')
                out.data = std::string(rest.substr(type_len + 1));
            return out;
        }
        auto digits = run(rest, is_digit);
        if (digits > 0 && digits < rest.size() && rest[digits] == ' ') {
            auto after = rest.substr(digits + 1);
            auto status_len = run(after, [](char c) { return is_upper(c) || c == '-'; });
            if (status_len > 0) {
                out.kind = LineKind::Kind::Untagged;
                out.type = std::string(after.substr(0, status_len));
                std::string dat(rest.substr(0, digits));
                if (status_len + 1 < after.size() && after[status_len] == ' ')
                    dat += " " + std::string(after.substr(status_len + 1));
                out.data = std::move(dat);
                return out;
            }
        }
    }
    if (line.starts_with("+")) {
        out.kind = LineKind::Kind::Continuation;
        if (line.size() > 1 && line[1] == ' ') out.data = std::string(line.substr(2));
        return out;
    }
    return out;
}

std::optional<CodeMatch> match_response_code(std::string_view dat) {
    if (dat.empty() || dat.front() != '[') return std::nullopt;
    auto rest = dat.substr(1);
    auto type_len = run(rest, [](char c) { return is_upper(c) || c == '-'; });
    if (type_len == 0 || type_len >= rest.size()) return std::nullopt;
    CodeMatch m{std::string(rest.substr(0, type_len)), std::nullopt};
    auto after = rest.substr(type_len);
    if (after.front() == ' ') {
        auto close = after.rfind(']');
        if (close != std::string_view::npos && close >= 1) {
            m.data = std::string(after.substr(1, close - 1));
            return m;
        }
    }
    if (after.front() == ']') return m;
    return std::nullopt;
}

bool needs_quoting(std::string_view arg) {
    if (arg.empty()) return true;
    if (arg.size() >= 2 && ((arg.front() == '(' && arg.back() == ')') ||
                            (arg.front() == '"' && arg.back() == '"')))
        return false;
    for (std::size_t i = 0; i < arg.size(); ++i) {
        const auto u = static_cast<unsigned char>(arg[i]);
        // atom-specials (RFC 3501 §9) minus list-wildcards and "]", which
        // patterns, sequence sets and fetch attributes carry unquoted.
        if (u <= 0x20 || u >= 0x7f) return true;
        switch (arg[i]) {
        case '(': case ')': case '{': case '"':
            return true;
        case '\\':
            if (i != 0) return true;  // only a flag's leading backslash
            break;
        default:
            break;
        }
    }
    return false;
}

bool has_nul_cr_lf(std::string_view arg) {
    return arg.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos;
}

}  // namespace imaplib::detail
