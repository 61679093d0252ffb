#include <imapkeep/archive/time_spec.hpp>

#include <cctype>
#include <ctime>

namespace imapkeep::archive {

namespace {

class Scanner {
public:
    explicit Scanner(std::string_view text) : m_text(text) {}
    bool done() const { return m_pos == m_text.size(); }
    bool peek(char c) const { return m_pos < m_text.size() && m_text[m_pos] == c; }
    bool take(char c) {
        if (!peek(c)) return false;
        ++m_pos;
        return true;
    }
    // Exactly `n` digits.
    std::optional<int> digits(int n) {
        int v = 0;
        for (int i = 0; i < n; ++i) {
            if (m_pos >= m_text.size() || !std::isdigit(static_cast<unsigned char>(m_text[m_pos])))
                return std::nullopt;
            v = v * 10 + (m_text[m_pos++] - '0');
        }
        return v;
    }
    bool skip_digits() {
        std::size_t start = m_pos;
        while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
        return m_pos > start;
    }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

std::optional<std::int64_t> local_epoch(int y, int mo, int d, int h, int mi, int s) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;  // let the zone rules decide
    std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return static_cast<std::int64_t>(t);
}

}  // namespace

std::optional<std::int64_t> parse_point_in_time(std::string_view text) {
    // date = 4DIGIT "-" 2DIGIT "-" 2DIGIT
    // time = 2DIGIT ":" 2DIGIT [":" 2DIGIT ["." 1*DIGIT]]
    // zone = "Z" / ("+" / "-") 2DIGIT [[":"] 2DIGIT]
    Scanner s(text);
    auto y = s.digits(4);
    if (!y || !s.take('-')) return std::nullopt;
    auto mo = s.digits(2);
    if (!mo || !s.take('-')) return std::nullopt;
    auto d = s.digits(2);
    if (!d || *mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo)) return std::nullopt;
    if (s.done()) return local_epoch(*y, *mo, *d, 0, 0, 0);

    if (!s.take('T') && !s.take('t') && !s.take(' ')) return std::nullopt;
    auto h = s.digits(2);
    if (!h || !s.take(':')) return std::nullopt;
    auto mi = s.digits(2);
    if (!mi) return std::nullopt;
    int sec = 0;
    if (s.take(':')) {
        auto v = s.digits(2);
        if (!v) return std::nullopt;
        sec = *v;
        if (s.take('.') && !s.skip_digits()) return std::nullopt;
    }
    if (*h > 23 || *mi > 59 || sec > 60) return std::nullopt;
    if (s.done()) return local_epoch(*y, *mo, *d, *h, *mi, sec);

    int offset = 0;
    if (s.take('Z') || s.take('z')) {
        offset = 0;
    } else {
        int sign = s.take('+') ? 1 : s.take('-') ? -1 : 0;
        if (!sign) return std::nullopt;
        auto oh = s.digits(2);
        if (!oh) return std::nullopt;
        int om = 0;
        if (!s.done()) {
            s.take(':');
            auto v = s.digits(2);
            if (!v) return std::nullopt;
            om = *v;
        }
        if (*oh > 23 || om > 59) return std::nullopt;
        offset = sign * (*oh * 3600 + om * 60);
    }
    if (!s.done()) return std::nullopt;
    return days_from_civil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + sec - offset;
}

}  // namespace imapkeep::archive
