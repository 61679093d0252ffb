#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/fleet/password_template.hpp>

namespace imapkeep::fleet {

std::string shell_quote(const std::string& value) {
    std::string out = "'";
    for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

namespace {

std::string value_of(char code, const FleetAccount& account, const std::string& pattern) {
    switch (code) {
        case 'u':
            return shell_quote(account.user);
        case 'm':
            return shell_quote(account.master_user);
        case 'a':
            return shell_quote(account.name);
        case '%':
            return "%";
        default:
            throw FleetError("password command of account " + account.name + ": unknown \"%" +
                             std::string(1, code) + "\" in \"" + pattern +
                             "\" (known: %u user, %m master user, %a account, %% a %)");
    }
}

}  // namespace

std::string expand_password_command(const std::string& pattern, const FleetAccount& account) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%') {
            out += pattern[i];
            continue;
        }
        if (i + 1 == pattern.size())
            throw FleetError("password command of account " + account.name +
                             ": a lone \"%\" ends \"" + pattern + "\" (write %% for a %)");
        out += value_of(pattern[++i], account, pattern);
    }
    return out;
}

}  // namespace imapkeep::fleet
