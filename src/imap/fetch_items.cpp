// FetchItems (fetch_items.hpp): fetch attributes checked as they are added.
#include <algorithm>
#include <imapkeep/imap/fetch_items.hpp>
#include <stdexcept>

namespace imapkeep::imap {

FetchItems& FetchItems::add(std::string att) {
    if (std::find(m_atts.begin(), m_atts.end(), att) == m_atts.end())
        m_atts.push_back(std::move(att));
    return *this;
}

// header-fld-name = astring; only atoms are taken: a field name (RFC 5322
// §3.6.8 ftext) never needs quoting, and one that would is not a name.
FetchItems& FetchItems::header_fields_peek(const std::vector<std::string>& names) {
    if (names.empty()) throw std::invalid_argument("BODY.PEEK[HEADER.FIELDS ()] names no field");
    std::string att = "BODY.PEEK[HEADER.FIELDS (";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!wire::is_atom(names[i]))
            throw std::invalid_argument("not a header field name: " + names[i]);
        att += (i ? " " : "") + names[i];
    }
    return add(att + ")]");
}

FetchItems& FetchItems::body_peek_partial(std::uint64_t origin, std::uint32_t count) {
    if (count == 0) throw std::invalid_argument("BODY.PEEK[]<origin.0>: a partial fetch of no octet");
    return add("BODY.PEEK[]<" + std::to_string(origin) + "." + std::to_string(count) + ">");
}

// Each att is a checked fetch-att, so the list goes as raw syntax: the
// encoder's atoms cannot carry the header-list's space and parentheses.
wire::Arg FetchItems::arg() const {
    if (m_atts.empty()) throw std::invalid_argument("a FETCH asks for nothing");
    std::vector<wire::Arg> items;
    items.reserve(m_atts.size());
    for (const auto& att : m_atts) items.push_back(wire::Arg::raw(att));
    return wire::Arg::list(std::move(items));
}

std::string FetchItems::to_string() const {
    std::string out = "(";
    for (std::size_t i = 0; i < m_atts.size(); ++i) out += (i ? " " : "") + m_atts[i];
    return out + ")";
}

}  // namespace imapkeep::imap
