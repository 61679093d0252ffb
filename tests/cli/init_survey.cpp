// init's look at the server, against the test Dovecot: one LIST ... RETURN
// (STATUS (MESSAGES SIZE)) when LIST-STATUS and STATUS=SIZE are offered, else
// a STATUS per mailbox, and no sizes without STATUS=SIZE. The capabilities are
// taken away with ClientOptions::disabled_capabilities (what
// disable_extensions does), so one server shows all three paths; the commands
// sent are counted from the client's trace.
#include <catch2/catch.hpp>
#include <sstream>

#include "cli/cmd_init_server.hpp"
#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct Sent {
    int list_with_status = 0, list = 0, status = 0, status_with_size = 0, fetch = 0;
};

std::unique_ptr<imap::Client> connect_counting(std::vector<std::string> disabled, Sent& sent) {
    auto options = dovecot_options(4);
    options.client.disabled_capabilities = std::move(disabled);
    options.client.trace = [&sent](std::string_view line) {
        if (line.rfind("C: ", 0) != 0) return;
        const std::string l(line);
        if (l.find(" LIST ") != std::string::npos)
            ++(l.find("RETURN (STATUS") != std::string::npos ? sent.list_with_status : sent.list);
        if (l.find(" STATUS ") != std::string::npos)
            ++(l.find("SIZE") != std::string::npos ? sent.status_with_size : sent.status);
        if (l.find("FETCH") != std::string::npos) ++sent.fetch;
    };
    return imap::connect_and_login(options);
}

}  // namespace

TEST_CASE("init's survey: counts and sizes in one LIST, or a STATUS each, never a FETCH",
          "[init][integration]") {
    if (!have_dovecot_env()) return;
    const std::string mailbox = unique_name("init-survey-");
    const std::string message = "From: a@example.com\r\nSubject: s\r\n\r\nbody\r\n";
    {
        Sent ignored;
        auto setup = connect_counting({}, ignored);
        setup->create(mailbox);
        setup->append(mailbox, {}, std::nullopt, imap::AppendBody(message));
        setup->append(mailbox, {}, std::nullopt, imap::AppendBody(message + "more\r\n"));
        setup->logout();
    }
    struct Row {
        std::vector<std::string> disabled;
        bool one_list, sizes;
    };
    const Row rows[] = {
        {{}, true, true},
        {{"LIST-STATUS"}, false, true},
        {{"LIST-STATUS", "STATUS=SIZE"}, false, false},
        {{"STATUS=SIZE"}, false, false},
    };
    for (const auto& row : rows) {
        Sent sent;
        auto client = connect_counting(row.disabled, sent);
        auto survey = cli::survey_server(*client);
        client->logout();
        std::ostringstream printed;
        cli::print_survey(survey, printed);
        INFO(printed.str());
        CHECK(survey.one_list == row.one_list);
        CHECK(survey.sizes_known == row.sizes);
        CHECK(sent.fetch == 0);
        if (row.one_list) {
            CHECK(sent.list_with_status == 1);
            CHECK(sent.status + sent.status_with_size == 0);
        } else {
            CHECK(sent.list == 1);
            CHECK(sent.list_with_status == 0);
            CHECK(static_cast<std::size_t>(row.sizes ? sent.status_with_size : sent.status) ==
                  survey.mailboxes.size());
        }
        auto it = std::find_if(survey.mailboxes.begin(), survey.mailboxes.end(),
                               [&](const cli::MailboxSummary& m) { return m.name == mailbox; });
        REQUIRE(it != survey.mailboxes.end());
        CHECK(it->messages == 2);
        CHECK(it->size.has_value() == row.sizes);
        if (row.sizes) CHECK(*it->size == 2 * message.size() + 6);
        CHECK(printed.str().find(row.sizes
                                     ? "to back up"
                                     : "sizes unknown (the server does not offer STATUS=SIZE)") !=
              std::string::npos);
    }
    Sent ignored;
    auto cleanup = connect_counting({}, ignored);
    cleanup->delete_mailbox(mailbox);
    cleanup->logout();
}
