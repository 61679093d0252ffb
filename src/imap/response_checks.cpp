#include "imap/response_checks.hpp"

#include <imapkeep/util/types.hpp>

#include <array>
#include <stdexcept>

#include "imap/node_values.hpp"

namespace imapkeep::imap {

namespace {

using wire::Node;
using wire::Response;
using Problem = std::optional<std::string>;

constexpr std::uint64_t kMax32 = 0xffffffffu;
constexpr std::array<std::string_view, 5> kNumberCodes{"UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ", "UNSEEN",
                                                       "UIDNOTSTICKY"};
constexpr std::array<std::string_view, 8> kStatusNumbers{"MESSAGES", "RECENT",        "UIDNEXT", "UIDVALIDITY",
                                                         "UNSEEN",   "HIGHESTMODSEQ", "SIZE",    "DELETED"};

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
    for (auto item : set)
        if (s == item) return true;
    return false;
}

bool is_number(const Node& n, std::uint64_t max = UINT64_MAX) {
    return n.kind == Node::Kind::Number && n.number <= max;
}
bool is_nz32(const Node& n) { return is_number(n, kMax32) && n.number != 0; }
bool is_list(const Node& n) { return n.kind == Node::Kind::List; }

Problem uid_set_problem(const Node& n) {
    try {
        UidSet::parse(n.text);
        return std::nullopt;
    } catch (const std::invalid_argument&) {
        return "not a UID set: '" + n.text + "'";
    }
}

// resp-text-code numbers: "UIDVALIDITY" SP nz-number, "HIGHESTMODSEQ" SP mod-sequence-value, ...
Problem code_problem(const wire::ResponseCode& code) {
    if (one_of(code.name, kNumberCodes)) {
        if (code.name == "UIDNOTSTICKY") return std::nullopt;
        const std::uint64_t max = code.name == "HIGHESTMODSEQ" ? UINT64_MAX : kMax32;
        if (code.args.size() != 1 || !is_number(code.args[0], max)) return "[" + code.name + " " + code.raw + "]";
    } else if (code.name == "PERMANENTFLAGS") {
        if (code.args.size() != 1 || !is_list(code.args[0])) return "[PERMANENTFLAGS " + code.raw + "]";
    }
    return std::nullopt;
}

// msg-att: pairs of a fetch-att name and its value.
Problem fetch_problem(const Response& r) {
    if (!r.number || *r.number == 0 || *r.number > kMax32) return "FETCH without a message number";
    if (r.args.size() != 1 || !is_list(r.args[0])) return "FETCH without an attribute list";
    const auto& items = r.args[0].items;
    if (items.size() % 2 != 0) return "FETCH attribute without a value";
    for (std::size_t i = 0; i < items.size(); i += 2) {
        const std::string name = upper(items[i].text);
        const Node& v = items[i + 1];
        bool ok = true;
        if (name == "UID") ok = is_nz32(v);
        else if (name == "RFC822.SIZE") ok = is_number(v);
        else if (name == "FLAGS") ok = is_list(v);
        else if (name == "MODSEQ") ok = is_list(v) && v.items.size() == 1 && is_number(v.items[0]);
        else if (name == "INTERNALDATE") ok = v.is_string();
        if (!ok) return "FETCH " + name + " '" + (is_list(v) ? "(...)" : v.text) + "'";
    }
    return std::nullopt;
}

// mailbox-data =/ "STATUS" SP mailbox SP "(" [status-att-list] ")"
Problem status_problem(const Response& r) {
    if (r.args.size() != 2 || is_list(r.args[0]) || !is_list(r.args[1])) return "STATUS without mailbox and items";
    const auto& items = r.args[1].items;
    if (items.size() % 2 != 0) return "STATUS item without a value for " + r.args[0].text;
    for (std::size_t i = 0; i < items.size(); i += 2) {
        const std::string name = upper(items[i].text);
        if (one_of(name, kStatusNumbers) && !is_number(items[i + 1]))
            return "STATUS " + r.args[0].text + " " + name + " '" + items[i + 1].text + "'";
    }
    return std::nullopt;
}

// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP extended]
Problem list_problem(const Response& r) {
    if (r.args.size() < 3 || !is_list(r.args[0])) return r.type + " without attributes, delimiter and name";
    if (!r.args[1].is_string() && r.args[1].kind != Node::Kind::Nil) return r.type + " with a bad delimiter";
    if (is_list(r.args[2]) || r.args[2].kind == Node::Kind::Nil) return r.type + " without a mailbox name";
    return std::nullopt;
}

Problem search_problem(const Response& r) {
    for (std::size_t i = 0; i < r.args.size(); ++i) {
        const Node& n = r.args[i];
        const bool modseq = i + 1 == r.args.size() && is_list(n) && n.items.size() == 2 &&
                            n.items[0].is_atom("MODSEQ") && is_number(n.items[1]);
        if (!is_nz32(n) && !modseq) return "SEARCH '" + n.text + "'";
    }
    return std::nullopt;
}

// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
Problem esearch_problem(const Response& r) {
    std::size_t i = 0;
    if (i < r.args.size() && is_list(r.args[i])) ++i;
    if (i < r.args.size() && r.args[i].is_atom("UID")) ++i;
    if ((r.args.size() - i) % 2 != 0) return "ESEARCH item without a value";
    for (; i + 1 < r.args.size(); i += 2) {
        const std::string name = upper(r.args[i].text);
        const Node& v = r.args[i + 1];
        if (name == "ALL") {
            if (auto p = uid_set_problem(v)) return "ESEARCH ALL: " + *p;
        } else if ((name == "MIN" || name == "MAX") && !is_nz32(v)) {
            return "ESEARCH " + name + " '" + v.text + "'";
        } else if ((name == "COUNT" || name == "MODSEQ") && !is_number(v)) {
            return "ESEARCH " + name + " '" + v.text + "'";
        }
    }
    return std::nullopt;
}

}  // namespace

std::string response_kind(const Response& r) {
    if (r.is_status() && r.code && (one_of(r.code->name, kNumberCodes) || r.code->name == "PERMANENTFLAGS"))
        return r.type + " [" + r.code->name + "]";
    return r.type;
}

std::optional<std::string> data_problem(const Response& r) {
    if (r.is_status()) return r.code ? code_problem(*r.code) : std::nullopt;
    const std::string& t = r.type;
    if (t == "EXISTS" || t == "RECENT" || t == "EXPUNGE") {
        if (!r.number || *r.number > kMax32 || (t == "EXPUNGE" && *r.number == 0))
            return t + " without a valid number";
        return std::nullopt;
    }
    if (t == "FETCH") return fetch_problem(r);
    if (t == "STATUS") return status_problem(r);
    if (t == "LIST" || t == "LSUB") return list_problem(r);
    if (t == "SEARCH") return search_problem(r);
    if (t == "ESEARCH") return esearch_problem(r);
    if (t == "FLAGS" && (r.args.empty() || !is_list(r.args[0]))) return "FLAGS without a list";
    if (t == "VANISHED" && (r.args.empty() || is_list(r.args.back()))) return "VANISHED without UIDs";
    if (t == "VANISHED") return uid_set_problem(r.args.back());
    return std::nullopt;
}

std::optional<std::string> esearch_tag(const Response& r) {
    // search-correlator = SP "(" "TAG" SP tag-string ")"
    if (r.type != "ESEARCH" || r.args.empty() || !is_list(r.args[0])) return std::nullopt;
    const auto& c = r.args[0].items;
    if (c.size() == 2 && c[0].is_atom("TAG")) return c[1].as_text();
    return std::nullopt;
}

}  // namespace imapkeep::imap
