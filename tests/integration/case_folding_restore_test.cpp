// Restore into a target whose mailbox names ignore case (Quirk(Gmail),
// Quirk(O365): the model server's fold_case()), from a source that holds
// names differing only in case: two source mailboxes never become one. No
// real server needed: these always run. layouts_test shows that nothing
// changes on the case-sensitive Dovecot and Cyrus.
#include <catch2/catch.hpp>

#include "integration/restore_support.hpp"
#include "support/model_server.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string mail(const std::string& id) {
    return "From: a@example.org\r\nSubject: " + id + "\r\nMessage-ID: <" + id + "@example.org>\r\n\r\n" + id + "\r\n";
}

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
    archive::RestoreReport restore(ModelServer& target, std::vector<std::string> mailboxes = {}) {
        archive::RestoreOptions o;
        o.source_account = "src";
        o.mailbox_patterns = std::move(mailboxes);
        o.settle_quiet = std::chrono::milliseconds(10);
        return archive::restore_account(one_connection_account("dst", target.connect_options(), {"*"}),
                                        *store.catalog, *store.messages, o);
    }
};

const archive::RestoreMailboxReport& mailbox_report(const archive::RestoreReport& r, const std::string& source) {
    for (const auto& m : r.mailboxes)
        if (m.source == source) return m;
    FAIL("no report for " << source);
    throw;
}

std::set<std::string> subjects(ModelServer& server, const std::string& mailbox) {
    std::set<std::string> out;
    for (const auto& [uid, m] : server.mailbox(mailbox).messages) {
        const auto at = m.body.find("Subject: ");
        out.insert(m.body.substr(at + 9, m.body.find("\r\n", at) - at - 9));
    }
    return out;
}

bool noted(const archive::RestoreReport& r, const std::string& words) {
    return std::any_of(r.notes.begin(), r.notes.end(), [&](const auto& n) { return n.find(words) != std::string::npos; });
}

}  // namespace

TEST_CASE("Quirk(Gmail), Quirk(O365): on a target that folds case, Foo and foo stay two folders, the second apart",
          "[restore][case]") {
    // Gmail answers the CREATE of a name it holds in another case NO
    // [ALREADYEXISTS]; a server may also say a bare NO, or OK and make nothing.
    for (const std::string reply : {"NO [ALREADYEXISTS] Duplicate folder name foo (Failure)",
                                    "NO Folder already exists", "OK CREATE completed"}) {
        DYNAMIC_SECTION(reply) {
            Source source;
            for (const auto* box : {"Foo", "foo", "Foo/Bar", "foo/Bar", "INBOX/x", "Inbox/x"}) source.server.add_mailbox(box);
            source.server.append("Foo", mail("upper"));
            source.server.append("foo", mail("lower"));
            source.server.append("Foo/Bar", mail("upper-child"));
            source.server.append("foo/Bar", mail("lower-child"));
            source.server.append("INBOX/x", mail("inbox-child"));
            source.server.append("Inbox/x", mail("mixed-inbox-child"));
            source.backup();

            ModelServer target;
            target.fold_case(reply);
            target.add_mailbox("INBOX");
            auto r = source.restore(target);
            INFO(describe(r));
            for (const auto& m : r.mailboxes) CHECK(m.error.empty());
            // The first in name order keeps its name; the other goes under a
            // name of its own, the same on every run, and the run says so.
            CHECK(mailbox_report(r, "Foo").target == "Foo");
            CHECK(mailbox_report(r, "foo").target == "foo (2)");
            CHECK(mailbox_report(r, "Foo/Bar").target == "Foo/Bar");
            CHECK(mailbox_report(r, "foo/Bar").target == "foo (2)/Bar");  // below its parent
            CHECK(mailbox_report(r, "INBOX/x").target == "INBOX/x");
            CHECK(mailbox_report(r, "Inbox/x").target == "Inbox/x (2)");
            CHECK(noted(r, "foo (2)"));
            CHECK(subjects(target, "Foo") == std::set<std::string>{"upper"});
            CHECK(subjects(target, "foo (2)") == std::set<std::string>{"lower"});
            CHECK(subjects(target, "Foo/Bar") == std::set<std::string>{"upper-child"});
            CHECK(subjects(target, "foo (2)/Bar") == std::set<std::string>{"lower-child"});
            CHECK(subjects(target, "INBOX/x") == std::set<std::string>{"inbox-child"});
            CHECK(subjects(target, "Inbox/x (2)") == std::set<std::string>{"mixed-inbox-child"});

            // Again, and for one of the pair alone: the same names, nothing twice.
            auto again = source.restore(target);
            INFO(describe(again));
            CHECK(mailbox_report(again, "foo").target == "foo (2)");
            CHECK(mailbox_report(again, "foo").appended == 0);
            auto alone = source.restore(target, {"foo"});
            INFO(describe(alone));
            CHECK(mailbox_report(alone, "foo").target == "foo (2)");
            CHECK(mailbox_report(alone, "foo").appended == 0);
            CHECK(subjects(target, "Foo") == std::set<std::string>{"upper"});
            CHECK(subjects(target, "foo (2)") == std::set<std::string>{"lower"});
        }
    }
}

TEST_CASE("on a target that folds case, one source mailbox goes into the folder it holds in another case",
          "[restore][case]") {
    Source source;
    source.server.add_mailbox("archive");
    source.server.append("archive", mail("a"));
    source.backup();
    ModelServer target;
    target.fold_case();
    target.add_mailbox("INBOX");
    target.add_mailbox("Archive");
    auto r = source.restore(target);
    INFO(describe(r));
    CHECK(mailbox_report(r, "archive").error.empty());
    CHECK(subjects(target, "Archive") == std::set<std::string>{"a"});
    CHECK_FALSE(target.has_mailbox("archive (2)"));
}

TEST_CASE("a restore without names that differ only in case asks LIST nothing more", "[restore][case]") {
    // The look-up after CREATE is only for names that share their folded
    // form with another: an ordinary account costs no round trip.
    Source source;
    for (const auto* box : {"Foo", "Bar", "Foo/Baz"}) {
        source.server.add_mailbox(box);
        source.server.append(box, mail(box));
    }
    source.backup();
    for (const bool folding : {false, true}) {
        ModelServer target;
        if (folding) target.fold_case();
        target.add_mailbox("INBOX");
        auto r = source.restore(target);
        INFO(describe(r));
        CHECK_FALSE(r.failed());
        CHECK(r.notes.empty());
        std::size_t lists = 0;
        for (const auto& line : target.commands()) lists += line.find(" LIST ") != std::string::npos;
        CHECK(lists == 2);  // the delimiter, and every mailbox: learn_target()
    }
}
