// Gmail labels on restore (restore_labels.hpp).
#include "archive/restore_labels.hpp"

#include "archive/label_names.hpp"

#include <imapkeep/archive/names.hpp>
#include <imapkeep/sync/gmail_layout.hpp>
#include <imapkeep/util/utf7.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <map>
#include <stdexcept>

namespace imapkeep::archive::detail {

std::optional<std::vector<std::string>> labels_of(store::Catalog& catalog, store::Id message_id,
                                                  std::optional<std::int64_t> at) {
    if (!at) {
        auto g = catalog.gmail_message(message_id);
        if (!g) return std::nullopt;
        return g->labels;
    }
    std::optional<std::vector<std::string>> found;
    for (const auto& change : catalog.label_history(message_id))
        if (change.at <= *at) found = change.labels;
    return found;
}

bool has_labels(store::Catalog& catalog, const std::vector<store::MessageRecord>& list) {
    for (const auto& m : list)
        if (catalog.gmail_message(m.id)) return true;
    return false;
}

std::vector<LabelFolder> label_folders(store::Catalog& catalog, const std::string& all_name,
                                       const std::vector<store::MessageRecord>& list,
                                       std::optional<std::int64_t> at) {
    std::map<std::string, LabelFolder> folders;
    folders[all_name].name = all_name;
    for (const auto& m : list) {
        auto labels = labels_of(catalog, m.id, at).value_or(std::vector<std::string>{});
        if (labels.empty()) folders[all_name].messages.push_back(m);
        for (const auto& label : labels) {
            auto name = label_folder_name(label);
            folders[name].name = name;
            folders[name].messages.push_back(m);
        }
    }
    std::vector<LabelFolder> out;
    for (auto& [name, folder] : folders) out.push_back(std::move(folder));
    return out;
}

std::string prefixed_label(const std::string& label, const std::string& prefix,
                           const std::string& target_delimiter) {
    if (prefix.empty()) return label;
    auto name = target_mailbox_name(label_folder_name(label), "/", prefix, target_delimiter);
    try {
        return util::utf7_encode(name);
    } catch (const std::invalid_argument&) {
        return name;  // no UTF-8 (the prefix): label_store() refuses it, and says so
    }
}

std::string label_keyword(const std::string& label) {
    std::string out;
    std::string_view rest = label;
    if (rest.starts_with('\\')) {
        out = "$";
        rest.remove_prefix(1);
    }
    for (char c : rest) out += wire::is_atom(std::string_view(&c, 1)) ? c : '_';
    return out.empty() || out == "$" ? out + "_" : out;
}

void add_label_keywords(store::Catalog& catalog, std::vector<store::MessageRecord>& list,
                        std::optional<std::int64_t> at) {
    for (auto& m : list)
        for (const auto& label : labels_of(catalog, m.id, at).value_or(std::vector<std::string>{}))
            m.flags.push_back(label_keyword(label));
}

std::optional<imap::StoreFlags> label_store(const std::vector<std::string>& labels) {
    for (const auto& label : labels)
        for (unsigned char c : label)
            if (c < 0x20 || c >= 0x7F) return std::nullopt;
    return imap::StoreFlags::add_gmail_labels(labels).silent();
}

std::string gmail_all_mailbox(imap::Client& client, const std::vector<imap::ListEntry>& listed) {
    auto layout = sync::gmail_layout(client.has_capability("X-GM-EXT-1"), listed);
    return layout ? layout->all : "";
}

}  // namespace imapkeep::archive::detail
