#include <imapkeep/archive/headers.hpp>

#include <cerrno>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <system_error>

namespace imapkeep::archive {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

HeaderSummary parse_header_summary(std::string_view text) {
    // field = field-name ":" unstructured CRLF; obs-fold continuation lines
    // start with WSP (RFC 5322 §2.2.3) and are unfolded by dropping the CRLF.
    HeaderSummary h;
    std::string* current = nullptr;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        std::string_view line = text.substr(pos, end == std::string_view::npos ? text.size() - pos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') {
            if (current) *current += line;
            continue;
        }
        current = nullptr;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        auto name = trim(line.substr(0, colon));
        std::string* target = iequals(name, "From")          ? &h.from
                              : iequals(name, "Subject")     ? &h.subject
                              : iequals(name, "Date")        ? &h.date
                              : iequals(name, "Message-ID")  ? &h.message_id
                              : iequals(name, "Return-Path") ? &h.return_path
                                                             : nullptr;
        // The first occurrence wins; later duplicates are ignored.
        if (target && target->empty()) {
            *target = std::string(line.substr(colon + 1));
            current = target;
        }
    }
    for (auto* v : {&h.from, &h.subject, &h.date, &h.message_id, &h.return_path}) *v = std::string(trim(*v));
    return h;
}

std::string bare_address(std::string_view value) {
    auto lt = value.rfind('<');
    if (lt != std::string_view::npos) {
        auto gt = value.find('>', lt);
        if (gt != std::string_view::npos) return std::string(trim(value.substr(lt + 1, gt - lt - 1)));
    }
    std::size_t pos = 0;
    while (pos < value.size()) {
        auto end = value.find_first_of(" \t,", pos);
        auto word = value.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (word.find('@') != std::string_view::npos) {
            while (!word.empty() && (word.front() == '"' || word.front() == '(')) word.remove_prefix(1);
            while (!word.empty() && (word.back() == '"' || word.back() == ')')) word.remove_suffix(1);
            return std::string(word);
        }
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return "";
}

std::string read_header_block(const std::string& path, std::size_t limit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::system_error(errno ? errno : ENOENT, std::generic_category(), "cannot read " + path);
    std::string out;
    char buf[8192];
    while (out.size() < limit && in) {
        in.read(buf, static_cast<std::streamsize>(std::min(sizeof buf, limit - out.size())));
        auto n = static_cast<std::size_t>(in.gcount());
        if (n == 0) break;
        std::size_t scan_from = out.size() >= 3 ? out.size() - 3 : 0;
        out.append(buf, n);
        for (std::size_t i = scan_from; i < out.size(); ++i) {
            if (out[i] != '\n') continue;
            // An empty line: "\n\n" or "\n\r\n".
            if (i + 1 < out.size() && out[i + 1] == '\n') return out.substr(0, i + 2);
            if (i + 2 < out.size() && out[i + 1] == '\r' && out[i + 2] == '\n') return out.substr(0, i + 3);
        }
    }
    return out;
}

}  // namespace imapkeep::archive
