#include <imapkeep/archive/csv.hpp>

namespace imapkeep::archive {

// RFC 4180 §2: field = (escaped / non-escaped); escaped = DQUOTE *(TEXTDATA /
// COMMA / CR / LF / 2DQUOTE) DQUOTE. Leading/trailing spaces are quoted too,
// because some readers trim unquoted fields.
std::string csv_field(std::string_view value) {
    bool quote = value.find_first_of(",\"\r\n") != std::string_view::npos ||
                 (!value.empty() && (value.front() == ' ' || value.back() == ' '));
    if (!quote) return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string csv_row(const std::vector<std::string>& fields) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        out += csv_field(fields[i]);
    }
    out += "\r\n";
    return out;
}

}  // namespace imapkeep::archive
