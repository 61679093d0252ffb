// Small pure pieces of restore (restore.hpp): the report's verdict, APPENDLIMIT
// and a refusal for size.
#include <imapkeep/archive/restore.hpp>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string_view>

namespace imapkeep::archive {

std::uint64_t RestoreReport::messages_left() const {
    std::uint64_t n = 0;
    for (const auto& m : mailboxes) n += m.left;
    return n;
}

std::uint64_t RestoreReport::bytes_left() const {
    std::uint64_t n = 0;
    for (const auto& m : mailboxes) n += m.left_bytes;
    return n;
}

bool RestoreReport::failed() const {
    if (!error.empty()) return true;
    return std::any_of(mailboxes.begin(), mailboxes.end(), [](const auto& m) { return m.failed(); });
}

std::optional<std::uint64_t> append_limit(const std::vector<std::string>& capabilities) {
    // capability =/ "APPENDLIMIT" ["=" number] (RFC 7889 §3)
    constexpr std::string_view kName = "APPENDLIMIT=";
    for (const auto& cap : capabilities) {
        if (cap.size() <= kName.size()) continue;
        bool same = std::equal(kName.begin(), kName.end(), cap.begin(), [](char a, char b) {
            return a == (b >= 'a' && b <= 'z' ? static_cast<char>(b - 32) : b);
        });
        if (!same) continue;
        std::uint64_t v = 0;
        auto digits = std::string_view(cap).substr(kName.size());
        auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) return v;
    }
    return std::nullopt;
}

bool refused_as_too_big(const imap::Completion& completion) {
    if (completion.status != "NO" && completion.status != "BAD") return false;
    if (completion.code && completion.code->name == "TOOBIG") return true;
    std::string text;
    for (char c : completion.text) text += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    // Quirk(O365): "Maximum size of appendable message has been exceeded.";
    // Gmail: "Message too large."; others: "too big", "size limit".
    constexpr std::string_view kWords[] = {"too large", "too big", "maximum size", "size limit"};
    return std::any_of(std::begin(kWords), std::end(kWords),
                       [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

}  // namespace imapkeep::archive
