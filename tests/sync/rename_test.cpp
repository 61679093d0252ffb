// A catalog mailbox gone from the server is taken for a renamed one only on
// evidence: the same MAILBOXID (RFC 8474), or the same UIDVALIDITY plus
// messages that match at the UIDs both sides know. RFC 3501 makes UIDVALIDITY
// unique per name only, so a new mailbox may reuse a deleted one's.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

const std::set<std::string> kWithObjectId = {"ENABLE",  "CONDSTORE",   "QRESYNC",
                                             "ESEARCH", "LIST-STATUS", "OBJECTID"};
const std::set<std::string> kWithoutObjectId = {"ENABLE", "CONDSTORE", "QRESYNC", "ESEARCH",
                                                "LIST-STATUS"};
const std::set<std::string> kBare = {};

}  // namespace

TEST_CASE("a deleted mailbox and a new one with the same UIDVALIDITY are not a rename",
          "[sync][rename]") {
    for (const auto* caps : {&kWithObjectId, &kWithoutObjectId, &kBare}) {
        DYNAMIC_SECTION("capabilities: " << caps->size()) {
            ModelFixture f;
            f.server.set_capabilities(*caps);
            f.server.same_uidvalidity = 500;
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Old");
            for (int i = 1; i <= 3; ++i) f.server.append("Old", message("old" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));

            f.server.delete_mailbox("Old");
            f.server.add_mailbox("New");
            for (int i = 1; i <= 5; ++i) f.server.append("New", message("new" + std::to_string(i)));
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            const auto* created = find_report(report, "New");
            REQUIRE(created);
            CHECK_FALSE(created->renamed);
            CHECK(f.stored("New") == f.on_server("New"));
            CHECK_FALSE(f.record("Old"));
            // Old's messages went to the attic with their history.
            auto id = f.store.catalog->find_account("acct");
            auto old = f.store.catalog->find_mailbox(*id, "Old");
            REQUIRE(old);
            CHECK(old->deleted_at);
            auto rows = f.store.catalog->all_messages(old->id);
            CHECK(rows.size() == 3);
            for (const auto& m : rows) CHECK(m.expunged_at);
        }
    }
}

TEST_CASE("a real rename is still found, with or without MAILBOXID", "[sync][rename]") {
    for (const auto* caps : {&kWithObjectId, &kWithoutObjectId, &kBare}) {
        DYNAMIC_SECTION("capabilities: " << caps->size()) {
            ModelFixture f;
            f.server.set_capabilities(*caps);
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Old", 500);
            for (int i = 1; i <= 3; ++i) f.server.append("Old", message("old" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));

            f.server.rename_mailbox("Old", "New");
            f.server.expunge("New", 1);
            f.server.append("New", message("after"));
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            bool renamed = false;
            for (const auto& m : report.mailboxes)
                renamed = renamed || (m.renamed && m.renamed_from == "Old");
            CHECK(renamed);
            CHECK(f.stored("New") == f.on_server("New"));
            CHECK_FALSE(f.record("Old"));
        }
    }
}
