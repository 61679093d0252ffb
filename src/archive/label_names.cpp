// Gmail labels as names outside Gmail (label_names.hpp).
#include "archive/label_names.hpp"

#include <strings.h>

#include <algorithm>
#include <imapkeep/archive/csv.hpp>
#include <imapkeep/sync/gmail_layout.hpp>
#include <imapkeep/util/utf7.hpp>
#include <utility>

namespace imapkeep::archive::detail {

namespace {

// Gmail's English names of its system labels, where the IMAP name differs.
constexpr std::pair<const char*, const char*> kShownAs[] = {{"\\Draft", "Drafts"}};

std::string without_controls(std::string text) {
    for (auto& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    return text;
}

}  // namespace

std::string label_folder_name(const std::string& label) {
    const sync::GmailLayout plain;  // no special mailboxes: "\Sent" is "Sent"
    return sync::label_mailbox(plain, label);
}

std::string takeout_label(const std::string& label) {
    if (strcasecmp(label.c_str(), "\\Inbox") == 0) return "Inbox";
    for (const auto& [imap_name, shown] : kShownAs)
        if (label == imap_name) return shown;
    if (label.starts_with('\\')) return label.substr(1);
    return util::utf7_decode(label).value_or(label);
}

std::string takeout_labels(const std::vector<std::string>& labels) {
    auto ordered = labels;
    std::stable_partition(ordered.begin(), ordered.end(),
                          [](const auto& l) { return l.starts_with('\\'); });
    std::string out;
    for (std::size_t i = 0; i < ordered.size(); ++i)
        out += (i ? "," : "") + csv_field(without_controls(takeout_label(ordered[i])));
    return out;
}

std::string takeout_headers(std::uint64_t thread_id, const std::vector<std::string>& labels) {
    std::string out;
    if (thread_id != 0) out += "X-GM-THRID: " + std::to_string(thread_id) + "\r\n";
    return out + "X-Gmail-Labels: " + takeout_labels(labels) + "\r\n";
}

}  // namespace imapkeep::archive::detail
