#include <imapkeep/store/flags.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <imapkeep/store/message_store.hpp>
#include <utility>

namespace imapkeep::store {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

// System flags (RFC 3501 §2.3.2) and their Maildir info letters
// (https://cr.yp.to/proto/maildir.html), in letter order.
constexpr std::array<std::pair<std::string_view, char>, 5> kSystemFlags = {{
    {"\\Draft", 'D'},
    {"\\Flagged", 'F'},
    {"\\Answered", 'R'},
    {"\\Seen", 'S'},
    {"\\Deleted", 'T'},
}};

}  // namespace

std::vector<std::string> normalize_flags(const std::vector<std::string>& flags) {
    std::vector<std::string> out;
    out.reserve(flags.size());
    for (const auto& flag : flags) {
        if (flag.empty() || iequals(flag, "\\Recent")) continue;
        std::string canonical = flag;
        for (const auto& [name, letter] : kSystemFlags)
            if (iequals(flag, name)) canonical = std::string(name);
        out.push_back(std::move(canonical));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string join_flags(const std::vector<std::string>& flags) {
    std::string out;
    for (const auto& flag : flags) {
        if (!out.empty()) out += ' ';
        out += flag;
    }
    return out;
}

std::vector<std::string> split_flags(std::string_view joined) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < joined.size()) {
        auto end = joined.find(' ', pos);
        if (end == std::string_view::npos) end = joined.size();
        if (end > pos) out.emplace_back(joined.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

std::string maildir_flag_suffix(const std::vector<std::string>& flags) {
    std::string letters;
    for (const auto& system_flag : kSystemFlags) {
        // Not a structured binding: clang 14 cannot capture one in a lambda.
        const auto& name = system_flag.first;
        bool set = std::any_of(flags.begin(), flags.end(),
                               [&](const std::string& f) { return iequals(f, name); });
        if (set) letters += system_flag.second;
    }
    return letters;
}

}  // namespace imapkeep::store
