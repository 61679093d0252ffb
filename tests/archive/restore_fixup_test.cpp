// The restore fix-up's UID STORE (restore_fixup.hpp) sends each flag as one
// flag of the list, or not at all: a flag that is no atom never changes the
// command's structure (issue 13: typed StoreFlags at the imap::Client boundary).
#include "archive/restore_fixup.hpp"

#include <catch2/catch.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imapkeep::testing::command_lines;
using imapkeep::testing::scripted;

namespace {

struct Run {
    std::vector<std::string> stores;  // the UID STORE command lines, without the tag
    archive::RestoreMailboxReport report;
    bool threw = false;
    std::string log;
};

// Restores one message (UID 5) whose APPEND kept none of `flags`.
Run fix_up(const std::vector<std::string>& flags) {
    auto log = std::make_shared<std::string>();
    imap::Client client(scripted("* PREAUTH hi\r\n",
                                 {{"UID FETCH",
                                   "* 1 FETCH (UID 5 FLAGS () INTERNALDATE "
                                   "\"01-Jan-2026 00:00:00 +0000\")\r\n$T OK\r\n"},
                                  {"", "$T OK done\r\n"}},
                                 log));
    client.read_greeting();
    store::MessageRecord message;
    message.id = 1;
    std::vector<archive::detail::AppendedMessage> appended{{&message, Uid(5), flags}};
    Run run;
    try {
        archive::detail::fix_up_appended(client, appended, std::nullopt, UidSet{}, run.report);
    } catch (const std::exception&) {
        run.threw = true;
    }
    client.noop();  // the connection is still in step
    for (const auto& line : command_lines(*log)) {
        auto rest = line.substr(line.find(' ') + 1);
        if (rest.starts_with("UID STORE")) run.stores.push_back(rest);
    }
    run.log = *log;
    return run;
}

}  // namespace

TEST_CASE("restore's fix-up sets the missing flags with one UID STORE", "[archive][restore]") {
    auto run = fix_up({"\\Seen", "$Label1"});
    CHECK_FALSE(run.threw);
    CHECK(run.stores == std::vector<std::string>{"UID STORE 5 +FLAGS.SILENT (\\Seen $Label1)"});
    CHECK(run.report.flags_fixed == 1);
    CHECK(run.report.failures.empty());
}

TEST_CASE("a flag that is no atom never reshapes the fix-up's UID STORE",
          "[archive][restore][injection]") {
    struct Case {
        const char* name;
        std::string flag;
    };
    const Case cases[] = {
        {"a parenthesis closes the list early", "$x) X-GM-LABELS (\\Trash"},
        {"a space makes two flags", "$a \\Deleted"},
        {"CR LF starts a second command", "$x\r\nK99 DELETE INBOX"},
        {"a quote", "$a\"b"},
        {"8-bit bytes",
         "\xc3\x9c"
         "ber"},
        {"a backslash alone", "\\"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto run = fix_up({"\\Seen", c.flag});
        for (const auto& store : run.stores) UNSCOPED_INFO("sent: " << store);
        CHECK_FALSE(run.threw);
        CHECK(run.stores.empty());  // refused before anything is sent
        CHECK(run.log.find("X-GM-LABELS") == std::string::npos);
        CHECK(run.log.find("\r\nK99 DELETE") == std::string::npos);
        CHECK(run.report.flags_fixed == 0);
        CHECK(run.report.failures.size() == 1);
        for (const auto& f : run.report.failures)
            CHECK(f.reason.find("cannot be sent") != std::string::npos);
    }
}
