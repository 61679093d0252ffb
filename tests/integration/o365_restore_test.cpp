// Restore into Microsoft 365 (the model server's O365 mode, O365Quirks): its
// reserved Files folder, the keywords it refuses, its message size limit, and
// the BYE after 10 refused commands. No real server needed: these always run.
#include <catch2/catch.hpp>

#include <strings.h>

#include "integration/restore_support.hpp"
#include "support/model_server.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string mail(const std::string& id, const std::string& text = "hello") {
    return "From: a@example.org\r\nSubject: " + id + "\r\nMessage-ID: <" + id + "@example.org>\r\n\r\n" + text +
           "\r\n";
}

// An account on an ordinary server (the model's default mode), backed up
// into a scratch store as "src".
struct Source {
    ModelServer server;
    TempDir dir;
    Store store{dir.path};
    Source() { server.add_mailbox("INBOX"); }
    void backup() {
        auto r = store.backup(one_connection_account("src", server.connect_options(), {"*"}));
        REQUIRE(r.error.empty());
        for (const auto& m : r.mailboxes) REQUIRE(m.errors.empty());
    }
    // The restore journal is per target account: a new target, a new name.
    archive::RestoreReport restore(ModelServer& target, const std::string& prefix = "",
                                   const std::string& account = "dst") {
        archive::RestoreOptions o;
        o.source_account = "src";
        o.prefix = prefix;
        o.settle_quiet = std::chrono::milliseconds(10);
        return archive::restore_account(one_connection_account(account, target.connect_options(), {"*"}),
                                        *store.catalog, *store.messages, o);
    }
};

const archive::RestoreMailboxReport* mailbox_report(const archive::RestoreReport& r, const std::string& source) {
    for (const auto& m : r.mailboxes)
        if (m.source == source) return &m;
    return nullptr;
}

// APPEND commands naming `mailbox` (as an atom or a quoted string).
std::size_t appends_to(const ModelServer& server, const std::string& mailbox) {
    std::size_t n = 0;
    for (const auto& line : server.commands())
        n += line.find(" APPEND " + mailbox + " ") != std::string::npos ||
             line.find(" APPEND \"" + mailbox + "\" ") != std::string::npos;
    return n;
}

bool has_flag(const std::vector<std::string>& flags, const std::string& flag) {
    return std::any_of(flags.begin(), flags.end(),
                       [&](const std::string& f) { return strcasecmp(f.c_str(), flag.c_str()) == 0; });
}

std::multiset<std::string> bodies(ModelServer& server, const std::string& mailbox) {
    std::multiset<std::string> out;
    for (const auto& [uid, m] : server.mailbox(mailbox).messages) out.insert(m.body);
    return out;
}

}  // namespace

TEST_CASE("Quirk(O365): restore never CREATEs or APPENDs into the reserved Files folder; a note, the rest goes on",
          "[restore][o365]") {
    Source source;
    source.server.add_mailbox("Files");  // an ordinary folder of that name on the source server
    source.server.append("INBOX", mail("in-1"));
    source.server.append("Files", mail("files-1"));
    source.server.append("Files", mail("files-2"));
    source.backup();
    for (bool listed : {true, false}) {
        INFO("the target lists Files: " << listed);
        ModelServer target;
        O365Quirks quirks;
        quirks.files_listed = listed;
        target.make_o365(quirks, 1);
        auto report = source.restore(target, "", listed ? "dst-listed" : "dst-hidden");
        INFO(describe(report));
        CHECK_FALSE(report.failed());
        const auto* files = mailbox_report(report, "Files");
        REQUIRE(files);
        CHECK(files->skipped.find("Microsoft 365 reserves the folder Files") != std::string::npos);
        CHECK(files->skipped.find("--prefix") != std::string::npos);
        CHECK(files->failures.empty());
        CHECK(files->error.empty());
        CHECK(files->appended == 0);
        CHECK(appends_to(target, "Files") == 0);
        CHECK(target.count_commands("CREATE") == 0);
        CHECK(target.mailbox("Files").messages.size() == 1);  // its own item only
        CHECK(bodies(target, "INBOX") == std::multiset<std::string>{mail("in-1")});
        CHECK(target.o365_errors() == 0);
    }
    // Under another name, as the note says, it is restored.
    ModelServer target;
    target.make_o365({}, 1);
    auto report = source.restore(target, "Restored/", "dst-prefixed");
    INFO(describe(report));
    CHECK_FALSE(report.failed());
    CHECK(bodies(target, "Restored/Files") == std::multiset<std::string>{mail("files-1"), mail("files-2")});
}

// Quirk(O365): PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft
// $MDNSent), no \*; any other keyword in an APPEND or STORE is "BAD Command
// Argument Error. 11". Such keywords are dropped (and reported), never a
// refused message; $MDNSent, which it takes, stays, so no read receipt is
// sent again for these messages.
TEST_CASE("Quirk(O365): keywords outside PERMANENTFLAGS are dropped and reported, $MDNSent is kept",
          "[restore][o365]") {
    Source source;
    source.server.append("INBOX", mail("a"), {"\\Seen", "$MDNSent"});
    source.server.append("INBOX", mail("b"), {"$Forwarded", "\\Flagged"});
    source.server.append("INBOX", mail("c"), {"Work", "$MDNSent", "$Junk"});
    source.backup();
    ModelServer target;
    target.make_o365({}, 0);
    auto report = source.restore(target);
    INFO(describe(report));
    CHECK_FALSE(report.failed());
    CHECK(target.o365_errors() == 0);
    const auto* inbox = mailbox_report(report, "INBOX");
    REQUIRE(inbox);
    CHECK(inbox->appended == 3);
    CHECK(inbox->dropped_keywords == std::map<std::string, std::uint64_t>{{"$Forwarded", 1}, {"$Junk", 1}, {"Work", 1}});
    std::map<std::string, std::vector<std::string>> flags;
    for (const auto& [uid, m] : target.mailbox("INBOX").messages) flags[m.body] = m.flags;
    REQUIRE(flags.size() == 3);
    CHECK(has_flag(flags[mail("a")], "$MDNSent"));
    CHECK(has_flag(flags[mail("a")], "\\Seen"));
    CHECK(has_flag(flags[mail("b")], "\\Flagged"));
    CHECK_FALSE(has_flag(flags[mail("b")], "$Forwarded"));
    CHECK(has_flag(flags[mail("c")], "$MDNSent"));
    CHECK_FALSE(has_flag(flags[mail("c")], "Work"));
}

// Quirk(O365): "NO Maximum size of appendable message has been exceeded"
// (35-45 MB; here 2.5 MB), announced nowhere. The first message over it fails
// alone with a clear error; a larger one is not sent at all; the rest is
// restored and the report fails (exit 1).
TEST_CASE("Quirk(O365): a message over the size limit fails alone, larger ones are not sent", "[restore][o365]") {
    Source source;
    const std::string big = mail("big", std::string(3u << 20, 'b'));
    const std::string bigger = mail("bigger", std::string(4u << 20, 'c'));
    for (const auto& body : {mail("s1"), big, mail("s2"), bigger, mail("s3")}) source.server.append("INBOX", body);
    source.backup();
    ModelServer target;
    O365Quirks quirks;
    quirks.max_append = 2500u << 10;
    quirks.max_line = 0;
    SECTION("the server says so at the first one") {
        target.make_o365(quirks, 0);
        auto report = source.restore(target);
        INFO(describe(report));
        CHECK(report.failed());
        CHECK(report.error.empty());
        const auto* inbox = mailbox_report(report, "INBOX");
        REQUIRE(inbox);
        CHECK(inbox->appended == 3);
        REQUIRE(inbox->failures.size() == 2);
        CHECK(inbox->failures[0].uid == 2);
        CHECK(inbox->failures[0].reason.find("too large for the target") != std::string::npos);
        CHECK(inbox->failures[0].reason.find("Maximum size of appendable message") != std::string::npos);
        CHECK(inbox->failures[1].uid == 4);
        CHECK(inbox->failures[1].reason.find("not sent") != std::string::npos);
        CHECK(target.count_commands("APPEND") == 4);
        CHECK(target.o365_errors() == 1);
        CHECK(bodies(target, "INBOX") == std::multiset<std::string>{mail("s1"), mail("s2"), mail("s3")});
    }
    SECTION("the server announces APPENDLIMIT") {
        quirks.announce_append_limit = true;
        target.make_o365(quirks, 0);
        auto report = source.restore(target);
        INFO(describe(report));
        const auto* inbox = mailbox_report(report, "INBOX");
        REQUIRE(inbox);
        REQUIRE(inbox->failures.size() == 2);
        for (const auto& f : inbox->failures) CHECK(f.reason.find("APPENDLIMIT") != std::string::npos);
        CHECK(target.count_commands("APPEND") == 3);
        CHECK(target.o365_errors() == 0);
    }
}

// Quirk(O365): "Office365 closes the connection after 10 errors". A restore
// whose messages the target refuses (lines over 10,500 characters: "BAD
// Command Argument Error. 11") gets the BYE; it connects again and goes on:
// every other message restored once, each refused one reported once.
TEST_CASE("Quirk(O365): a restore goes on after the BYE that follows 10 refused commands", "[restore][o365]") {
    Source source;
    std::multiset<std::string> good;
    for (int i = 1; i <= 30; ++i) {
        const bool refused = i % 5 == 1 || i % 5 == 3;  // 12 of 30
        auto body = mail("m" + std::to_string(i), refused ? std::string(11000, 'x') : "fine");
        source.server.append("INBOX", body);
        if (!refused) good.insert(body);
    }
    source.backup();
    ModelServer target;
    target.make_o365({}, 0);
    auto report = source.restore(target);
    INFO(describe(report));
    CHECK(report.error.empty());
    CHECK(target.connections_opened() >= 2);
    const auto* inbox = mailbox_report(report, "INBOX");
    REQUIRE(inbox);
    CHECK(bodies(target, "INBOX") == good);  // each once
    CHECK(inbox->appended == good.size());
    REQUIRE(inbox->failures.size() == 12);
    for (const auto& f : inbox->failures) CHECK(f.reason.find("Command Argument Error") != std::string::npos);
    CHECK(target.o365_errors() == 12);

    // Again: the journal knows what landed; the refused ones fail again, alone.
    auto again = source.restore(target);
    INFO(describe(again));
    CHECK(again.error.empty());
    CHECK(bodies(target, "INBOX") == good);
}

// RFC 7889 §4: "APPENDLIMIT" without a value means limits per mailbox, which
// STATUS (APPENDLIMIT) tells. A larger message fails unsent; NIL is no limit.
TEST_CASE("a target mailbox's own APPENDLIMIT (STATUS) is checked before the literal is sent", "[restore][appendlimit]") {
    Source source;
    source.server.add_mailbox("Small");
    source.server.add_mailbox("Any");
    for (const char* mailbox : {"Small", "Any"}) {
        source.server.append(mailbox, mail(std::string(mailbox) + "-short"));
        source.server.append(mailbox, mail(std::string(mailbox) + "-long", std::string(5000, 'l')));
    }
    source.backup();
    ModelServer target;
    auto caps = target.capabilities();
    caps.insert("APPENDLIMIT");
    target.set_capabilities(caps);
    target.add_mailbox("INBOX");
    target.add_mailbox("Small").append_limit = 2000;
    target.add_mailbox("Any");  // NIL: no limit
    auto report = source.restore(target);
    INFO(describe(report));
    const auto* small = mailbox_report(report, "Small");
    REQUIRE(small);
    CHECK(small->appended == 1);
    REQUIRE(small->failures.size() == 1);
    CHECK(small->failures[0].uid == 2);
    CHECK(small->failures[0].reason.find("APPENDLIMIT of Small (2000 bytes); not sent") != std::string::npos);
    CHECK(appends_to(target, "Small") == 1);
    const auto* any = mailbox_report(report, "Any");
    REQUIRE(any);
    CHECK(any->appended == 2);
    CHECK(any->failures.empty());
    CHECK(report.failed());
}
