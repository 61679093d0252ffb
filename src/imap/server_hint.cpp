// classify_server_hint: one table of what servers say when they throttle.
#include <imapkeep/imap/errors.hpp>
#include <imapkeep/imap/server_hint.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace imapkeep::imap {

namespace {

using Action = ServerHint::Action;

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A rule matches a response code (RFC 5530 §3), or words in the text.
struct Rule {
    const char* code;  // upper-case code name, or nullptr
    const char* words; // lower-case words the text contains, or nullptr
    Action action;
};

// First match wins: the most specific words before the generic codes, so that
// "NO [UNAVAILABLE] Too many simultaneous connections" drops a connection
// instead of waiting for one to come free.
constexpr Rule kRules[] = {
    // Quirk(O365): the session's OAuth2 access token expired; waiting will
    // not bring it back, a new one will.
    {nullptr, "accesstokenexpired", Action::RenewToken},
    // Quirk(Gmail): its daily download limit (about 2,500 MB) is this sentence.
    {nullptr, "exceeded command or bandwidth limits", Action::StopForToday},
    {"OVERQUOTA", nullptr, Action::StopForToday},
    // Quirk(Gmail): at most 15 connections per account.
    {nullptr, "too many simultaneous connections", Action::FewerConnections},
    {nullptr, "too many connections", Action::FewerConnections},
    // Dovecot's mail_max_userip_connections.
    {nullptr, "maximum number of connections", Action::FewerConnections},
    {"UNAVAILABLE", nullptr, Action::Wait},
    // Quirk(Gmail): a rate limit short of the daily one, "NO [THROTTLED]".
    {"THROTTLED", nullptr, Action::Wait},
    {"INUSE", nullptr, Action::Wait},
    {"LIMIT", nullptr, Action::Wait},
    // Quirk(O365): throttled sessions read so, with or without a backoff time.
    {nullptr, "request is throttled", Action::Wait},
    {nullptr, "user is authenticated but not connected", Action::Wait},
    {nullptr, "server unavailable", Action::Wait},
};

// Quirk(O365): "Suggested Backoff Time: 299961 milliseconds".
std::optional<std::chrono::milliseconds> suggested_backoff(const std::string& lowered) {
    static constexpr std::string_view kKey = "suggested backoff time:";
    auto at = lowered.find(kKey);
    if (at == std::string::npos) return std::nullopt;
    std::size_t i = at + kKey.size();
    while (i < lowered.size() && lowered[i] == ' ') ++i;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(lowered.data() + i, lowered.data() + lowered.size(), value);
    if (ec != std::errc() || end == lowered.data() + i) return std::nullopt;
    std::string_view unit(end, static_cast<std::size_t>(lowered.data() + lowered.size() - end));
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    // Only milliseconds are documented; a bare number or seconds read as said.
    const std::uint64_t ms = unit.rfind("sec", 0) == 0 ? value * 1000 : value;
    return std::chrono::milliseconds(std::min<std::uint64_t>(ms, 7ull * 24 * 3600 * 1000));
}

std::string reason_of(const std::optional<wire::ResponseCode>& code, std::string_view text) {
    std::string reason;
    if (code) reason = "[" + code->name + (code->raw.empty() ? "" : " " + code->raw) + "] ";
    reason += text;
    return reason;
}

}  // namespace

ServerHint classify_server_hint(std::string_view status, const std::optional<wire::ResponseCode>& code,
                                std::string_view text) {
    ServerHint hint;
    if (status != "NO" && status != "BAD" && status != "BYE") return hint;
    const std::string lowered = lower(text);
    hint.reason = reason_of(code, text);
    if (auto delay = suggested_backoff(lowered)) {
        hint.action = Action::Wait;
        hint.delay = delay;
        return hint;
    }
    for (const auto& rule : kRules) {
        bool code_matches = rule.code && code && code->name == rule.code;
        bool words_match = rule.words && lowered.find(rule.words) != std::string::npos;
        if (code_matches || words_match) {
            hint.action = rule.action;
            return hint;
        }
    }
    // A BYE ends the connection for a reason of its own (shutdown, overload,
    // idle): a pause and a new connection, never a failed mailbox at once.
    if (status == "BYE") hint.action = Action::Wait;
    return hint;
}

ServerHint server_hint(const CommandFailed& failure) {
    if (failure.malformed()) return {};
    const auto& c = failure.completion();
    return classify_server_hint(c.status, c.code, c.text);
}

const char* action_name(ServerHint::Action action) {
    switch (action) {
        case Action::None: return "none";
        case Action::Wait: return "wait";
        case Action::FewerConnections: return "fewer connections";
        case Action::StopForToday: return "stop for today";
        case Action::RenewToken: return "renew token";
    }
    return "none";
}

}  // namespace imapkeep::imap
