// IMAP date-time (RFC 3501 §9: date-time = DQUOTE date-day-fixed "-" date-month
// "-" date-year SP time SP zone DQUOTE).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::util {
struct ImapDateTime {
    std::int64_t epoch;      // seconds since 1970-01-01 UTC
    int zone_offset_seconds; // e.g. +0200 -> 7200
};
// Accepts the text with or without the surrounding quotes; day may be " 1" or "01".
std::optional<ImapDateTime> parse_imap_datetime(std::string_view text);
// "DD-Mmm-YYYY HH:MM:SS +HHMM" without quotes, in the given zone.
std::string format_imap_datetime(std::int64_t epoch, int zone_offset_seconds);
// The local zone's offset at `epoch`, in seconds east of UTC.
int local_zone_offset(std::int64_t epoch);
}  // namespace imapkeep::util
