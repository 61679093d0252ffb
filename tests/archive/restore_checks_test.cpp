#include <imapkeep/archive/restore.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep::archive;

TEST_CASE("APPENDLIMIT is read from the capabilities", "[archive][restore]") {
    using Caps = std::vector<std::string>;
    CHECK(append_limit(Caps{"IMAP4REV1", "APPENDLIMIT=35651584"}) == 35651584u);
    CHECK(append_limit(Caps{"appendlimit=10"}) == 10u);
    CHECK_FALSE(append_limit(Caps{"IMAP4REV1"}).has_value());
    CHECK_FALSE(append_limit(Caps{"APPENDLIMIT"}).has_value());   // per-mailbox limits only
    CHECK_FALSE(append_limit(Caps{"APPENDLIMIT="}).has_value());
    CHECK_FALSE(append_limit(Caps{"APPENDLIMIT=12x"}).has_value());
    CHECK_FALSE(append_limit(Caps{"APPENDLIMITS=5"}).has_value());
}

TEST_CASE("a restore report fails on any message or mailbox failure", "[archive][restore]") {
    RestoreReport r;
    CHECK_FALSE(r.failed());
    r.mailboxes.push_back({});
    CHECK_FALSE(r.failed());
    r.mailboxes.back().failures.push_back({1, 2, "NO"});
    CHECK(r.failed());
    r.mailboxes.back().failures.clear();
    r.mailboxes.back().error = "cannot create";
    CHECK(r.failed());
    RestoreReport account;
    account.error = "connection lost";
    CHECK(account.failed());
}

TEST_CASE("a refusal for the message's size is told from other refusals", "[archive][restore]") {
    struct Row {
        const char* status;
        const char* code;  // "" = none
        const char* text;
        bool too_big;
    };
    const Row rows[] = {
        {"NO", "TOOBIG", "Mailbox size limit", true},                          // RFC 7889 §4
        {"NO", "TOOBIG", "", true},
        {"NO", "", "Maximum size of appendable message has been exceeded.", true},  // Quirk(O365)
        {"NO", "", "Message too large.", true},                               // Gmail
        {"BAD", "", "[ALERT] Message too large.", true},
        {"NO", "", "message is too big for this folder", true},
        {"NO", "", "Message contains invalid header", false},
        {"BAD", "", "Command Argument Error. 11", false},
        {"NO", "OVERQUOTA", "Quota exceeded", false},                          // the mailbox, not the message
        {"NO", "TRYCREATE", "no such mailbox", false},
        {"OK", "", "too large, but done", false},
    };
    for (const auto& row : rows) {
        INFO(row.status << " [" << row.code << "] " << row.text);
        imapkeep::imap::Completion c;
        c.status = row.status;
        if (*row.code) c.code = imapkeep::wire::ResponseCode{row.code, "", {}};
        c.text = row.text;
        CHECK(refused_as_too_big(c) == row.too_big);
    }
}

TEST_CASE("a skipped mailbox alone does not fail a restore", "[archive][restore]") {
    RestoreReport r;
    r.mailboxes.push_back({});
    r.mailboxes.back().skipped = "Microsoft 365 reserves the folder Files";
    CHECK_FALSE(r.failed());
}
