#include <charconv>
#include <cmath>
#include <imapkeep/fleet/account_file.hpp>
#include <imapkeep/fleet/account_registry.hpp>
#include <map>
#include <set>

namespace imapkeep::fleet {

namespace {

struct CsvRow {
    int line = 0;  // where the row starts
    std::vector<std::string> fields;
};

[[noreturn]] void fail(int line, const std::string& what) {
    throw FleetError(std::to_string(line) + ": " + what);
}

// RFC 4180: field = (escaped / non-escaped); escaped = DQUOTE *(TEXTDATA /
// COMMA / CR / LF / 2DQUOTE) DQUOTE. LF alone also ends a record.
std::vector<CsvRow> read_csv(std::string_view text) {
    std::vector<CsvRow> rows;
    CsvRow row{1, {}};
    std::string field;
    bool quoted = false, in_quotes = false, any = false;
    int line = 1;
    auto end_field = [&] {
        row.fields.push_back(std::move(field));
        field.clear();
        quoted = false;
    };
    auto end_row = [&] {
        if (any) {
            end_field();
            rows.push_back(std::move(row));
        }
        row = CsvRow{line + 1, {}};
        any = false;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_quotes) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                in_quotes = false;
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"' && field.empty() && !quoted) {
            in_quotes = quoted = any = true;
        } else if (c == ',') {
            any = true;
            end_field();
        } else if (c == '\n') {
            end_row();
            ++line;
        } else if (c != '\r') {
            if (quoted) fail(line, "text after a closing quote");
            any = true;
            field += c;
        }
    }
    if (in_quotes) fail(row.line, "a quoted field is not closed");
    end_row();
    return rows;
}

const std::set<std::string> kColumns = {"name",
                                        "user",
                                        "host",
                                        "port",
                                        "tls",
                                        "master_user",
                                        "password_command",
                                        "template",
                                        "interval_minutes"};

std::int64_t number(const std::string& text, int line, const char* column, double low,
                    double high) {
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
        value < low || value > high)
        fail(line, std::string(column) + " \"" + text + "\": expected a number from " +
                       std::to_string(static_cast<long long>(low)) + " to " +
                       std::to_string(static_cast<long long>(high)));
    return static_cast<std::int64_t>(value * (std::string(column) == "port" ? 1 : 60000));
}

FleetAccount account_of(const CsvRow& row, const std::map<std::string, std::size_t>& at) {
    auto get = [&](const char* column) -> std::string {
        auto it = at.find(column);
        return it == at.end() || it->second >= row.fields.size() ? "" : row.fields[it->second];
    };
    FleetAccount a;
    a.name = get("name");
    a.user = get("user");
    if (!valid_fleet_account_name(a.name))
        fail(row.line, "name \"" + a.name + "\": letters, digits and . _ - @ + (not first . or -)");
    if (a.user.empty()) fail(row.line, "account " + a.name + ": user is empty");
    a.host = get("host");
    a.tls = get("tls");
    if (!a.tls.empty() && a.tls != "implicit" && a.tls != "starttls" && a.tls != "none")
        fail(row.line, "tls \"" + a.tls + "\": expected implicit, starttls or none");
    if (auto port = get("port"); !port.empty())
        a.port = static_cast<int>(number(port, row.line, "port", 1, 65535));
    a.master_user = get("master_user");
    a.password_command = get("password_command");
    a.template_account = get("template");
    if (auto minutes = get("interval_minutes"); !minutes.empty())
        a.interval_ms = number(minutes, row.line, "interval_minutes", 1, 525600);
    return a;
}

}  // namespace

std::vector<FleetAccount> parse_fleet_accounts_csv(std::string_view text) {
    auto rows = read_csv(text);
    if (rows.empty()) fail(1, "no header row (name,user,...)");
    std::map<std::string, std::size_t> at;
    for (std::size_t i = 0; i < rows[0].fields.size(); ++i) {
        const auto& column = rows[0].fields[i];
        if (!kColumns.count(column)) fail(rows[0].line, "unknown column \"" + column + "\"");
        if (!at.emplace(column, i).second) fail(rows[0].line, "column \"" + column + "\" twice");
    }
    for (const char* required : {"name", "user"})
        if (!at.count(required)) fail(rows[0].line, std::string("no column \"") + required + "\"");
    std::vector<FleetAccount> accounts;
    std::set<std::string> names;
    for (std::size_t r = 1; r < rows.size(); ++r) {
        if (rows[r].fields.size() > rows[0].fields.size())
            fail(rows[r].line, "more fields than columns");
        auto a = account_of(rows[r], at);
        if (!names.insert(a.name).second)
            fail(rows[r].line, "account " + a.name + " is listed twice");
        accounts.push_back(std::move(a));
    }
    return accounts;
}

}  // namespace imapkeep::fleet
