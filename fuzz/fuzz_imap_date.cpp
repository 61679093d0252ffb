// IMAP date-time (RFC 3501 §9: date-time = DQUOTE date-day-fixed "-"
// date-month "-" date-year SP time SP zone DQUOTE, here without the quotes):
// parsing never crashes, and whatever parses formats back to a date that
// parses to the same instant and zone (the formatter is the parser's inverse).
#include <imapkeep/util/imap_date.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_check.hpp"

using imapkeep::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto parsed = imapkeep::util::parse_imap_datetime(input);
    if (!parsed) return 0;
    const auto text = imapkeep::util::format_imap_datetime(parsed->epoch, parsed->zone_offset_seconds);
    auto again = imapkeep::util::parse_imap_datetime(text);
    check(again.has_value(), "a formatted date parses");
    check(again->epoch == parsed->epoch, "same instant");
    check(again->zone_offset_seconds == parsed->zone_offset_seconds, "same zone");
    return 0;
}
