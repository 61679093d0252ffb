#include <algorithm>
#include <charconv>
#include <imapkeep/util/types.hpp>
#include <stdexcept>
#include <string_view>

namespace imapkeep {

void UidSet::add(Uid uid) { add_range(uid, uid); }

void UidSet::add_range(Uid first, Uid last) {
    if (first > last) std::swap(first, last);
    // nz-number (RFC 3501 §9): UID 0 does not exist, so it cannot be in a set.
    if (first.value == 0) throw std::invalid_argument("UidSet: UID 0 is not a valid UID");

    Range added{first.value, last.value};
    // First range that could touch `added`: the first whose end reaches
    // added.first - 1 (adjacent ranges merge, so 1:3 + 4 becomes 1:4).
    auto it = std::lower_bound(
        m_ranges.begin(), m_ranges.end(), added,
        [](const Range& r, const Range& a) { return std::uint64_t{r.last} + 1 < a.first; });
    auto end = it;
    while (end != m_ranges.end() && end->first <= std::uint64_t{added.last} + 1) {
        added.first = std::min(added.first, end->first);
        added.last = std::max(added.last, end->last);
        ++end;
    }
    it = m_ranges.erase(it, end);
    m_ranges.insert(it, added);
}

bool UidSet::contains(Uid uid) const {
    auto it = std::lower_bound(m_ranges.begin(), m_ranges.end(), uid.value,
                               [](const Range& r, std::uint32_t v) { return r.last < v; });
    return it != m_ranges.end() && it->first <= uid.value;
}

std::uint64_t UidSet::size() const {
    std::uint64_t total = 0;
    for (const auto& r : m_ranges) total += std::uint64_t{r.last} - r.first + 1;
    return total;
}

std::vector<Uid> UidSet::to_vector(std::uint64_t max_size) const {
    if (size() > max_size)
        throw std::length_error("UidSet: " + std::to_string(size()) + " UIDs, more than the " +
                                std::to_string(max_size) + " expected");
    std::vector<Uid> out;
    out.reserve(static_cast<std::size_t>(size()));
    for (const auto& r : m_ranges) {
        for (std::uint64_t v = r.first; v <= r.last; ++v)
            out.emplace_back(static_cast<std::uint32_t>(v));
    }
    return out;
}

std::vector<Uid> UidSet::first(std::uint64_t n) const {
    std::vector<Uid> out;
    out.reserve(static_cast<std::size_t>(std::min(n, size())));
    for (const auto& r : m_ranges) {
        for (std::uint64_t v = r.first; v <= r.last && out.size() < n; ++v)
            out.emplace_back(static_cast<std::uint32_t>(v));
    }
    return out;
}

std::string UidSet::to_string() const {
    std::string out;
    for (const auto& r : m_ranges) {
        if (!out.empty()) out += ',';
        out += std::to_string(r.first);
        if (r.last != r.first) {
            out += ':';
            out += std::to_string(r.last);
        }
    }
    return out;
}

namespace {

// nz-number = digit-nz *DIGIT ; unsigned 32-bit integer (RFC 3501 §9)
std::uint32_t parse_nz_number(std::string_view text, std::string_view whole) {
    if (text.empty() || text.front() < '1' || text.front() > '9') {
        throw std::invalid_argument("UidSet: bad number in \"" + std::string(whole) + "\"");
    }
    std::uint32_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        throw std::invalid_argument("UidSet: bad number in \"" + std::string(whole) + "\"");
    }
    return value;
}

}  // namespace

// sequence-set = (seq-number / seq-range) *("," sequence-set)
// seq-range    = seq-number ":" seq-number
// "*" is rejected: a concrete set has no "largest number in use".
UidSet UidSet::parse(std::string_view text) {
    if (text.empty()) return {};  // the rendering of the empty set
    std::vector<Range> items;
    std::size_t pos = 0;
    while (true) {
        std::size_t comma = text.find(',', pos);
        std::string_view item =
            text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
        std::size_t colon = item.find(':');
        if (colon == std::string_view::npos) {
            auto uid = parse_nz_number(item, text);
            items.push_back({uid, uid});
        } else {
            items.push_back({parse_nz_number(item.substr(0, colon), text),
                             parse_nz_number(item.substr(colon + 1), text)});
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return from_ranges(std::move(items));
}

UidSet UidSet::from_ranges(std::vector<Range> ranges) {
    for (auto& r : ranges) {
        if (r.first > r.last) std::swap(r.first, r.last);
        if (r.first == 0) throw std::invalid_argument("UidSet: UID 0 is not a valid UID");
    }
    // Sorted, then merged in one pass: adding items one by one in the order a
    // server sent them ("9,7,5,...") would cost quadratic time.
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.first < b.first; });
    UidSet set;
    for (const auto& r : ranges) {
        if (!set.m_ranges.empty() && r.first <= std::uint64_t{set.m_ranges.back().last} + 1)
            set.m_ranges.back().last = std::max(set.m_ranges.back().last, r.last);
        else
            set.m_ranges.push_back(r);
    }
    return set;
}

UidSet UidSet::intersect(const UidSet& other) const {
    UidSet out;
    auto a = m_ranges.begin();
    auto b = other.m_ranges.begin();
    while (a != m_ranges.end() && b != other.m_ranges.end()) {
        const std::uint32_t first = std::max(a->first, b->first);
        const std::uint32_t last = std::min(a->last, b->last);
        if (first <= last) out.m_ranges.push_back(Range{first, last});
        // The range that ends first cannot meet anything further on.
        if (a->last < b->last)
            ++a;
        else
            ++b;
    }
    return out;
}

UidSet UidSet::minus(const UidSet& other) const {
    UidSet out;
    auto b = other.m_ranges.begin();
    for (const auto& r : m_ranges) {
        std::uint64_t first = r.first;  // 64-bit: last + 1 may pass 4294967295
        while (b != other.m_ranges.end() && b->last < first) ++b;
        for (auto cut = b; cut != other.m_ranges.end() && cut->first <= r.last; ++cut) {
            if (cut->first > first)
                out.m_ranges.push_back(Range{static_cast<std::uint32_t>(first),
                                             static_cast<std::uint32_t>(cut->first - 1)});
            first = std::max<std::uint64_t>(first, std::uint64_t{cut->last} + 1);
        }
        if (first <= r.last)
            out.m_ranges.push_back(Range{static_cast<std::uint32_t>(first), r.last});
    }
    return out;
}

std::vector<UidSet> UidSet::chunked(std::uint64_t max_uids) const {
    if (max_uids == 0) throw std::invalid_argument("UidSet::chunked: max_uids must be positive");
    std::vector<UidSet> chunks;
    UidSet current;
    std::uint64_t in_current = 0;
    for (const auto& r : m_ranges) {
        std::uint64_t first = r.first;
        while (first <= r.last) {
            std::uint64_t room = max_uids - in_current;
            std::uint64_t last = std::min<std::uint64_t>(r.last, first + room - 1);
            current.m_ranges.push_back(
                Range{static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(last)});
            in_current += last - first + 1;
            if (in_current == max_uids) {
                chunks.push_back(std::move(current));
                current = UidSet{};
                in_current = 0;
            }
            first = last + 1;
        }
    }
    if (!current.empty()) chunks.push_back(std::move(current));
    return chunks;
}

}  // namespace imapkeep
