#include <algorithm>

#include "cli/doctor.hpp"
#include "cli/exit_codes.hpp"

namespace imapkeep::cli {

namespace {

constexpr std::size_t kNameWidth = 22;

const char* status_word(CheckStatus status) {
    switch (status) {
        case CheckStatus::Ok:
            return "OK";
        case CheckStatus::Warn:
            return "WARN";
        case CheckStatus::Fail:
            return "FAIL";
    }
    return "?";
}

// Server text (a NO's reason, a certificate subject) may hold line breaks.
std::string one_line(std::string text) {
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\t'; }, ' ');
    return text;
}

std::string padded(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

}  // namespace

CheckResult ok(std::string name, std::string detail) {
    return {CheckStatus::Ok, std::move(name), std::move(detail), ""};
}

CheckResult warn(std::string name, std::string detail, std::string hint) {
    return {CheckStatus::Warn, std::move(name), std::move(detail), std::move(hint)};
}

CheckResult fail(std::string name, std::string detail, std::string hint) {
    return {CheckStatus::Fail, std::move(name), std::move(detail), std::move(hint)};
}

std::string format_check(const CheckResult& check) {
    std::string line =
        padded(status_word(check.status), 5) + padded(check.name, kNameWidth) + " " + check.detail;
    if (check.status != CheckStatus::Ok && !check.hint.empty()) line += " -- hint: " + check.hint;
    return one_line(std::move(line));
}

int doctor_exit_code(const std::vector<CheckResult>& checks) {
    bool failed = std::any_of(checks.begin(), checks.end(),
                              [](const CheckResult& c) { return c.status == CheckStatus::Fail; });
    return failed ? kExitPartial : kExitOk;
}

}  // namespace imapkeep::cli
