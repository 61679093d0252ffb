// LIST naming the same mailbox twice, with the same bytes. RFC 5258 §3 says a
// server returns a mailbox once; servers are known to repeat names anyway.
// Two workers syncing one mailbox at once would download its new mail twice
// and race on its catalog rows.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"
#include "sync/repeated_entries.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a mailbox LIST names twice is synced once", "[sync][hostile]") {
    for (const char* path : {"qresync", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.account.connections = 3;
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Work");
            for (int i = 1; i <= 20; ++i) f.server.append("Work", message("w" + std::to_string(i)));
            f.server.append("INBOX", message("i1"));
            f.server.on_reply = [](const ModelCommand& c, std::string& reply, bool&) {
                if (c.name != "LIST") return;
                const auto at = reply.find("* LIST");
                const auto work = reply.find("Work");
                if (at == std::string::npos || work == std::string::npos) return;
                const auto start = reply.rfind("* LIST", work);
                const auto end = reply.find("\r\n", work) + 2;
                reply.insert(start, reply.substr(start, end - start));
            };
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            std::size_t work_reports = 0;
            for (const auto& m : report.mailboxes) work_reports += m.name == "Work";
            CHECK(work_reports == 1);
            CHECK(f.stored("Work") == f.on_server("Work"));
            CHECK(f.server.body_fetches("Work") == 20);
            auto again = f.backup();
            INFO(errors_of(again));
            CHECK(report_ok(again));
            CHECK(f.server.body_fetches("Work") == 20);
        }
    }
}

TEST_CASE("drop_repeated_entries keeps one entry per wire name, the first selectable one",
          "[sync][hostile]") {
    auto entry = [](std::vector<std::string> attributes, std::string raw) {
        imap::ListEntry e;
        e.attributes = std::move(attributes);
        e.delimiter = "/";
        e.name = raw;
        e.raw_name = std::move(raw);
        return e;
    };
    std::vector<imap::ListEntry> entries = {
        entry({"\\Noselect"}, "A"), entry({}, "B"), entry({"\\HasNoChildren"}, "A"), entry({"\\Sent"}, "B"),
        entry({}, "b"),  // another name: RFC 3501 names are case-sensitive
    };
    sync::drop_repeated_entries(entries);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].raw_name == "A");
    CHECK(entries[0].selectable());
    CHECK(entries[0].attributes == std::vector<std::string>{"\\HasNoChildren"});
    CHECK(entries[1].raw_name == "B");
    CHECK(entries[1].attributes.empty());
    CHECK(entries[2].raw_name == "b");
}
