#include <imapkeep/imap/types.hpp>

#include <strings.h>

namespace imapkeep::imap {

bool ListEntry::has_attribute(std::string_view attr) const {
    for (const auto& a : attributes) {
        if (a.size() == attr.size() && strncasecmp(a.data(), attr.data(), a.size()) == 0)
            return true;
    }
    return false;
}

bool ListEntry::selectable() const {
    return !has_attribute("\\Noselect") && !has_attribute("\\NonExistent");
}

}  // namespace imapkeep::imap
