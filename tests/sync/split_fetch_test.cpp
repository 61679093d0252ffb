// One message's FETCH items split over two untagged FETCH responses, the body
// in one and FLAGS, INTERNALDATE, RFC822.SIZE and MODSEQ in the other, in
// either order. IMAP is a cache-filling protocol (RFC 3501 §7: untagged data
// at any time), and servers do it: Gmail sends a second FETCH of the same UID
// (modern-email/defects#39), emailjs-imap-client merges FETCHes of one
// message "UID 123" / "MODSEQ 456" (PR #53). A backup that took the body's
// response alone stored every such message without its flags, with an
// INTERNALDATE of 1970 and no Message-ID or MODSEQ; on the CONDSTORE and
// QRESYNC paths nothing ever asked for those flags again.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("FETCH items split from the body's response are kept with the message",
          "[sync][hostile]") {
    const std::pair<const char*, ModelServer::FetchSplit> splits[] = {
        {"items first", ModelServer::FetchSplit::ItemsFirst},
        {"body first", ModelServer::FetchSplit::BodyFirst},
    };
    for (const auto& [split_name, split] : splits) {
        for (const char* path : {"qresync", "condstore", "plain"}) {
            DYNAMIC_SECTION(split_name << " / " << path) {
                ModelFixture f;
                f.account.sync_path = path;
                f.server.add_mailbox("INBOX");
                for (int i = 1; i <= 4; ++i)
                    f.server.append("INBOX", message("m" + std::to_string(i)), {"\\Seen", "$Work"},
                                    "15-Mar-2023 08:30:00 +0100");
                f.server.split_fetch = split;

                auto report = f.backup();
                INFO(errors_of(report));
                CHECK(report_ok(report));
                CHECK(f.stored("INBOX") == f.on_server("INBOX"));
                auto record = f.record("INBOX");
                REQUIRE(record);
                const auto rows = f.store.catalog->messages(record->id);
                REQUIRE(rows.size() == 4);
                for (const auto& row : rows) {
                    INFO("UID " << row.uid);
                    CHECK(row.flags == std::vector<std::string>{"$Work", "\\Seen"});
                    CHECK(row.internaldate == 1678865400);
                    CHECK(row.internaldate_zone == 3600);
                    CHECK(row.message_id == "<m" + std::to_string(row.uid) + "@example.org>");
                    if (std::string(path) != "plain")
                        CHECK(row.modseq == f.server.mailbox("INBOX").messages.at(row.uid).modseq);
                }
            }
        }
    }
}

TEST_CASE("gmail: X-GM-LABELS and FLAGS split from the body's response are kept with the message",
          "[sync][hostile][gmail]") {
    for (auto split : {ModelServer::FetchSplit::ItemsFirst, ModelServer::FetchSplit::BodyFirst}) {
        DYNAMIC_SECTION((split == ModelServer::FetchSplit::ItemsFirst ? "items first" : "body first")) {
            ModelFixture f;
            f.server.make_gmail();
            const auto msgid = f.server.gmail_deliver(message("split"), {"\\Inbox", "Work"}, {"\\Seen"});
            f.server.split_fetch = split;

            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            auto all = f.record(f.server.gmail_names().all);
            REQUIRE(all);
            const auto rows = f.store.catalog->messages(all->id);
            REQUIRE(rows.size() == 1);
            CHECK(rows[0].flags == std::vector<std::string>{"\\Seen"});
            CHECK(rows[0].message_id == "<split@example.org>");
            auto gmail = f.store.catalog->gmail_message(rows[0].id);
            REQUIRE(gmail);
            CHECK(gmail->msgid == msgid);
            CHECK(gmail->labels == std::vector<std::string>{"Work", "\\Inbox"});
        }
    }
}

TEST_CASE("a UIDVALIDITY re-match over split FETCH responses matches every message, downloads none",
          "[sync][hostile][rematch]") {
    for (auto split : {ModelServer::FetchSplit::ItemsFirst, ModelServer::FetchSplit::BodyFirst}) {
        DYNAMIC_SECTION((split == ModelServer::FetchSplit::ItemsFirst ? "items first" : "body first")) {
            ModelFixture f;
            f.server.add_mailbox("INBOX", 7);
            for (int i = 1; i <= 4; ++i)
                f.server.append("INBOX", message("r" + std::to_string(i)), {"\\Seen"});
            REQUIRE(report_ok(f.backup()));
            const auto downloads = f.server.body_fetches("INBOX");
            f.server.reset_uidvalidity("INBOX", 8);
            f.server.split_fetch = split;

            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            const auto* inbox = find_report(report, "INBOX");
            REQUIRE(inbox);
            CHECK(inbox->uidvalidity_reset);
            CHECK(inbox->expunged == 0);
            CHECK(f.server.body_fetches("INBOX") == downloads);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            for (const auto& m : f.store.catalog->messages(f.record("INBOX")->id))
                CHECK(m.flags == std::vector<std::string>{"\\Seen"});
        }
    }
}

TEST_CASE("gmail: copies stored before Gmail support are adopted over split FETCH responses",
          "[sync][hostile][gmail]") {
    for (auto split : {ModelServer::FetchSplit::ItemsFirst, ModelServer::FetchSplit::BodyFirst}) {
        DYNAMIC_SECTION((split == ModelServer::FetchSplit::ItemsFirst ? "items first" : "body first")) {
            ModelFixture f;
            f.server.make_gmail();
            f.server.gmail_deliver(message("archived"), {});
            f.server.gmail_deliver(message("a"), {"\\Inbox"});
            f.server.gmail_deliver(message("b"), {"\\Inbox", "Work"});
            // The first run as before Gmail support: label folders only.
            const auto caps = f.server.capabilities();
            auto old_caps = caps;
            old_caps.erase("X-GM-EXT-1");
            f.server.set_capabilities(old_caps);
            const auto all = f.server.gmail_names().all;
            f.account.exclude = {all, f.server.gmail_names().trash};
            REQUIRE(report_ok(f.backup()));
            const auto old_fetches = f.server.body_fetches();
            f.server.set_capabilities(caps);
            f.account.exclude = {};
            f.server.split_fetch = split;

            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            const auto* all_report = find_report(report, all);
            REQUIRE(all_report);
            CHECK(all_report->adopted == 2);
            CHECK(f.server.body_fetches() == old_fetches + 1);  // only the archived one
            CHECK(f.stored(all) == f.on_server(all));
        }
    }
}
