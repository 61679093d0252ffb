// imaplib's module-level helpers, matching CPython's results (including its
// exceptions) input for input; see include/imapkeep/imaplib/helpers.hpp.
#include <imapkeep/imaplib/helpers.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace imaplib {

namespace {

constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (m 1-12);
// d may be 0 or past the month's end, counting on linearly as CPython's
// calendar.timegm does.
std::int64_t days_from_civil(std::int64_t y, int m, std::int64_t d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;  // of the month's day 1
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 + (d - 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int number(std::string_view s) {
    int n = 0;
    for (char c : s) n = n * 10 + (c == ' ' ? 0 : c - '0');
    return n;
}

// CPython's InternalDate regex after "INTERNALDATE \"":
// (?P<day>[ 0123][0-9])-(?P<mon>[A-Z][a-z][a-z])-(?P<year>[0-9]{4})
// (?P<hour>..):(?P<min>..):(?P<sec>..) (?P<zonen>[-+])(?P<zoneh>..)(?P<zonem>..)"
constexpr std::string_view kDateLead = "INTERNALDATE \"";
constexpr std::size_t kDateBody = 27;  // "01-Jan-2000 00:00:00 +0000\""

bool matches_date(std::string_view s) {
    if (s.size() < kDateBody) return false;
    auto digits = [&](std::size_t at, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
            if (!is_digit(s[at + i])) return false;
        return true;
    };
    return (s[0] == ' ' || (s[0] >= '0' && s[0] <= '3')) && is_digit(s[1]) && s[2] == '-' &&
           s[3] >= 'A' && s[3] <= 'Z' && s[4] >= 'a' && s[4] <= 'z' && s[5] >= 'a' &&
           s[5] <= 'z' && s[6] == '-' && digits(7, 4) && s[11] == ' ' && digits(12, 2) &&
           s[14] == ':' && digits(15, 2) && s[17] == ':' && digits(18, 2) && s[20] == ' ' &&
           (s[21] == '-' || s[21] == '+') && digits(22, 4) && s[26] == '"';
}

std::tm local_tm(std::time_t t) {
    std::tm out{};
    if (!localtime_r(&t, &out)) throw std::invalid_argument("timestamp out of range for localtime");
    return out;
}

// %z as CPython writes it for a fixed offset: +HHMM, plus SS when needed.
std::string format_offset(long seconds) {
    char sign = seconds < 0 ? '-' : '+';
    long a = std::labs(seconds) % 86400;
    char buf[64];
    if (a % 60)
        std::snprintf(buf, sizeof buf, "%c%02ld%02ld%02ld", sign, a / 3600, a / 60 % 60, a % 60);
    else
        std::snprintf(buf, sizeof buf, "%c%02ld%02ld", sign, a / 3600, a / 60 % 60);
    return buf;
}

// '"%d-Mon-%Y %H:%M:%S %z"' for a wall-clock time and its offset.
std::string format(long long year, int mon, int day, int hour, int min, int sec, long gmtoff) {
    if (year < 1 || year > 9999) throw std::invalid_argument("year is out of range");
    char buf[96];
    std::snprintf(buf, sizeof buf, "\"%02d-%s-%lld %02d:%02d:%02d %s\"", day, kMonths[mon - 1], year,
                  hour, min, sec, format_offset(gmtoff).c_str());
    return buf;
}

// The civil date of a day count from 1970-01-01 (inverse of days_from_civil).
void civil_from_days(std::int64_t z, long long& y, int& m, int& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = yoe + era * 400 + (m <= 2);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// datetime.fromtimestamp(t, utc).astimezone(): the offset comes from
// localtime at that instant, the wall clock from adding it to UTC.
std::string format_local(std::int64_t epoch) {
    // fromtimestamp(t, utc) itself only covers years 1..9999.
    if (epoch < -62135596800LL || epoch > 253402300799LL)
        throw std::invalid_argument("year is out of range");
    long gmtoff = local_tm(static_cast<std::time_t>(epoch)).tm_gmtoff;
    std::int64_t local = epoch + gmtoff;
    std::int64_t days = floor_div(local, 86400);
    std::int64_t secs = local - days * 86400;
    long long y;
    int m, d;
    civil_from_days(days, y, m, d);
    return format(y, m, d, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), gmtoff);
}

// CPython's time.timezone / time.altzone / time.daylight on glibc: the
// offsets in force on January 1st and July 1st of the current year, the larger
// (west-positive) one being "standard".
struct ZoneInfo {
    long timezone;
    long altzone;
    bool daylight;
};

ZoneInfo zone_info() {
    constexpr std::time_t kYear = (365 * 24 + 6) * 3600;
    std::time_t t = (std::time(nullptr) / kYear) * kYear;
    long jan = -local_tm(t).tm_gmtoff;
    long jul = -local_tm(t + kYear / 2).tm_gmtoff;
    if (jan < jul) return {jul, jan, jan != jul};
    return {jan, jul, jan != jul};
}

}  // namespace

std::optional<std::tm> Internaldate2tuple(std::string_view resp) {
    // `.*` does not cross a line feed, so the match lies on the first line, and
    // being greedy it takes the last candidate there.
    auto line = resp.substr(0, resp.find('\n'));
    for (auto pos = line.rfind(kDateLead); pos != std::string_view::npos;
         pos = pos == 0 ? std::string_view::npos : line.rfind(kDateLead, pos - 1)) {
        auto s = line.substr(pos + kDateLead.size());
        if (!matches_date(s)) continue;
        int mon = 0;
        for (std::size_t i = 0; i < kMonths.size(); ++i)
            if (s.substr(3, 3) == kMonths[i]) mon = static_cast<int>(i) + 1;
        if (mon == 0) throw std::out_of_range("unknown month: " + std::string(s.substr(3, 3)));
        int year = number(s.substr(7, 4));
        if (year < 1) throw std::invalid_argument("year 0 is out of range");
        std::int64_t zone = (number(s.substr(22, 2)) * 60 + number(s.substr(24, 2))) * 60;
        if (s[21] == '-') zone = -zone;
        std::int64_t utc = days_from_civil(year, mon, number(s.substr(0, 2))) * 86400 +
                           number(s.substr(12, 2)) * 3600 + number(s.substr(15, 2)) * 60 +
                           number(s.substr(18, 2)) - zone;
        return local_tm(static_cast<std::time_t>(utc));
    }
    return std::nullopt;
}

std::string Int2AP(long long num) {
    constexpr std::string_view kAP = "ABCDEFGHIJKLMNOP";
    unsigned long long n = num < 0 ? 0ULL - static_cast<unsigned long long>(num)
                                   : static_cast<unsigned long long>(num);
    std::string out;
    while (n) {
        out.insert(out.begin(), kAP[n % 16]);
        n /= 16;
    }
    return out;
}

std::vector<std::string> ParseFlags(std::string_view resp) {
    // .*FLAGS \((?P<flags>[^\)]*)\) : the prefix stays on the first line, the
    // flags may not; greedy, so the last "FLAGS (" that has a ")" after it.
    constexpr std::string_view kLead = "FLAGS (";
    auto first_nl = resp.find('\n');
    auto limit = first_nl == std::string_view::npos ? resp.size() : first_nl;
    for (auto pos = resp.rfind(kLead, limit); pos != std::string_view::npos;
         pos = pos == 0 ? std::string_view::npos : resp.rfind(kLead, pos - 1)) {
        auto start = pos + kLead.size();
        auto close = resp.find(')', start);
        if (close == std::string_view::npos) continue;
        std::vector<std::string> flags;
        auto body = resp.substr(start, close - start);
        constexpr std::string_view kSpace = " \t\n\r\x0b\x0c";
        std::size_t i = 0;
        while ((i = body.find_first_not_of(kSpace, i)) != std::string_view::npos) {
            auto j = body.find_first_of(kSpace, i);
            if (j == std::string_view::npos) j = body.size();
            flags.emplace_back(body.substr(i, j - i));
            i = j;
        }
        return flags;
    }
    return {};
}

namespace detail {

std::string time2internaldate_epoch(std::int64_t seconds) { return format_local(seconds); }

std::string time2internaldate_epoch(double seconds) {
    if (!std::isfinite(seconds)) throw std::invalid_argument("timestamp is not finite");
    // datetime.fromtimestamp rounds to the microsecond (half to even); %S then
    // shows whole seconds.
    double micros = std::nearbyint(seconds * 1e6);
    double whole = std::floor(micros / 1e6);
    if (whole < -9.3e18 || whole > 9.3e18) throw std::invalid_argument("timestamp out of range");
    return format_local(static_cast<std::int64_t>(whole));
}

}  // namespace detail

std::string Time2Internaldate(const std::tm& t) {
    long gmtoff;
    if (t.tm_zone != nullptr) {
        gmtoff = t.tm_gmtoff;  // a struct_time from localtime()
    } else {
        ZoneInfo z = zone_info();
        if (z.daylight) {
            int dst = t.tm_isdst;
            if (dst == -1) {
                std::tm copy = t;
                copy.tm_wday = -1;
                std::time_t when = std::mktime(&copy);
                if (when == static_cast<std::time_t>(-1) && copy.tm_wday == -1)
                    throw std::invalid_argument("mktime argument out of range");
                dst = local_tm(when).tm_isdst;
            }
            // (time.timezone, time.altzone)[dst], with Python's negative indexes.
            if (dst < 0) dst += 2;
            if (dst != 0 && dst != 1) throw std::out_of_range("tuple index out of range");
            gmtoff = -(dst ? z.altzone : z.timezone);
        } else {
            gmtoff = -z.timezone;
        }
    }
    // datetime(*date_time[:6], tzinfo=timezone(delta)) validates every field.
    long long year = t.tm_year + 1900LL;
    int mon = t.tm_mon + 1;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || year > 9999) throw std::invalid_argument("year is out of range");
    if (mon < 1 || mon > 12) throw std::invalid_argument("month must be in 1..12");
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int days = kDays[mon - 1] + (mon == 2 && leap ? 1 : 0);
    if (t.tm_mday < 1 || t.tm_mday > days) throw std::invalid_argument("day is out of range for month");
    if (t.tm_hour < 0 || t.tm_hour > 23 || t.tm_min < 0 || t.tm_min > 59 || t.tm_sec < 0 ||
        t.tm_sec > 59)
        throw std::invalid_argument("time field out of range");
    if (gmtoff <= -86400 || gmtoff >= 86400) throw std::invalid_argument("offset out of range");
    return format(year, mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, gmtoff);
}

std::string Time2Internaldate(std::chrono::system_clock::time_point when) {
    auto secs = std::chrono::floor<std::chrono::seconds>(when.time_since_epoch()).count();
    return format_local(static_cast<std::int64_t>(secs));
}

std::string Time2Internaldate(std::string_view quoted) {
    if (quoted.empty()) throw std::out_of_range("string index out of range");
    if (quoted.front() == '"' && quoted.back() == '"') return std::string(quoted);
    throw std::invalid_argument("date_time not of a known type");
}

}  // namespace imaplib
