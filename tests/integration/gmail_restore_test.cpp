// Restore of a Gmail backup (restore_labels.hpp): to a Gmail target (the model
// server's Gmail mode) each message is appended once and gets its labels by
// X-GM-LABELS; to Dovecot the labels become folders, or keywords.
#include <catch2/catch.hpp>

#include <imapkeep/util/utf7.hpp>

#include "integration/restore_support.hpp"
#include "support/model_server.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string gmail_message(const std::string& id) {
    return "From: a@example.org\r\nSubject: " + id + "\r\nMessage-ID: <" + id +
           "@example.org>\r\n\r\nhello\r\n";
}

const std::vector<std::string> kFiveLabels = {"\\Inbox", "\\Important", "\\Starred", "Work",
                                              "Travel/2024"};

// A Gmail account (model server) with a message in five labels and an
// archived one (no label), backed up into a scratch store as "src".
struct GmailSource {
    ModelServer server;
    TempDir dir;
    Store store{dir.path};
    GmailSource() {
        server.make_gmail();
        server.gmail_deliver(gmail_message("five"), kFiveLabels);
        server.gmail_deliver(gmail_message("archived"), {});
        sync::AccountConfig a = one_connection_account("src", server.connect_options(), {"*"});
        auto r = store.backup(a);
        REQUIRE(r.error.empty());
        for (const auto& m : r.mailboxes) REQUIRE(m.errors.empty());
    }
    archive::RestoreReport restore(sync::AccountConfig target, const std::string& prefix = "") {
        archive::RestoreOptions o;
        o.source_account = "src";
        o.prefix = prefix;
        return archive::restore_account(target, *store.catalog, *store.messages, o);
    }
};

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("gmail restore: to Gmail, one APPEND per message, then its labels", "[restore][gmail]") {
    GmailSource source;
    ModelServer target;
    target.make_gmail();
    auto account = one_connection_account("dst", target.connect_options(), {"*"});
    auto report = source.restore(account);
    INFO(describe(report));
    REQUIRE_FALSE(report.failed());
    CHECK(target.count_commands("APPEND") == 2);
    const auto& all = target.mailbox(target.gmail_names().all);
    REQUIRE(all.messages.size() == 2);
    std::map<std::string, std::vector<std::string>> labels_by_body;
    for (const auto& [uid, m] : all.messages) labels_by_body[m.body] = sorted(m.gm_labels);
    CHECK(labels_by_body[gmail_message("five")] == sorted(kFiveLabels));
    CHECK(labels_by_body[gmail_message("archived")].empty());
    // The label mailboxes show it, as Gmail would.
    CHECK(target.mailbox("Work").messages.size() == 1);
    CHECK(target.mailbox("INBOX").messages.size() == 1);

    // Again: the journal knows both, nothing is appended twice.
    auto again = source.restore(account);
    INFO(describe(again));
    CHECK_FALSE(again.failed());
    CHECK(target.count_commands("APPEND") == 2);
    CHECK(target.mailbox(target.gmail_names().all).messages.size() == 2);
}

// --prefix keeps restored mail apart from the live mailboxes: on Gmail the
// labels are those mailboxes, so each label goes under the prefix too (the
// mailbox the "folders" mode would make), none in the live Inbox.
TEST_CASE("gmail restore: to Gmail under --prefix, every label under the prefix", "[restore][gmail]") {
    GmailSource source;
    for (const char* prefix : {"Restored/", "Old mail/2024", "Gerettet/\xc3\x84lter"}) {
        DYNAMIC_SECTION("prefix " << prefix) {
            ModelServer target;
            target.make_gmail();
            auto account = one_connection_account("dst", target.connect_options(), {"*"});
            auto report = source.restore(account, prefix);
            INFO(describe(report));
            REQUIRE_FALSE(report.failed());
            CHECK(target.count_commands("APPEND") == 2);
            std::string root = prefix;
            if (root.ends_with('/')) root.pop_back();
            root = util::utf7_encode(root);
            std::vector<std::string> expected;
            for (const char* folder : {"INBOX", "Important", "Starred", "Work", "Travel/2024"})
                expected.push_back(root + "/" + folder);
            std::map<std::string, std::vector<std::string>> labels_by_body;
            for (const auto& [uid, m] : target.mailbox(target.gmail_names().all).messages)
                labels_by_body[m.body] = sorted(m.gm_labels);
            CHECK(labels_by_body[gmail_message("five")] == sorted(expected));
            CHECK(labels_by_body[gmail_message("archived")].empty());
            CHECK(target.mailbox("INBOX").messages.empty());
            CHECK(target.mailbox(root + "/Work").messages.size() == 1);
        }
    }
}

TEST_CASE("gmail restore: to Dovecot, one folder per label, or keywords", "[restore][gmail]") {
    if (!have_dovecot_env()) return;
    GmailSource source;
    auto c2 = imap::connect_and_login(server_options(ServerKind::Dovecot, 2));
    const std::string d = hierarchy_delimiter(*c2);
    SECTION("folders") {
        const std::string root = unique_name("ikgm");
        auto report = source.restore(
            one_connection_account("dst", server_options(ServerKind::Dovecot, 2), {"*"}),
            root + "/");
        INFO(describe(report));
        CHECK_FALSE(report.failed());
        const auto five = util::sha256_hex(gmail_message("five"));
        const auto archived = util::sha256_hex(gmail_message("archived"));
        for (const char* folder : {"INBOX", "Important", "Starred", "Work", "Travel/2024"}) {
            INFO(folder);
            auto held = shas(fetch_messages(*c2, with_delimiter(root + "/" + folder, d)));
            CHECK(held == std::multiset<std::string>{five});
        }
        auto all = shas(fetch_messages(*c2, with_delimiter(root + "/[Gmail]/All Mail", d)));
        CHECK(all == std::multiset<std::string>{archived});
        delete_tree(*c2, root);
    }
    SECTION("keywords") {
        const std::string root = unique_name("ikgk");
        auto account = one_connection_account("dst", server_options(ServerKind::Dovecot, 2), {"*"});
        account.restore_labels = "keywords";
        auto report = source.restore(account, root + "/");
        INFO(describe(report));
        CHECK_FALSE(report.failed());
        auto held = fetch_messages(*c2, with_delimiter(root + "/[Gmail]/All Mail", d));
        REQUIRE(held.size() == 2);
        bool found = false;
        for (const auto& m : held) {
            if (m.sha256 != util::sha256_hex(gmail_message("five"))) continue;
            found = true;
            auto has = [&](const std::string& k) {
                return std::find(m.flags.begin(), m.flags.end(), k) != m.flags.end();
            };
            CHECK(has("$Inbox"));
            CHECK(has("$Important"));
            CHECK(has("$Starred"));
            CHECK(has("Work"));
            CHECK(has("Travel/2024"));
        }
        CHECK(found);
        delete_tree(*c2, root);
    }
}
