// Issue 12, restore side of "Throttling and pacing": the target account's
// rate limits (max_messages_per_second, max_bytes_per_second) pace the
// APPENDs, and its daily upload budget (daily_upload_mb, kept per UTC day in
// the catalog beside the download budget) stops a restore once spent: what
// is left is counted, a second run the same day sends nothing, the next
// day's goes on, and no message lands twice. Time runs on a fake clock.
#include <catch2/catch.hpp>
#include <imapkeep/archive/restore.hpp>
#include <set>

#include "support/fake_pace_clock.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct RestorePacingFixture : ModelFixture {
    ModelServer target;
    sync::AccountConfig dst;
    FakePaceClock clock;

    // `inbox` messages in INBOX and `archive` in Archive, of about `bytes` each.
    RestorePacingFixture(int inbox, int archive, std::size_t bytes) {
        server.add_mailbox("Archive");
        server.add_mailbox("INBOX");
        for (int i = 0; i < archive + inbox; ++i)
            server.append(i < archive ? "Archive" : "INBOX",
                          message("p" + std::to_string(i), std::string(bytes, char('a' + i % 26))));
        account.connections = 1;
        REQUIRE(report_ok(backup()));
        dst.name = "dst";
        dst.connect = target.connect_options();
        dst.connections = 1;
    }

    archive::RestoreReport restore() {
        archive::RestoreOptions o;
        o.source_account = account.name;
        o.settle_quiet = std::chrono::milliseconds(10);
        o.clock = &clock;
        return archive::restore_account(dst, *store.catalog, *store.messages, o);
    }

    std::size_t on_target() {
        std::size_t n = 0;
        for (const char* name : {"Archive", "INBOX"})
            if (target.has_mailbox(name)) n += target.mailbox(name).messages.size();
        return n;
    }
    std::multiset<std::string> bodies(ModelServer& s) {
        std::multiset<std::string> out;
        for (const char* name : {"Archive", "INBOX"})
            if (s.has_mailbox(name))
                for (const auto& [uid, m] : s.mailbox(name).messages) out.insert(m.body);
        return out;
    }
};

std::uint64_t appended(const archive::RestoreReport& r) {
    std::uint64_t n = 0;
    for (const auto& m : r.mailboxes) n += m.appended;
    return n;
}

std::string errors_of(const archive::RestoreReport& r) {
    std::string out = r.error + "\n";
    for (const auto& m : r.mailboxes) {
        out += m.source + ": " + m.error + "\n";
        for (const auto& f : m.failures)
            out += "  uid " + std::to_string(f.uid) + ": " + f.reason + "\n";
    }
    return out;
}

}  // namespace

TEST_CASE(
    "restore: the daily upload budget stops the run, the same day adds nothing, the next day goes "
    "on",
    "[archive][restore][pacing][budget]") {
    RestorePacingFixture f(/*inbox=*/5, /*archive=*/3, /*bytes=*/1000);
    const std::uint64_t size =
        f.store.catalog
            ->messages(
                f.store.catalog->find_mailbox(*f.store.catalog->find_account("acct"), "INBOX")->id)
            .front()
            .size;
    // Three messages a day.
    f.dst.pacing.daily_upload_bytes = 3 * size + size / 2;

    auto first = f.restore();
    INFO(errors_of(first));
    CHECK(first.error.empty());
    CHECK_FALSE(first.failed());
    CHECK(appended(first) == 3);
    CHECK(first.budget_reached);
    CHECK(first.budget_reason == "daily_upload_mb");
    CHECK(first.budget_used == 3 * size);
    CHECK(first.budget_limit == f.dst.pacing.daily_upload_bytes);
    CHECK(first.messages_left() == 5);  // all of INBOX: Archive (3) went first
    CHECK(first.bytes_left() == 5 * size);
    CHECK(f.on_target() == 3);

    // The same UTC day: the first run's uploads count (the catalog keeps them).
    auto second = f.restore();
    INFO(errors_of(second));
    CHECK(appended(second) == 0);
    CHECK(second.budget_reached);
    CHECK(second.budget_used == 3 * size);
    CHECK(second.messages_left() == 5);
    CHECK(f.on_target() == 3);

    f.clock.next_day();
    auto third = f.restore();
    CHECK(appended(third) == 3);
    CHECK(third.messages_left() == 2);

    f.clock.next_day();
    auto last = f.restore();
    INFO(errors_of(last));
    CHECK(appended(last) == 2);
    CHECK_FALSE(last.budget_reached);
    CHECK(last.messages_left() == 0);
    CHECK_FALSE(last.failed());
    // Every message once.
    CHECK(f.on_target() == 8);
    CHECK(f.bodies(f.target) == f.bodies(f.server));
}

TEST_CASE("restore: a message larger than the whole upload budget goes alone on a fresh day",
          "[archive][restore][pacing][budget]") {
    RestorePacingFixture f(/*inbox=*/2, /*archive=*/0, /*bytes=*/5000);
    f.dst.pacing.daily_upload_bytes = 1000;
    auto first = f.restore();
    CHECK(appended(first) == 1);
    CHECK(first.messages_left() == 1);
    f.clock.next_day();
    auto second = f.restore();
    CHECK(appended(second) == 1);
    CHECK(second.messages_left() == 0);
    CHECK(f.on_target() == 2);
}

TEST_CASE("restore: a dry run neither spends nor checks the upload budget",
          "[archive][restore][pacing][budget]") {
    RestorePacingFixture f(/*inbox=*/4, /*archive=*/0, /*bytes=*/1000);
    f.dst.pacing.daily_upload_bytes = 1500;
    archive::RestoreOptions o;
    o.source_account = f.account.name;
    o.dry_run = true;
    o.clock = &f.clock;
    auto dry = archive::restore_account(f.dst, *f.store.catalog, *f.store.messages, o);
    std::uint64_t to_append = 0;
    for (const auto& m : dry.mailboxes) to_append += m.to_append;
    CHECK(to_append == 4);
    CHECK_FALSE(dry.budget_reached);
    auto real = f.restore();
    CHECK(appended(real) == 1);
    CHECK(real.messages_left() == 3);
}

TEST_CASE("restore: max_messages_per_second paces the APPENDs", "[archive][restore][pacing]") {
    RestorePacingFixture f(/*inbox=*/6, /*archive=*/0, /*bytes=*/100);
    f.dst.pacing.max_messages_per_second = 2;
    auto r = f.restore();
    INFO(errors_of(r));
    CHECK_FALSE(r.failed());
    CHECK(appended(r) == 6);
    // Two at once (one second's worth), then four at two a second.
    CHECK(f.clock.slept() >= std::chrono::milliseconds(2000));
    CHECK(f.clock.slept() < std::chrono::milliseconds(2600));
    CHECK(r.throttle_waits == 0);  // pacing is no throttle wait
}

TEST_CASE("restore: max_bytes_per_second paces the uploaded bytes", "[archive][restore][pacing]") {
    RestorePacingFixture f(/*inbox=*/6, /*archive=*/0, /*bytes=*/40000);
    f.dst.pacing.max_bytes_per_second = 64 * 1024;
    auto r = f.restore();
    INFO(errors_of(r));
    CHECK_FALSE(r.failed());
    CHECK(appended(r) == 6);
    // 240 kB at 64 KiB a second, the first 64 KiB at once: 2.6 s at least.
    CHECK(f.clock.slept() >= std::chrono::milliseconds(2600));
}

TEST_CASE("restore: a message the upload budget leaves for later is not counted as restored without a keyword",
          "[archive][restore][pacing][budget]") {
    RestorePacingFixture f(/*inbox=*/0, /*archive=*/0, /*bytes=*/0);
    for (int i = 0; i < 4; ++i)
        f.server.append("INBOX", message("k" + std::to_string(i), std::string(1000, 'k')), {"odd]label"});
    REQUIRE(report_ok(f.backup()));
    f.dst.pacing.daily_upload_bytes = 1500;  // one message
    auto r = f.restore();
    INFO(errors_of(r));
    CHECK(appended(r) == 1);
    CHECK(r.messages_left() == 3);
    std::uint64_t dropped = 0;
    for (const auto& m : r.mailboxes)
        for (const auto& [keyword, count] : m.dropped_keywords) dropped += count;
    CHECK(dropped == 1);  // the appended one only
}
