// Ctrl-C (BackupOptions::stop): the engine stops at a durable boundary, after
// a catalog commit and never inside one; Progress::messages_saved counts what
// those commits made durable; the next run finishes without loss or duplicates.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct StopPoint {
    const char* name;
    // The command whose arrival raises the flag, as a signal would.
    std::function<bool(const ModelCommand&)> raise_on;
    std::uint64_t saved;  // messages durable when the engine stops
};

bool body_fetch(const ModelCommand& c) {
    return c.name == "UID FETCH" && c.text.find("BODY.PEEK[]") != std::string::npos;
}

const StopPoint kStopPoints[] = {
    // The first batch (200 messages) is being fetched: it commits, then stops;
    // the batches already pipelined are abandoned.
    {"during the first batch", [](const ModelCommand& c) { return body_fetch(c); }, 200},
    // Before any body: the mailbox's first durable step is its record.
    {"at the first EXAMINE", [](const ModelCommand& c) { return c.name == "EXAMINE"; }, 0},
    // Raised before the run starts: nothing is synced at all.
    {"before the run", [](const ModelCommand& c) { return c.name == "LOGIN"; }, 0},
};

sync::AccountReport backup_with(ModelFixture& f, sync::Progress* progress,
                                const std::atomic<bool>* stop) {
    sync::BackupOptions options;
    options.open_catalog = [path = (f.store.root / "catalog.sqlite").string()] { return store::open_sqlite_catalog(path); };
    options.progress = progress;
    options.stop = stop;
    return sync::backup_account(f.account, *f.store.catalog, *f.store.messages, options);
}

}  // namespace

TEST_CASE("a stop request ends the run at a durable boundary; the next run resumes",
          "[sync][stop]") {
    for (const auto& point : kStopPoints) {
        DYNAMIC_SECTION(point.name) {
            ModelFixture f;
            f.account.connections = 1;
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Later");
            for (int i = 1; i <= 450; ++i)
                f.server.append("INBOX", message("m" + std::to_string(i)));
            for (int i = 1; i <= 3; ++i) f.server.append("Later", message("l" + std::to_string(i)));

            std::atomic<bool> stop{false};
            f.server.on_command = [&](const ModelCommand& c) {
                if (point.raise_on(c)) stop = true;
            };
            sync::Progress progress;
            CHECK_THROWS_AS(backup_with(f, &progress, &stop), sync::StopRequested);
            CHECK(progress.messages_saved == point.saved);
            CHECK(f.stored("INBOX").size() == point.saved);
            CHECK(f.stored("Later").empty());  // never started: stopped before the next mailbox

            f.server.on_command = nullptr;
            std::atomic<bool> no_stop{false};
            sync::Progress resumed;
            auto report = backup_with(f, &resumed, &no_stop);
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(resumed.messages_saved == 453 - point.saved);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.stored("Later") == f.on_server("Later"));
        }
    }
}

TEST_CASE("messages_saved counts only committed messages", "[sync][stop]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    sync::Progress progress;
    REQUIRE(report_ok(backup_with(f, &progress, nullptr)));
    CHECK(progress.messages_saved == 5);
    CHECK(progress.messages_done == 5);
    sync::Progress again;
    REQUIRE(report_ok(backup_with(f, &again, nullptr)));
    CHECK(again.messages_saved == 0);
}

namespace {

struct TotalsCase {
    const char* name;
    bool list_status;
    bool status_for_totals;
    bool expect_up_front;  // the whole total is known before the first body
};

const TotalsCase kTotals[] = {
    {"LIST-STATUS", true, false, true},
    {"STATUS per mailbox without LIST-STATUS", false, true, true},
    {"neither: counted as each mailbox starts", false, false, false},
};

// messages_total when the first body FETCH of the run is sent.
std::uint64_t total_at_first_fetch(ModelFixture& f, const TotalsCase& c, sync::Progress& progress) {
    std::optional<std::uint64_t> seen;
    f.server.on_command = [&](const ModelCommand& cmd) {
        if (!seen && body_fetch(cmd)) seen = progress.messages_total.load();
    };
    sync::BackupOptions options;
    options.open_catalog = [path = (f.store.root / "catalog.sqlite").string()] { return store::open_sqlite_catalog(path); };
    options.progress = &progress;
    options.status_for_totals = c.status_for_totals;
    auto report = sync::backup_account(f.account, *f.store.catalog, *f.store.messages, options);
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    f.server.on_command = nullptr;
    return seen.value_or(0);
}

}  // namespace

TEST_CASE("progress totals come from LIST-STATUS/STATUS before any mailbox is synced",
          "[sync][progress]") {
    for (const auto& c : kTotals) {
        DYNAMIC_SECTION(c.name) {
            ModelFixture f;
            f.account.connections = 1;
            if (!c.list_status) {
                auto caps = f.server.capabilities();
                caps.erase("LIST-STATUS");
                f.server.set_capabilities(caps);
            }
            f.server.add_mailbox("A");
            f.server.add_mailbox("B");
            for (int i = 1; i <= 30; ++i) f.server.append("A", message("a" + std::to_string(i)));
            for (int i = 1; i <= 12; ++i) f.server.append("B", message("b" + std::to_string(i)));

            sync::Progress first;
            const auto up_front = total_at_first_fetch(f, c, first);
            if (c.expect_up_front)
                CHECK(up_front == 42);
            else
                CHECK(up_front == 30);  // only A's, counted as A starts
            CHECK(first.messages_total == 42);
            CHECK(first.messages_done == 42);
            CHECK(first.bytes_total == first.bytes_done);
            CHECK(first.mailboxes_uncounted == 0);

            // Known mailboxes: the UIDNEXT gap (new mail), not MESSAGES; an
            // expunge since does not count.
            for (int i = 31; i <= 35; ++i) f.server.append("A", message("a" + std::to_string(i)));
            f.server.append("B", message("b13"));
            f.server.expunge("B", 2);
            sync::Progress second;
            const auto estimate = total_at_first_fetch(f, c, second);
            CHECK(estimate == (c.expect_up_front ? 6u : 5u));
            CHECK(second.messages_total == 6);
            CHECK(second.messages_done == 6);
            CHECK(second.mailboxes_uncounted == 0);
        }
    }
}
