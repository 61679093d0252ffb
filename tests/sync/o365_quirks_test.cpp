// Microsoft 365 quirks (issue 12), measured against the model server.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

// Quirk(O365): the server re-issues UIDVALIDITY with the same messages
// (imap-backup #234: whole mailboxes downloaded again). The re-match by
// Message-ID, INTERNALDATE and size must cost no message download at all.
TEST_CASE("Quirk(O365): a UIDVALIDITY change without content change downloads no body", "[sync][quirk][o365]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX", 100);
    for (int i = 1; i <= 40; ++i)
        f.server.append("INBOX", message("o365-" + std::to_string(i), std::string(1000 + i, 'm')),
                        i % 3 == 0 ? std::vector<std::string>{"\\Seen", "$MDNSent"} : std::vector<std::string>{});
    REQUIRE(report_ok(f.backup()));
    const auto files_before = f.files("INBOX");

    f.server.reset_uidvalidity("INBOX", 200);
    f.server.clear_log();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    const auto* inbox = find_report(report, "INBOX");
    REQUIRE(inbox);
    CHECK(inbox->uidvalidity_reset);
    // The measure: no BODY[] asked, nothing new, nothing retired.
    std::size_t body_fetches = 0;
    for (const auto& line : f.server.commands())
        if (line.find("BODY.PEEK[]") != std::string::npos) ++body_fetches;
    CHECK(body_fetches == 0);
    CHECK(inbox->new_messages == 0);
    CHECK(inbox->bytes == 0);
    CHECK(inbox->expunged == 0);
    auto record = f.record("INBOX");
    REQUIRE(record);
    CHECK(record->uidvalidity == 200);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    // The same bytes, in as many files; the keyword $MDNSent kept.
    CHECK(f.files("INBOX").size() == files_before.size());
    std::size_t mdn = 0;
    for (const auto& m : f.store.catalog->messages(record->id))
        for (const auto& flag : m.flags) mdn += flag == "$MDNSent";
    CHECK(mdn == 13);
}
