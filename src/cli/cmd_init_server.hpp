// init's look at the server (cmd_init_server.cpp).
#pragma once

#include <cstdint>
#include <imapkeep/imap/client.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace imapkeep::cli {

struct MailboxSummary {
    std::string name;
    std::uint32_t messages = 0;
    std::optional<std::uint64_t> size;  // STATUS=SIZE only
};

struct ServerSurvey {
    std::vector<std::string> capabilities;
    std::vector<MailboxSummary> mailboxes;  // selectable ones, by name
    bool sizes_known = false;               // STATUS=SIZE
    bool one_list = false;                  // LIST-STATUS: one round trip
};

// Throws what the client throws (imap::Abort, CommandFailed).
ServerSurvey survey_server(imap::Client& client);
void print_survey(const ServerSurvey& survey, std::ostream& out);

}  // namespace imapkeep::cli
