// A Dovecot master user (ConnectOptions::master_user): SASL PLAIN with
// authzid = the mailbox user and authcid = the master (RFC 4616 §2), the way
// a hosting firm's backup reaches every mailbox with one secret.
#include <catch2/catch.hpp>

#include "integration/fleet_support.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a master user logs in as the mailbox user it names", "[integration][connect][master]") {
    if (!have_fleet_env()) return;
    for (const char* auth : {"", "plain"}) {
        DYNAMIC_SECTION("auth = \"" << auth << "\"") {
            auto o = fleet_options(2);
            o.auth = auth;
            auto client = imap::connect_and_login(o);
            REQUIRE(client->state() == imap::State::Authenticated);
            // The session is the mailbox user's: its INBOX, not the master's.
            auto names = client->list("", "INBOX");
            CHECK(names.size() == 1);
            client->logout();
        }
    }
    SECTION("another user's mailbox is another session") {
        auto a = imap::connect_and_login(fleet_options(3));
        const std::string box = unique_name("mastertest");
        a->create(box);
        auto b = imap::connect_and_login(fleet_options(4));
        CHECK(b->list("", box).empty());
        CHECK(a->list("", box).size() == 1);
        a->delete_mailbox(box);
    }
    SECTION("a wrong master password is an authentication failure naming both users") {
        auto o = fleet_options(2);
        o.password = [] { return std::string("not-the-master-password"); };
        try {
            imap::connect_and_login(o);
            FAIL("logged in with a wrong master password");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Auth);
            CHECK_THAT(e.what(), Catch::Contains(fleet_user(2)) &&
                                     Catch::Contains("master user " + o.master_user));
        }
    }
    SECTION("a master user with another mechanism is refused before it is tried") {
        auto o = fleet_options(2);
        o.auth = "login";
        CHECK_THROWS_AS(imap::connect_and_login(o), imap::ConnectError);
    }
}
