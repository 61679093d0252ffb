// Small pure pieces of restore (restore.hpp): the report's verdict and APPENDLIMIT.
#include <imapkeep/archive/restore.hpp>

#include <algorithm>
#include <charconv>

namespace imapkeep::archive {

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

}  // namespace imapkeep::archive
