// CSV as RFC 4180 writes it: fields with a comma, a quote, CR or LF are
// quoted, quotes doubled; rows end in CRLF.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::archive {

std::string csv_field(std::string_view value);
std::string csv_row(const std::vector<std::string>& fields);

}  // namespace imapkeep::archive
