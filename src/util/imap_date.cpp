// date-time       = DQUOTE date-day-fixed "-" date-month "-" date-year
//                   SP time SP zone DQUOTE
// date-day-fixed  = (SP DIGIT) / 2DIGIT
// date-month      = "Jan" / "Feb" / "Mar" / "Apr" / "May" / "Jun" /
//                   "Jul" / "Aug" / "Sep" / "Oct" / "Nov" / "Dec"
// time            = 2DIGIT ":" 2DIGIT ":" 2DIGIT
// zone            = ("+" / "-") 4DIGIT                      (RFC 3501 §9)
#include <imapkeep/util/imap_date.hpp>

#include <cstdio>
#include <ctime>

namespace imapkeep::util {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), so no dependency on timegm or the process's TZ.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

class Cursor {
public:
    explicit Cursor(std::string_view s) : m_s(s) {}
    bool at_end() const { return m_pos == m_s.size(); }
    bool literal(char c) {
        if (m_pos < m_s.size() && m_s[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    bool is_digit() const { return m_pos < m_s.size() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9'; }
    bool digits(std::size_t n, int& value) {
        value = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!is_digit()) return false;
            value = value * 10 + (m_s[m_pos++] - '0');
        }
        return true;
    }
    bool month(unsigned& m) {
        if (m_pos + 3 > m_s.size()) return false;
        for (unsigned i = 0; i < 12; ++i) {
            bool match = true;
            for (std::size_t k = 0; k < 3; ++k) {
                char a = m_s[m_pos + k];
                char b = kMonths[i][k];
                if ((a | 0x20) != (b | 0x20)) match = false;
            }
            if (match) {
                m_pos += 3;
                m = i + 1;
                return true;
            }
        }
        return false;
    }

private:
    std::string_view m_s;
    std::size_t m_pos = 0;
};

}  // namespace

std::optional<ImapDateTime> parse_imap_datetime(std::string_view text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
    }
    Cursor c(text);
    int day = 0;
    // Quirk(various): servers and clients send " 1", "01" and also a bare "1".
    c.literal(' ');
    int d1 = 0;
    if (!c.digits(1, d1)) return std::nullopt;
    day = d1;
    if (c.is_digit()) {
        int d2 = 0;
        c.digits(1, d2);
        day = day * 10 + d2;
    }
    unsigned month = 0;
    int year = 0, hour = 0, minute = 0, second = 0, zone_h = 0, zone_m = 0;
    if (!c.literal('-') || !c.month(month) || !c.literal('-') || !c.digits(4, year)) return std::nullopt;
    if (!c.literal(' ') || !c.digits(2, hour) || !c.literal(':') || !c.digits(2, minute) ||
        !c.literal(':') || !c.digits(2, second) || !c.literal(' ')) {
        return std::nullopt;
    }
    int sign = 0;
    if (c.literal('+')) {
        sign = 1;
    } else if (c.literal('-')) {
        sign = -1;
    } else {
        return std::nullopt;
    }
    if (!c.digits(2, zone_h) || !c.digits(2, zone_m) || !c.at_end()) return std::nullopt;

    if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, month)) return std::nullopt;
    // 60 is a leap second; it folds into the next minute like timegm does.
    if (hour > 23 || minute > 59 || second > 60 || zone_m > 59) return std::nullopt;

    int offset = sign * (zone_h * 3600 + zone_m * 60);
    std::int64_t local = days_from_civil(year, month, static_cast<unsigned>(day)) * 86400 +
                         hour * 3600 + minute * 60 + second;
    return ImapDateTime{local - offset, offset};
}

std::string format_imap_datetime(std::int64_t epoch, int zone_offset_seconds) {
    std::int64_t local = epoch + zone_offset_seconds;
    std::int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    std::int64_t secs = local - days * 86400;
    Civil civil = civil_from_days(days);
    int abs_offset = zone_offset_seconds < 0 ? -zone_offset_seconds : zone_offset_seconds;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02u-%s-%04lld %02d:%02d:%02d %c%02d%02d", civil.day,
                  kMonths[civil.month - 1], static_cast<long long>(civil.year),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), zone_offset_seconds < 0 ? '-' : '+', abs_offset / 3600,
                  abs_offset / 60 % 60);
    return buf;
}

int local_zone_offset(std::int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return 0;
    return static_cast<int>(tm.tm_gmtoff);
}

}  // namespace imapkeep::util
