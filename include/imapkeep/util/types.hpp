// Strong integer types for IMAP identifiers, so a sequence number can never be
// passed where a UID is expected (RFC 3501 §2.3.1).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep {

template <class Tag, class Rep>
struct StrongInt {
    Rep value{};
    constexpr StrongInt() = default;
    constexpr explicit StrongInt(Rep v) : value(v) {}
    constexpr auto operator<=>(const StrongInt&) const = default;
};

struct UidTag {};
struct SeqNumTag {};
struct UidValidityTag {};
struct ModSeqTag {};

using Uid = StrongInt<UidTag, std::uint32_t>;                  // nz-number, RFC 3501 §2.3.1.1
using SeqNum = StrongInt<SeqNumTag, std::uint32_t>;            // RFC 3501 §2.3.1.2
using UidValidity = StrongInt<UidValidityTag, std::uint32_t>;  // RFC 3501 §2.3.1.1
using ModSeq = StrongInt<ModSeqTag, std::uint64_t>;            // mod-sequence-value, RFC 7162 §7

// A set of UIDs kept as sorted, disjoint, inclusive ranges. Renders and parses
// the sequence-set grammar of RFC 3501 §9 (without "*", which has no meaning
// for a concrete set).
class UidSet {
public:
    struct Range {
        std::uint32_t first;
        std::uint32_t last;
        bool operator==(const Range&) const = default;
    };

    UidSet() = default;
    // Adjacent and overlapping ranges merge. UID 0 (not an nz-number) -> std::invalid_argument.
    void add(Uid uid);
    void add_range(Uid first, Uid last);
    bool contains(Uid uid) const;
    bool empty() const { return m_ranges.empty(); }
    std::uint64_t size() const;
    const std::vector<Range>& ranges() const { return m_ranges; }
    // Every UID, listed. A set parsed from server data can name 4294967295
    // UIDs in 12 bytes (invariant 4), so the caller states how many it is
    // prepared to hold: size() > max_size -> std::length_error, nothing allocated.
    std::vector<Uid> to_vector(std::uint64_t max_size) const;
    // The `n` smallest UIDs (fewer if the set is smaller).
    std::vector<Uid> first(std::uint64_t n) const;

    // "1:3,5,9:12". Empty set renders as "".
    std::string to_string() const;
    // Parses "1:3,5" (ranges may be reversed, e.g. "5:1"); "" is the empty set.
    // Throws std::invalid_argument on "*", 0, leading zeros, overflow or stray characters.
    // O(n log n) in the number of items, whatever their order.
    static UidSet parse(std::string_view text);
    // The union of `ranges` (each may be reversed; UID 0 -> std::invalid_argument),
    // sorted and merged in O(n log n).
    static UidSet from_ranges(std::vector<Range> ranges);

    // Set algebra on ranges: linear in the number of ranges, never in UIDs
    // (invariant 4), so "1:4294967295" costs what "7" costs.
    UidSet intersect(const UidSet& other) const;
    UidSet minus(const UidSet& other) const;
    // Splits into chunks of at most `max_uids` UIDs each, preserving order.
    std::vector<UidSet> chunked(std::uint64_t max_uids) const;

    bool operator==(const UidSet&) const = default;

private:
    std::vector<Range> m_ranges;
};

}  // namespace imapkeep
