// Flags a restore target can take (restore_flags.hpp).
#include "archive/restore_flags.hpp"

#include <algorithm>
#include <array>
#include <imapkeep/imap/flag_list.hpp>
#include <string_view>

namespace imapkeep::archive::detail {

namespace {

bool iequal(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        return lower(x) == lower(y);
    });
}

bool contains(const std::vector<std::string>& list, std::string_view flag) {
    return std::any_of(list.begin(), list.end(), [&](const auto& f) { return iequal(f, flag); });
}

// flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension
bool is_system_flag(std::string_view flag) {
    constexpr std::array<std::string_view, 5> kSystem = {"\\Answered", "\\Flagged", "\\Deleted",
                                                         "\\Seen", "\\Draft"};
    return std::any_of(kSystem.begin(), kSystem.end(), [&](auto s) { return iequal(s, flag); });
}

bool target_keeps(std::string_view flag, const std::optional<std::vector<std::string>>& permanent) {
    if (!imap::is_flag(flag)) return false;  // imap::FlagList would refuse it
    // Quirk(Dovecot and others): an unknown "\Word" is refused on APPEND unless
    // the server lists it.
    const bool system = is_system_flag(flag);
    if (!permanent) return system || !flag.starts_with('\\');
    if (contains(*permanent, flag)) return true;
    // "\*": new keywords may be created (RFC 3501 §7.1); never new system flags.
    return !flag.starts_with('\\') && contains(*permanent, "\\*");
}

}  // namespace

TargetFlags flags_for_target(const std::vector<std::string>& flags,
                             const std::optional<std::vector<std::string>>& permanent) {
    TargetFlags out;
    for (const auto& f : flags) {
        if (iequal(f, "\\Recent")) continue;
        (target_keeps(f, permanent) ? out.send : out.dropped).push_back(f);
    }
    return out;
}

std::vector<std::string> missing_flags(const std::vector<std::string>& wanted,
                                       const std::vector<std::string>& present) {
    std::vector<std::string> out;
    for (const auto& f : wanted)
        if (!contains(present, f)) out.push_back(f);
    return out;
}

}  // namespace imapkeep::archive::detail
