// UID SEARCH (RFC 3501 §6.4.4) and ESEARCH (RFC 4731), split into pieces when
// the answer would not fit one response line.
#include <algorithm>
#include <cctype>
#include <deque>
#include <imapkeep/imap/client.hpp>
#include <limits>
#include <memory>

#include "imap/node_values.hpp"
#include "imap/response_checks.hpp"
#include "imap/server_uids.hpp"

namespace imapkeep::imap {

namespace {

using wire::Node;
using wire::Response;

// The most UIDs one "* SEARCH" line lists within `max_line`: each takes at most
// 11 bytes (SP and 10 digits), with room left for "* SEARCH" and "(MODSEQ n)".
std::uint32_t uids_per_line(std::size_t max_line) {
    constexpr std::size_t kOverhead = 64;
    if (max_line <= kOverhead + 11) return 1;
    return static_cast<std::uint32_t>(
        std::min<std::size_t>((max_line - kOverhead) / 11, 0xffffffffu));
}

// The key narrowed to a UID range: "UID lo:hi" before it (any CHARSET is
// added in front of both).
SearchKey narrowed(const SearchKey& key, UidSet::Range range) {
    UidSet uids;
    uids.add_range(Uid(range.first), Uid(range.last));
    return SearchKey::all_of({SearchKey::uid(uids), key});
}

void add_piece(SearchData& into, const SearchData& piece) {
    merge_into(into.uids, piece.uids);
    auto keep = [](std::optional<std::uint32_t>& a, std::optional<std::uint32_t> b, auto pick) {
        if (b) a = a ? pick(*a, *b) : *b;
    };
    keep(into.min, piece.min, [](auto x, auto y) { return std::min(x, y); });
    keep(into.max, piece.max, [](auto x, auto y) { return std::max(x, y); });
    keep(into.count, piece.count, [](auto x, auto y) { return x + y; });
    if (piece.modseq && (!into.modseq || *into.modseq < *piece.modseq)) into.modseq = piece.modseq;
}

// mailbox-data =/ "SEARCH" *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]
void read_search(const Response& r, SearchData& data) {
    std::vector<UidSet::Range> found;
    for (const auto& n : r.args) {
        if (n.kind == Node::Kind::Number) {
            auto uid = node_uid(n);
            found.push_back({uid.value, uid.value});
        } else if (n.kind == Node::Kind::List && n.items.size() == 2) {
            data.modseq = ModSeq(node_number(n.items[1]));  // RFC 7162 §3.1.5
        }
    }
    merge_into(data.uids, UidSet::from_ranges(std::move(found)));
}

// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
void read_esearch(const Response& r, SearchData& data) {
    std::size_t i = 0;
    if (i < r.args.size() && r.args[i].kind == Node::Kind::List) ++i;
    if (i < r.args.size() && r.args[i].is_atom("UID")) ++i;
    for (; i + 1 < r.args.size(); i += 2) {
        std::string name = upper(r.args[i].text);
        const auto& v = r.args[i + 1];
        if (name == "ALL")
            merge_into(data.uids, parse_uid_set(v.text));
        else if (name == "MIN")
            data.min = node_uid(v).value;
        else if (name == "MAX")
            data.max = node_uid(v).value;
        else if (name == "COUNT")
            data.count = static_cast<std::uint32_t>(node_number(v));
        else if (name == "MODSEQ")
            data.modseq = ModSeq(node_number(v));
    }
}

}  // namespace

// search = "SEARCH" [SP "CHARSET" SP astring] 1*(SP search-key); RFC 4731 puts
// search-return-opts first.
Client::Tag Client::submit_uid_search(const SearchKey& key, bool esearch, SearchData& into) {
    std::vector<wire::Arg> args;
    if (esearch) args.push_back(wire::Arg::raw("RETURN (ALL)"));
    if (key.has_8bit() && !m_utf8) {
        args.push_back(wire::Arg::atom("CHARSET"));
        args.push_back(wire::Arg::atom("UTF-8"));
    }
    args.insert(args.end(), key.args().begin(), key.args().end());
    auto own_tag = std::make_shared<Tag>();
    Tag tag = submit_needing({"SEARCH", "ESEARCH"}, "UID SEARCH", args,
                             [&into, own_tag](const Response& r, const wire::Frame&) {
                                 if (r.type == "SEARCH") {
                                     read_search(r, into);
                                 } else if (r.type == "ESEARCH") {
                                     // Another command's answer (RFC 4731 §3 search-correlator).
                                     if (auto tag = esearch_tag(r); tag && *tag != *own_tag) return false;
                                     read_esearch(r, into);
                                 } else {
                                     return false;
                                 }
                                 return true;
                             });
    *own_tag = tag;
    return tag;
}

std::vector<UidSet::Range> Client::search_pieces(std::uint32_t per_piece) {
    // The UIDs of messages per_piece, 2 * per_piece, ...: each UID range
    // between two of them holds at most per_piece messages. Later arrivals
    // land in the last range, and an expunge only empties a range.
    std::string seqs;
    for (std::uint64_t s = per_piece; s < m_exists; s += per_piece)
        seqs += (seqs.empty() ? "" : ",") + std::to_string(s);
    std::vector<std::uint32_t> bounds;
    auto c = wait(submit_needing({"FETCH"}, "FETCH", {wire::Arg::raw(seqs), wire::Arg::raw("(UID)")},
                 [&](const Response& r, const wire::Frame&) {
                     if (r.type != "FETCH" || r.args.empty()) return false;
                     const auto& items = r.args[0].items;
                     for (std::size_t i = 0; i + 1 < items.size(); i += 2)
                         if (upper(items[i].text) == "UID")
                             bounds.push_back(node_uid(items[i + 1]).value);
                     return true;
                 }));
    expect_ok("FETCH", c);
    std::sort(bounds.begin(), bounds.end());
    std::vector<UidSet::Range> pieces;
    std::uint64_t first = 1;
    for (auto b : bounds) {
        if (b < first) continue;
        pieces.push_back({static_cast<std::uint32_t>(first), b});
        first = std::uint64_t{b} + 1;
    }
    if (first <= std::numeric_limits<std::uint32_t>::max())
        pieces.push_back(
            {static_cast<std::uint32_t>(first), std::numeric_limits<std::uint32_t>::max()});
    return pieces;
}

SearchData Client::uid_search(const SearchKey& key, bool esearch) {
    const auto per_line = uids_per_line(m_options.limits.max_line);
    SearchData data;
    if (m_state != State::Selected || m_exists <= per_line) {
        expect_ok("UID SEARCH", wait(submit_uid_search(key, esearch, data)));
        return data;
    }
    // Pipelined; every piece is waited for before any failure is reported,
    // so no handler outlives `answers`.
    auto pieces = search_pieces(per_line);
    std::deque<SearchData> answers;
    std::vector<Tag> tags;
    for (const auto& range : pieces) {
        answers.emplace_back();
        tags.push_back(submit_uid_search(narrowed(key, range), esearch, answers.back()));
    }
    std::vector<Completion> done;
    for (const auto& tag : tags) done.push_back(wait(tag));
    for (const auto& c : done) expect_ok("UID SEARCH", c);
    for (const auto& piece : answers) add_piece(data, piece);
    return data;
}

}  // namespace imapkeep::imap
