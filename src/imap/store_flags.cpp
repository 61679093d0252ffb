// StoreFlags (store_flags.hpp): every flag checked when the change is made.
#include <imapkeep/imap/store_flags.hpp>
#include <stdexcept>

namespace imapkeep::imap {

namespace {

bool is_system_label(std::string_view label) {
    return label.size() > 1 && label.front() == '\\' && wire::is_atom(label.substr(1));
}

// A label is an astring: any text a quoted string or a literal carries, but
// never NUL, CR or LF (the encoder sends those in no string form).
void check_label(const std::string& label) {
    if (label.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
        throw std::invalid_argument("NUL, CR or LF in a Gmail label");
}

}  // namespace

StoreFlags::StoreFlags(Item item, Op op, std::vector<std::string> values)
    : m_item(item), m_op(op), m_values(std::move(values)) {
    for (const auto& v : m_values) {
        if (m_item == Item::GmailLabels)
            check_label(v);
        else if (!is_flag(v))
            throw std::invalid_argument("not a flag (\\atom or atom): " + v);
    }
}

std::string StoreFlags::name() const {
    std::string out = m_op == Op::Add ? "+" : m_op == Op::Remove ? "-" : "";
    out += m_item == Item::Flags ? "FLAGS" : "X-GM-LABELS";
    return m_silent ? out + ".SILENT" : out;
}

std::vector<wire::Arg> StoreFlags::args() const {
    std::vector<wire::Arg> list;
    list.reserve(m_values.size());
    for (const auto& v : m_values) {
        if (m_item == Item::Flags || is_system_label(v))
            list.push_back(wire::Arg::atom(v));
        else
            list.push_back(wire::Arg::string(v));
    }
    return {wire::Arg::atom(name()), wire::Arg::list(std::move(list))};
}

std::string StoreFlags::to_string() const {
    std::string out = name() + " (";
    for (std::size_t i = 0; i < m_values.size(); ++i) {
        const auto& v = m_values[i];
        out += i ? " " : "";
        out += m_item == Item::Flags || is_system_label(v) ? v : wire::quote(v);
    }
    return out + ")";
}

}  // namespace imapkeep::imap
