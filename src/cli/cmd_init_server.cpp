// What init shows of the server before writing the config: its capabilities
// and its mailboxes with message counts and sizes. One LIST ... RETURN
// (STATUS (MESSAGES SIZE)) when LIST-STATUS (RFC 5819) and STATUS=SIZE (RFC
// 8438) are offered, else one STATUS per mailbox. Nothing is downloaded.
#include "cli/cmd_init_server.hpp"

#include <algorithm>
#include <iomanip>

#include "cli/report.hpp"

namespace imapkeep::cli {

namespace {

imap::StatusItems status_items(bool sizes) {
    if (sizes) return {imap::StatusItem::Messages, imap::StatusItem::Size};
    return {imap::StatusItem::Messages};
}

MailboxSummary summary_of(const imap::StatusData& status) {
    return {status.name, status.messages.value_or(0), status.size};
}

std::vector<MailboxSummary> with_list_status(imap::Client& client) {
    imap::ListOptions options;
    options.return_status = status_items(true);
    std::vector<imap::StatusData> statuses;
    client.list("", "*", options, &statuses);
    std::vector<MailboxSummary> out;
    for (const auto& s : statuses) out.push_back(summary_of(s));
    return out;
}

std::vector<MailboxSummary> with_status_each(imap::Client& client, bool sizes) {
    std::vector<MailboxSummary> out;
    for (const auto& entry : client.list("", "*")) {
        if (!entry.selectable()) continue;
        auto status = client.status(entry.mailbox(), status_items(sizes));
        status.name = entry.name;
        out.push_back(summary_of(status));
    }
    return out;
}

}  // namespace

ServerSurvey survey_server(imap::Client& client) {
    ServerSurvey survey;
    survey.capabilities = client.capabilities();
    survey.sizes_known = client.has_capability("STATUS=SIZE");
    survey.one_list = survey.sizes_known && client.has_capability("LIST-STATUS");
    survey.mailboxes =
        survey.one_list ? with_list_status(client) : with_status_each(client, survey.sizes_known);
    std::sort(survey.mailboxes.begin(), survey.mailboxes.end(),
              [](const MailboxSummary& a, const MailboxSummary& b) { return a.name < b.name; });
    return survey;
}

void print_survey(const ServerSurvey& survey, std::ostream& out) {
    out << "Capabilities:";
    for (const auto& c : survey.capabilities) out << " " << c;
    out << "\n\nMailboxes:\n";
    std::uint64_t messages = 0, bytes = 0;
    for (const auto& m : survey.mailboxes) {
        messages += m.messages;
        bytes += m.size.value_or(0);
        out << "  " << std::left << std::setw(32) << m.name << std::right << std::setw(9)
            << m.messages;
        if (survey.sizes_known) out << std::setw(12) << human_bytes(m.size.value_or(0));
        out << "\n";
    }
    out << "  " << count_of(survey.mailboxes.size(), "mailbox", "mailboxes") << ", "
        << count_of(messages, "message", "messages");
    if (survey.sizes_known)
        out << ", " << human_bytes(bytes) << " to back up\n";
    else
        out << "; sizes unknown (the server does not offer STATUS=SIZE)\n";
}

}  // namespace imapkeep::cli
