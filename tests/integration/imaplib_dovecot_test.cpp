// imaplib against the real Dovecot of scripts/test-env/up.sh: every command
// Dovecot implements, over plain TCP, implicit TLS and STARTTLS, and
// IMAP4_stream over Dovecot's imap binary. Skips without IMAPKEEP_TEST_*.
#include <imapkeep/imaplib.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <unistd.h>
#include "test_env.hpp"

namespace Catch {
template <>
struct StringMaker<imaplib::Datum> {
    static std::string convert(const imaplib::Datum& d) {
        if (auto* s = std::get_if<std::string>(&d)) return "\"" + *s + "\"";
        const auto& p = std::get<1>(d);
        return "(\"" + p.first + "\", <" + std::to_string(p.second.size()) + " bytes>)";
    }
};
}  // namespace Catch

namespace {

using imaplib::Datum;
using imaplib::IMAP4;
using Pair = std::pair<std::string, std::string>;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

bool skip() {
    return !imapkeep::testing::have_dovecot_env();
}

int imap_port() { return std::stoi(env("IMAPKEEP_TEST_IMAP_PORT")); }
int imaps_port() { return std::stoi(env("IMAPKEEP_TEST_IMAPS_PORT")); }

imaplib::TlsOptions test_ca() {
    imaplib::TlsOptions o;
    o.ca_file = env("IMAPKEEP_TEST_CA_FILE");
    return o;
}

std::string unique(const std::string& stem) {
    std::random_device rd;
    return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
}

const std::string& text(const Datum& d) {
    REQUIRE(std::holds_alternative<std::string>(d));
    return std::get<std::string>(d);
}

bool contains(const imaplib::Response& r, std::string_view needle) {
    return std::any_of(r.data.begin(), r.data.end(), [&](const Datum& d) {
        return std::holds_alternative<std::string>(d) &&
               std::get<std::string>(d).find(needle) != std::string::npos;
    });
}

const std::string kMessage =
    "From: alice@example.org\nTo: user1@example.org\nSubject: imaplib test\n\nhello\n";
const std::string kMessageCrlf =
    "From: alice@example.org\r\nTo: user1@example.org\r\nSubject: imaplib test\r\n\r\nhello\r\n";

// Runs every command Dovecot implements on an authenticated connection, in
// mailboxes of its own that it removes again.
void exercise(IMAP4& M) {
    REQUIRE((M.state == "AUTH"));
    const std::string top = unique("imaplib");
    const std::string box = top + "/box one";  // a space: quoted on the wire
    const std::string other = top + "/other";

    CHECK(M.noop().type == "OK");
    auto caps = M.capability();
    CHECK(caps.type == "OK");
    CHECK(contains(caps, "QUOTA"));

    auto ns = M.namespace_();
    CHECK(ns.type == "OK");
    CHECK(text(ns.data.at(0)).starts_with("((\"\" \"/\"))"));

    CHECK(M.create(top).type == "OK");
    CHECK(M.CREATE(box).type == "OK");
    auto exists = M.create(box);
    CHECK(exists.type == "NO");
    CHECK(M.untagged_responses.count("ALREADYEXISTS") == 1);
    CHECK(M.create(other).type == "OK");
    CHECK(M.subscribe(box).type == "OK");
    auto lsub = M.lsub("\"\"", top + "/*");
    CHECK(lsub.type == "OK");
    CHECK(lsub.data.size() == 1);
    CHECK(text(lsub.data.at(0)).ends_with("\"" + box + "\""));
    CHECK(M.unsubscribe(box).type == "OK");
    CHECK(M.lsub("\"\"", top + "/*").data.empty());
    auto list = M.list("\"\"", top + "/*");
    CHECK(list.data.size() == 2);

    auto st = M.status(box, "(MESSAGES UIDNEXT)");
    CHECK(st.type == "OK");
    CHECK(text(st.data.at(0)).find("(MESSAGES 0 UIDNEXT 1)") != std::string::npos);

    // APPEND: flags parenthesised, the date quoted by Time2Internaldate, bare
    // LFs sent as CRLF.
    auto app = M.append(box, "\\Seen", imaplib::Time2Internaldate(946684800), kMessage);
    CHECK(app.type == "OK");
    CHECK(text(app.data.at(0)).starts_with("[APPENDUID "));
    CHECK(M.append(box, std::nullopt, std::nullopt, kMessage).type == "OK");

    // SELECT / EXAMINE.
    auto ex = M.select(box, true);
    CHECK(ex.type == "OK");
    CHECK(ex.data == std::vector<Datum>{std::string("2")});
    CHECK(M.untagged_responses.count("READ-ONLY") == 1);
    auto sel = M.SELECT(box);
    CHECK(sel.data == std::vector<Datum>{std::string("2")});
    CHECK(M.state == "SELECTED");
    auto uidvalidity = M.response("UIDVALIDITY");
    CHECK(uidvalidity.data.size() == 1);
    CHECK(M.response("UIDVALIDITY").data.empty());

    auto [typ, data] = M.search(std::nullopt, "ALL");
    CHECK(typ == "OK");
    CHECK(data == std::vector<Datum>{std::string("1 2")});
    CHECK(M.search("UTF-8", "SUBJECT", "\"imaplib test\"").data ==
          std::vector<Datum>{std::string("1 2")});
    CHECK(M.search(std::nullopt, "SEEN").data == std::vector<Datum>{std::string("1")});

    auto f = M.fetch("1", "(RFC822)");
    CHECK(f.type == "OK");
    REQUIRE(f.data.size() == 2);
    CHECK(std::get<Pair>(f.data[0]).first.ends_with("RFC822 {" + std::to_string(kMessageCrlf.size()) + "}"));
    CHECK(std::get<Pair>(f.data[0]).second == kMessageCrlf);
    CHECK(text(f.data[1]) == ")");
    auto date = M.fetch("1", "(INTERNALDATE)");
    auto tm = imaplib::Internaldate2tuple(text(date.data.at(0)));
    REQUIRE(tm.has_value());
    CHECK(std::mktime(&*tm) == 946684800);
    auto flags = M.fetch("1:*", "(FLAGS)");
    CHECK(flags.data.size() == 2);
    auto first_flags = imaplib::ParseFlags(text(flags.data.at(0)));
    CHECK(std::count(first_flags.begin(), first_flags.end(), "\\Seen") == 1);

    auto store = M.store("2", "+FLAGS", "\\Flagged");
    CHECK(store.type == "OK");
    CHECK(text(store.data.at(0)).find("\\Flagged") != std::string::npos);
    CHECK(M.sort("REVERSE ARRIVAL", "UTF-8", "ALL").data == std::vector<Datum>{std::string("2 1")});
    auto thread = M.thread("REFERENCES", "UTF-8", "ALL");
    CHECK(thread.type == "OK");
    CHECK(thread.data == std::vector<Datum>{std::string("((1)(2))")});  // same subject: one thread

    auto uids = M.uid("SEARCH", "ALL");
    CHECK(uids.data == std::vector<Datum>{std::string("1 2")});
    auto ufetch = M.UID("FETCH", "2", "(FLAGS)");
    CHECK(text(ufetch.data.at(0)).find("UID 2") != std::string::npos);
    CHECK(M.uid("STORE", "2", "-FLAGS", "(\\Flagged)").type == "OK");
    CHECK(M.uid("COPY", "1", other).type == "OK");
    CHECK(M.copy("2", other).type == "OK");
    CHECK(M.uid("SORT", "(SUBJECT)", "UTF-8", "ALL").data == std::vector<Datum>{std::string("1 2")});
    CHECK_THROWS_AS(M.uid("BOGUS", "1"), IMAP4::error);

    CHECK(M.check().type == "OK");
    CHECK(M.recent().type == "OK");
    CHECK(M.store("1", "+FLAGS", "(\\Deleted)").type == "OK");
    auto expunged = M.expunge();
    CHECK(expunged.data == std::vector<Datum>{std::string("1")});
    CHECK(M.uid("MOVE", "2", other).type == "OK");
    CHECK(M.search(std::nullopt, "ALL").data == std::vector<Datum>{std::string("")});

    // An extension command through xatom (Dovecot has ID).
    auto id = M.xatom("ID", "NIL");
    CHECK(id.type == "OK");
    CHECK(contains(M.response("ID"), "Dovecot"));

    // IDLE: nothing happens in a second, DONE ends it cleanly.
    auto idled = M.idle(0.3);
    CHECK(idled.empty());
    CHECK(M.noop().type == "OK");

    CHECK(M.unselect().type == "OK");
    CHECK(M.state == "AUTH");
    CHECK(M.select(other).data == std::vector<Datum>{std::string("3")});
    CHECK(M.close().type == "OK");
    CHECK(M.state == "AUTH");
    CHECK_THROWS_AS(M.fetch("1", "(FLAGS)"), IMAP4::error);  // state

    // ACL and QUOTA (plugins enabled in the test config).
    const std::string user2 = env("IMAPKEEP_TEST_USER2");
    CHECK(M.setacl(box, user2, "lr").type == "OK");
    auto acl = M.getacl(box);
    CHECK(acl.type == "OK");
    CHECK(text(acl.data.at(0)).find(user2 + " lr") != std::string::npos);
    CHECK(M.deleteacl(box, user2).type == "OK");
    CHECK(text(M.getacl(box).data.at(0)).find(user2) == std::string::npos);
    auto rights = M.myrights(box);
    CHECK(text(rights.data.at(0)).starts_with("\"" + box + "\" "));
    auto root = M.getquotaroot("INBOX");
    REQUIRE(root.data.size() == 2);
    CHECK(text(root.data[0]) == "INBOX \"User quota\"");
    CHECK(text(root.data[1]).starts_with("\"User quota\" (STORAGE "));
    CHECK(text(M.getquota("User quota").data.at(0)).starts_with("\"User quota\" (STORAGE "));
    // Only an admin may change a quota: a NO, not an exception.
    CHECK(M.setquota("User quota", "(STORAGE 512)").type == "NO");
    CHECK(M.enable("CONDSTORE").type == "OK");
    CHECK(M.response("ENABLED").data == std::vector<Datum>{std::string("CONDSTORE")});

    // Commands Dovecot lacks answer BAD: error.
    CHECK_THROWS_AS(M.proxyauth(user2), IMAP4::error);
    CHECK_THROWS_AS(M.getannotation(box, "/comment", "value.priv"), IMAP4::error);

    CHECK(M.rename(other, top + "/renamed").type == "OK");
    CHECK(M.delete_(box).type == "OK");
    CHECK(M.DELETE(top + "/renamed").type == "OK");
    CHECK(M.delete_(top).type == "OK");
    CHECK(M.list("\"\"", top + "*").data.empty());

    auto bye = M.logout();
    CHECK(bye.type == "BYE");
    CHECK(M.state == "LOGOUT");
}

void login(IMAP4& M) {
    REQUIRE(M.state == "NONAUTH");
    auto r = M.login(env("IMAPKEEP_TEST_USER"), env("IMAPKEEP_TEST_PASSWORD"));
    CHECK(r.type == "OK");
}

}  // namespace

TEST_CASE("imaplib: every command over plain TCP", "[integration][imaplib]") {
    if (skip()) return;
    IMAP4 M(env("IMAPKEEP_TEST_HOST"), imap_port(), 30.0);
    CHECK(M.PROTOCOL_VERSION == "IMAP4REV1");
    CHECK(M.welcome.starts_with("* OK "));
    CHECK_THROWS_AS(M.login(env("IMAPKEEP_TEST_USER"), "wrong password"), IMAP4::error);
    login(M);
    exercise(M);
}

TEST_CASE("imaplib: implicit TLS verifies the server", "[integration][imaplib]") {
    if (skip()) return;
    SECTION("right name") {
        imaplib::IMAP4_SSL M("localhost", imaps_port(), test_ca(), 30.0);
        login(M);
        exercise(M);
    }
    SECTION("the certificate does not name 127.0.0.1") {
        CHECK_THROWS_AS(imaplib::IMAP4_SSL("127.0.0.1", imaps_port(), test_ca(), 30.0), IMAP4::abort);
    }
    SECTION("an unknown CA") {
        CHECK_THROWS_AS(imaplib::IMAP4_SSL("localhost", imaps_port(), {}, 30.0), IMAP4::abort);
    }
}

TEST_CASE("imaplib: STARTTLS", "[integration][imaplib]") {
    if (skip()) return;
    SECTION("upgrades and asks capabilities again") {
        IMAP4 M("localhost", imap_port(), 30.0);
        REQUIRE(std::count(M.capabilities.begin(), M.capabilities.end(), "STARTTLS") == 1);
        auto r = M.starttls(test_ca());
        CHECK(r.type == "OK");
        CHECK(std::count(M.capabilities.begin(), M.capabilities.end(), "STARTTLS") == 0);
        CHECK_THROWS_AS(M.starttls(test_ca()), IMAP4::abort);  // already on
        login(M);
        exercise(M);
    }
    SECTION("a wrong host name fails") {
        IMAP4 M("127.0.0.1", imap_port(), 30.0);
        CHECK_THROWS_AS(M.starttls(test_ca()), IMAP4::abort);
    }
}

TEST_CASE("imaplib: SASL over TLS", "[integration][imaplib]") {
    if (skip()) return;
    SECTION("CRAM-MD5") {
        imaplib::IMAP4_SSL M("localhost", imaps_port(), test_ca(), 30.0);
        CHECK(M.login_cram_md5(env("IMAPKEEP_TEST_USER"), env("IMAPKEEP_TEST_PASSWORD")).type == "OK");
        CHECK(M.state == "AUTH");
        CHECK(M.logout().type == "BYE");
    }
    SECTION("PLAIN through an authobject") {
        imaplib::IMAP4_SSL M("localhost", imaps_port(), test_ca(), 30.0);
        std::string creds = std::string(1, '\0') + env("IMAPKEEP_TEST_USER") + '\0' +
                            env("IMAPKEEP_TEST_PASSWORD");
        CHECK(M.authenticate("PLAIN", [&](std::string_view) { return std::optional<std::string>(creds); })
                  .type == "OK");
        CHECK(M.noop().type == "OK");
    }
    SECTION("a wrong password is an error") {
        imaplib::IMAP4_SSL M("localhost", imaps_port(), test_ca(), 30.0);
        CHECK_THROWS_AS(M.login_cram_md5(env("IMAPKEEP_TEST_USER"), "nope"), IMAP4::error);
    }
}

TEST_CASE("imaplib: IMAP4_stream over a pre-authenticated imap process", "[integration][imaplib]") {
    if (skip()) return;
    imaplib::IMAP4_stream M(env("IMAPKEEP_TEST_STREAM_COMMAND"));
    CHECK(M.state == "AUTH");
    CHECK(M.welcome.starts_with("* PREAUTH "));
    exercise(M);
}
