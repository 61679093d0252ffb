#include "cli/gc_grace.hpp"

#include <charconv>
#include <cstdint>

namespace imapkeep::cli {

namespace {

constexpr std::int64_t kMaxSeconds = 10ll * 366 * 24 * 3600;

std::int64_t unit_seconds(char unit) {
    switch (unit) {
        case 's':
            return 1;
        case 'm':
            return 60;
        case 'h':
            return 3600;
        case 'd':
            return 24 * 3600;
        default:
            return 0;
    }
}

}  // namespace

std::optional<std::chrono::seconds> parse_gc_grace(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t unit = 1;
    if (!(text.back() >= '0' && text.back() <= '9')) {
        unit = unit_seconds(text.back());
        text.remove_suffix(1);
        if (unit == 0 || text.empty()) return std::nullopt;
    }
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 0 || n > kMaxSeconds / unit)
        return std::nullopt;
    return std::chrono::seconds(n * unit);
}

std::string gc_grace_text(std::chrono::seconds grace) {
    const std::int64_t s = grace.count();
    for (char unit : {'d', 'h', 'm'})
        if (s != 0 && s % unit_seconds(unit) == 0)
            return std::to_string(s / unit_seconds(unit)) + unit;
    return std::to_string(s) + "s";
}

}  // namespace imapkeep::cli
