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
