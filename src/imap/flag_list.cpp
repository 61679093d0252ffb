// FlagList (flag_list.hpp): every flag checked when the list is made.
#include <imapkeep/imap/flag_list.hpp>
#include <stdexcept>

namespace imapkeep::imap {

bool is_flag(std::string_view flag) {
    if (!flag.empty() && flag.front() == '\\') flag.remove_prefix(1);
    return wire::is_atom(flag);
}

FlagList::FlagList(std::vector<std::string> flags) : m_flags(std::move(flags)) {
    for (const auto& f : m_flags)
        if (!is_flag(f)) throw std::invalid_argument("not a flag (\\atom or atom): " + f);
}

wire::Arg FlagList::arg() const {
    std::vector<wire::Arg> list;
    list.reserve(m_flags.size());
    for (const auto& f : m_flags) list.push_back(wire::Arg::atom(f));
    return wire::Arg::list(std::move(list));
}

std::string FlagList::to_string() const {
    std::string out = "(";
    for (std::size_t i = 0; i < m_flags.size(); ++i) out += (i ? " " : "") + m_flags[i];
    return out + ")";
}

}  // namespace imapkeep::imap
