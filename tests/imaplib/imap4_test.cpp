// IMAP4 against the scripted server (fake_server.hpp): the error paths of the
// issue's list, the result shapes CPython gives, and the wire format.
#include <imapkeep/imaplib.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <unistd.h>

#include "imap/scripted_server.hpp"
#include "imaplib/fake_server.hpp"
#include "imaplib/stream_imap4.hpp"

// The largest single allocation made while a test watches (a literal's
// announced size must never become one).
#include "largest_allocation.hpp"
using imapkeep::testing::g_largest_allocation;
using imapkeep::testing::kCountsAllocations;

namespace {

using imaplib::Datum;
using imaplib::IMAP4;
using imaplib_test::FakeServer;
using Pair = std::pair<std::string, std::string>;

std::vector<Datum> strings(std::initializer_list<const char*> items) {
    std::vector<Datum> out;
    for (auto s : items) out.emplace_back(std::string(s));
    return out;
}

struct Scripted {
    explicit Scripted(const std::string& fixture) : server(FakeServer::fixture(fixture)) {}
    FakeServer server;
    std::unique_ptr<IMAP4> connect() {
        return std::make_unique<IMAP4>("127.0.0.1", server.port(), 5.0);
    }
};

}  // namespace

TEST_CASE("greeting failures: NO is error, EOF and bare LF are abort", "[imaplib][fake]") {
    SECTION("bad greeting") {
        Scripted s("imaplib_bad_greeting.txt");
        try {
            s.connect();
            FAIL("no exception");
        } catch (const IMAP4::abort&) {
            FAIL("abort, but CPython raises error");
        } catch (const IMAP4::error& e) {
            CHECK(std::string(e.what()) == "* NO [UNAVAILABLE] Service not available");
        }
        CHECK(s.server.finish() == "");
    }
    SECTION("EOF during the greeting") {
        Scripted s("imaplib_greeting_eof.txt");
        CHECK_THROWS_AS(s.connect(), IMAP4::abort);
    }
    SECTION("bare LF") {
        Scripted s("imaplib_bare_lf.txt");
        CHECK_THROWS_AS(s.connect(), IMAP4::abort);
    }
    SECTION("BYE greeting is an error too") {
        FakeServer server("S: * BYE too busy\nCLOSE\n");
        CHECK_THROWS_AS(IMAP4("127.0.0.1", server.port(), 5.0), IMAP4::error);
    }
}

TEST_CASE("a line over the limit is error, not abort", "[imaplib][fake]") {
    Scripted s("imaplib_overlong.txt");
    auto saved = imaplib::MAXLINE;
    imaplib::MAXLINE = 10;
    try {
        s.connect();
        imaplib::MAXLINE = saved;
        FAIL("no exception");
    } catch (const IMAP4::abort&) {
        imaplib::MAXLINE = saved;
        FAIL("abort, but CPython raises error");
    } catch (const IMAP4::error& e) {
        imaplib::MAXLINE = saved;
        CHECK(std::string(e.what()) == "got more than 10 bytes");
    }
}

TEST_CASE("a huge literal announcement is abort without a large allocation", "[imaplib][fake]") {
    SECTION("2^63 - 1") {
        Scripted s("imaplib_huge_literal.txt");
        g_largest_allocation = 0;
        CHECK_THROWS_AS(s.connect(), IMAP4::abort);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < (1u << 20));
    }
    // test_imaplib: * OK {2^k} for k = 15..63, then the server closes.
    for (int k = 15; k < 64; ++k) {
        FakeServer server("S: * OK {" + std::to_string(1ULL << k) + "}\nCLOSE\n");
        g_largest_allocation = 0;
        INFO("k = " << k);
        CHECK_THROWS_AS(IMAP4("127.0.0.1", server.port(), 5.0), IMAP4::abort);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < (1u << 20));
    }
}

// Issue 9, case B through the façade: hostile sizes in answer to a command,
// each refused cleanly with memory flat, and the connection unusable after.
TEST_CASE("huge announcements in a reply are refused with memory flat", "[imaplib][huge]") {
    using imapkeep::testing::LazyStream;
    constexpr std::uint64_t kGiB = 1ull << 30;
    constexpr std::size_t kLineBound = 4 << 20;
    const std::string deep = std::string(10000, '(') + std::string(10000, ')');
    const struct {
        const char* name;
        LazyStream::Endless reply;
    } cases[] = {
        {"literal of 2^64 - 1", {"* 1 FETCH (BODY[] {18446744073709551615}\r\n", 0, 'a', "xyz"}},
        {"literal of 2^64", {"* 1 FETCH (BODY[] {18446744073709551616}\r\n", 0, 'a', "xyz"}},
        {"literal of 10^23", {"* 1 FETCH (BODY[] {99999999999999999999999}\r\n", 0, 'a', "xyz"}},
        {"a gigabyte without CRLF", {"* 1 FETCH (FLAGS (", kGiB, 'f', ""}},
        {"lists nested 10,000 deep", {"* 1 FETCH (UID 1 X " + deep + ")\r\n$T OK done\r\n", 0, 'a', ""}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto stream = std::make_unique<LazyStream>(
            "* OK hi\r\n", std::vector<imapkeep::testing::Rule>{{"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$T OK done\r\n"}},
            "NOOP", c.reply);
        auto* lazy = stream.get();
        imaplib_test::StreamIMAP4 M(std::move(stream));
        g_largest_allocation = 0;
        // An over-long line stays CPython's `error`; the rest are `abort`.
        CHECK_THROWS_AS(M.noop(), IMAP4::error);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kLineBound);
        CHECK(lazy->served() < 2 * kLineBound);
        CHECK_THROWS_AS(M.noop(), IMAP4::abort);
    }
}

TEST_CASE("a plain session gives CPython's results", "[imaplib][fake]") {
    Scripted s("imaplib_session.txt");
    auto M = s.connect();
    CHECK(M->state == "NONAUTH");
    CHECK(M->PROTOCOL_VERSION == "IMAP4REV1");
    CHECK(M->welcome == "* OK [CAPABILITY IMAP4rev1 IDLE ENABLE] Fake ready");
    CHECK(M->capabilities ==
          std::vector<std::string>{"IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "AUTH=CRAM-MD5", "IDLE", "ENABLE"});

    // Wrong state: refused before anything is sent.
    CHECK_THROWS_AS(M->fetch("1", "(FLAGS)"), IMAP4::error);
    CHECK_THROWS_AS(M->create("a\r\nb"), IMAP4::error);

    auto [typ, data] = M->login("tim", "p a\"ss");
    CHECK(typ == "OK");
    CHECK(data == strings({"[CAPABILITY IMAP4rev1 IDLE ENABLE QUOTA] Logged in"}));
    CHECK(M->state == "AUTH");
    // The tagged OK's code is kept, as CPython does.
    CHECK(M->untagged_responses.at("CAPABILITY") == strings({"IMAP4rev1 IDLE ENABLE QUOTA"}));

    auto quota = M->getquota("User quota");
    CHECK(quota.type == "OK");
    CHECK(quota.data == strings({"\"User quota\" (STORAGE 10 512)"}));

    auto no = M->CREATE("Archive");
    CHECK(no.type == "NO");
    CHECK(no.data == strings({"[ALREADYEXISTS] Mailbox already exists"}));
    CHECK(M->untagged_responses.at("ALREADYEXISTS") == strings({""}));

    auto sel = M->select();
    CHECK(sel.type == "OK");
    CHECK(sel.data == strings({"2"}));
    CHECK(M->state == "SELECTED");
    CHECK(M->untagged_responses.at("PERMANENTFLAGS") == strings({"(\\Seen \\*)"}));
    CHECK(M->untagged_responses.at("READ-WRITE") == strings({""}));
    CHECK(M->response("FLAGS").data == strings({"(\\Answered \\Seen $Forwarded [test])"}));
    auto uv = M->response("uidvalidity");
    CHECK(uv.type == "uidvalidity");
    CHECK(uv.data == strings({"1234"}));
    CHECK(M->response("UIDVALIDITY").data.empty());  // popped: Python's [None]

    auto [styp, sdata] = M->search(std::nullopt, "ALL");
    CHECK(styp == "OK");
    CHECK(sdata == strings({"1 2"}));

    auto f = M->fetch("1", "(RFC822)");
    REQUIRE(f.data.size() == 3);
    CHECK(std::get<Pair>(f.data[0]) == Pair{"1 (RFC822 {5}", "hello"});
    CHECK(std::get<std::string>(f.data[1]) == ")");
    CHECK(std::get<std::string>(f.data[2]) == "2 (FLAGS (\\Seen))");

    auto st = M->store("1", "+FLAGS", "\\Deleted");
    CHECK(st.data == strings({"1 (FLAGS (\\Seen \\Deleted))"}));
    CHECK(M->UID("search", "UID", "1:*").data == strings({"7 9"}));
    CHECK(M->sort("REVERSE DATE", "UTF-8", "ALL").data == strings({"2 1"}));

    // RECENT data held since SELECT comes back without a NOOP ("0" is
    // truthy in Python); the next call asks the server.
    CHECK(M->recent().data == strings({"0"}));
    auto rec = M->recent();
    CHECK(rec.type == "OK");
    CHECK(rec.data == strings({"1"}));
    CHECK(M->untagged_responses.at("EXISTS") == strings({"2", "3"}));

    auto app = M->append("INBOX", "\\Seen", "\"01-Jan-2000 00:00:00 +0000\"", "a\nbb\r\ncc\r");
    CHECK(app.type == "OK");
    CHECK(M->response("APPENDUID").data == strings({"1234 10"}));

    CHECK(M->close().type == "OK");
    CHECK(M->state == "AUTH");
    auto bye = M->logout();
    CHECK(bye.type == "BYE");
    CHECK(bye.data == strings({"Logging out"}));
    CHECK(M->state == "LOGOUT");
    CHECK(s.server.finish() == "");
    auto wire = s.server.received();
    // The literal: bare LF and CR became CRLF.
    CHECK(std::find(wire.begin(), wire.end(), "a\r\nbb\r\ncc\r\n") != wire.end());
}

TEST_CASE("an untagged BYE is abort", "[imaplib][fake]") {
    Scripted s("imaplib_bye.txt");
    auto M = s.connect();
    CHECK_THROWS_AS(M->noop(), IMAP4::abort);
    CHECK_THROWS_AS(M->noop(), IMAP4::abort);
}

TEST_CASE("READ-ONLY when read-write was asked is readonly", "[imaplib][fake]") {
    Scripted s("imaplib_readonly.txt");
    auto M = s.connect();
    CHECK(M->state == "AUTH");  // PREAUTH
    CHECK_THROWS_AS(M->select("INBOX"), IMAP4::readonly);
    auto ex = M->select("INBOX", true);
    CHECK(ex.type == "OK");
    CHECK(ex.data == strings({"2"}));
    CHECK(M->logout().type == "BYE");
    CHECK(s.server.finish() == "");
}

TEST_CASE("STARTTLS with bytes injected after the OK is refused", "[imaplib][fake]") {
    Scripted s("imaplib_starttls_injection.txt");
    auto M = s.connect();
    CHECK_THROWS_AS(M->starttls(), IMAP4::abort);
    CHECK(s.server.finish() == "");
}

TEST_CASE("a PREAUTH greeting refuses STARTTLS", "[imaplib][fake]") {
    Scripted s("imaplib_preauth_tls.txt");
    auto M = s.connect();
    CHECK(M->state == "AUTH");
    CHECK_THROWS_AS(M->starttls(), IMAP4::error);
    CHECK(M->logout().type == "BYE");
    // The server saw CAPABILITY then LOGOUT: nothing was sent for STARTTLS.
    CHECK(s.server.finish() == "");
}

TEST_CASE("getannotation and setannotation", "[imaplib][fake]") {
    Scripted s("imaplib_annotation.txt");
    auto M = s.connect();
    auto g = M->getannotation("INBOX", "/comment", "value.priv");
    CHECK(g.type == "OK");
    CHECK(g.data == strings({"INBOX \"/comment\" (\"value.priv\" \"My comment\")"}));
    // Arguments with a space are quoted; parenthesised ones are not.
    auto g2 = M->GETANNOTATION("Sent Items", "/*", "(\"value.priv\" \"size.priv\")");
    REQUIRE(g2.data.size() == 3);
    CHECK(std::get<Pair>(g2.data[0]) ==
          Pair{"\"Sent Items\" \"/comment\" (\"value.priv\" {4}", "a\r\nb"});
    CHECK(std::get<std::string>(g2.data[1]) == " \"size.priv\" \"3\")");
    CHECK(std::get<std::string>(g2.data[2]) ==
          "\"Sent Items\" \"/vendor/x\" (\"value.priv\" NIL \"size.priv\" \"0\")");
    auto set = M->setannotation("INBOX", "/comment", "(\"value.priv\" \"new comment\")", "/vendor/x",
                                "(\"value.priv\" NIL)");
    CHECK(set.data == strings({"INBOX \"/comment\" (\"value.priv\" \"new comment\")"}));
    auto no = M->SETANNOTATION("INBOX", "/comment", "(\"value.priv\" \"x\")");
    CHECK(no.type == "NO");
    CHECK(no.data == strings({"[ANNOTATE TOOBIG] Annotation too big"}));
    CHECK(M->untagged_responses.at("ANNOTATE") == strings({"TOOBIG"}));
    CHECK(M->logout().type == "BYE");
    CHECK(s.server.finish() == "");
}

TEST_CASE("AUTHENTICATE with a callable", "[imaplib][fake]") {
    SECTION("challenges decoded, answers encoded") {
        Scripted s("imaplib_authenticate.txt");
        auto M = s.connect();
        std::vector<std::string> challenges;
        auto r = M->authenticate("xfake", [&](std::string_view c) -> std::optional<std::string> {
            challenges.emplace_back(c);
            if (challenges.size() == 1) return std::string(c);
            return std::string("\0tim\0tanstaaf", 13);
        });
        CHECK(r.type == "OK");
        CHECK(challenges == std::vector<std::string>{"fake", ""});
        CHECK(M->state == "AUTH");
        CHECK(M->logout().type == "BYE");
        CHECK(s.server.finish() == "");
    }
    SECTION("nullopt sends * and the NO is an error") {
        Scripted s("imaplib_authenticate_cancel.txt");
        auto M = s.connect();
        CHECK_THROWS_AS(M->authenticate("XFAKE", [](std::string_view) { return std::optional<std::string>(); }),
                        IMAP4::error);
        CHECK(M->state == "NONAUTH");
        CHECK(M->logout().type == "BYE");
        CHECK(s.server.finish() == "");
    }
    SECTION("CRAM-MD5, RFC 2195 vector") {
        Scripted s("imaplib_cram_md5.txt");
        auto M = s.connect();
        CHECK(M->login_cram_md5("tim", "tanstaaftanstaaf").type == "OK");
        CHECK(M->logout().type == "BYE");
        CHECK(s.server.finish() == "");
    }
}

TEST_CASE("idle collects responses until the duration ends", "[imaplib][fake]") {
    Scripted s("imaplib_idle.txt");
    auto M = s.connect();
    M->select();
    auto got = M->idle(0.5);
    REQUIRE(got.size() == 2);
    CHECK(got[0].type == "EXISTS");
    CHECK(got[0].data == strings({"2"}));
    CHECK(got[1].type == "FETCH");
    REQUIRE(got[1].data.size() == 2);
    CHECK(std::get<Pair>(got[1].data[0]) == Pair{"1 (FLAGS (\\Seen) BODY[HEADER] {5}", "a\r\n\r\n"});
    // What came after DONE stays for later, as in CPython.
    CHECK(M->untagged_responses.at("EXISTS") == strings({"1", "3"}));
    CHECK(M->logout().type == "BYE");
    CHECK(s.server.finish() == "");
}

namespace {
// The seed: read, readline and send "may be overridden".
class Counting : public IMAP4 {
public:
    Counting(std::string host, int port) : IMAP4(Deferred{}) { start(std::move(host), port, 5.0); }
    std::string readline() override {
        ++lines;
        return IMAP4::readline();
    }
    void send(std::string_view data) override {
        sent += std::string(data);
        IMAP4::send(data);
    }
    int lines = 0;
    std::string sent;
};
}  // namespace

TEST_CASE("overridden readline and send carry the protocol", "[imaplib][fake]") {
    FakeServer server(
        "S: * PREAUTH IMAP4rev1 hi\nC: {TAG} CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS: {TAG} OK "
        "done\nC: {TAG} NOOP\nS: {TAG} OK done\nC: {TAG} LOGOUT\nS: * BYE bye\nS: {TAG} OK done\n");
    Counting M("127.0.0.1", server.port());
    CHECK(M.noop().type == "OK");
    CHECK(M.lines == 4);
    CHECK(M.sent.find(" NOOP\r\n") != std::string::npos);
    CHECK(M.logout().type == "BYE");
    CHECK(server.finish() == "");
}

TEST_CASE("timeout 0 is an error", "[imaplib]") {
    CHECK_THROWS_AS(IMAP4("127.0.0.1", 1, 0.0), IMAP4::error);
}

TEST_CASE("debug > 3 traces commands without the password", "[imaplib][fake]") {
    FakeServer server(
        "S: * OK IMAP4rev1 hi\nC: {TAG} CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS: {TAG} OK done\n"
        "C: {TAG} LOGIN tim \"sekrit\"\nS: {TAG} OK in\nC: {TAG} LOGOUT\nS: * BYE bye\nS: {TAG} OK done\n");
    IMAP4 M("127.0.0.1", server.port(), 5.0);
    std::FILE* capture = std::tmpfile();
    REQUIRE(capture);
    int saved = ::dup(2);
    ::dup2(::fileno(capture), 2);
    M.debug = 4;
    M.login("tim", "sekrit");
    M.logout();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::string trace;
    std::rewind(capture);
    for (int c; (c = std::fgetc(capture)) != EOF;) trace += static_cast<char>(c);
    std::fclose(capture);
    CHECK(trace.find(" LOGIN tim <password>") != std::string::npos);
    CHECK(trace.find("< * BYE bye") != std::string::npos);
    CHECK(trace.find("sekrit") == std::string::npos);
    CHECK(server.finish() == "");
}
