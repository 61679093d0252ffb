#include "cli_fixture.hpp"

#include "cli/lock.hpp"

#include <imapkeep/store/sqlite_catalog.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

using cli_test::CliFixture;
using namespace imapkeep;

TEST_CASE("status before any backup", "[status]") {
    CliFixture f;
    auto r = f.run({"status", "--config", f.config});
    CHECK(r.code == 0);
    CHECK(r.out == "store: " + f.store + "\nno backup yet (run `imapkeep backup`)\n");
    CHECK_FALSE(std::filesystem::exists(f.store + "/catalog.sqlite"));  // status writes nothing
}

TEST_CASE("status counts messages and bytes per mailbox from the catalog", "[status]") {
    CliFixture f;
    std::filesystem::create_directories(f.store);
    {
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        store::Id account = catalog->ensure_account("work");
        store::Id old_account = catalog->ensure_account("retired");
        (void)old_account;
        store::MailboxRecord inbox;
        inbox.account_id = account;
        inbox.name = "INBOX";
        inbox.delimiter = "/";
        inbox.uidvalidity = 7;
        inbox.uidnext = 4;
        inbox.sync_path = "QRESYNC";
        inbox.last_sync_at = 1714557600;
        inbox.id = catalog->save_mailbox(inbox);
        store::MailboxRecord sent = inbox;
        sent.id = 0;
        sent.name = "Sent";
        sent.folder = ".Sent";
        sent.sync_path = "plain";
        sent.last_sync_at.reset();
        sent.id = catalog->save_mailbox(sent);
        for (std::uint32_t uid = 1; uid <= 3; ++uid) {
            store::MessageRecord m;
            m.mailbox_id = inbox.id;
            m.uidvalidity = 7;
            m.uid = uid;
            m.size = 100 * uid;
            m.sha256 = std::string(64, 'a');
            m.file = "mail/work/cur/" + std::to_string(uid);
            store::Id id = catalog->add_message(m);
            if (uid == 3) catalog->mark_expunged(id, 1714557700, "attic/work/cur/3");
        }
        store::MailboxRecord gone = sent;
        gone.id = 0;
        gone.name = "Gone";
        gone.folder = ".Gone";
        gone.deleted_at = 1714557700;
        gone.id = catalog->save_mailbox(gone);
        store::MessageRecord old;
        old.mailbox_id = gone.id;
        old.uidvalidity = 7;
        old.uid = 1;
        old.size = 50;
        old.sha256 = std::string(64, 'b');
        old.file = "mail/work/.Gone/cur/1";
        catalog->mark_expunged(catalog->add_message(old), 1714557700, "attic/work/.Gone/cur/1");
        auto run = catalog->begin_run("backup", 1714557600);
        catalog->finish_run(run, 1714557610, "ok", "{}");
    }
    auto r = f.run({"status", "--config", f.config, "--json"});
    INFO(r.err);
    CHECK(r.code == 0);
    auto json = nlohmann::json::parse(r.out);
    CHECK(json["store"] == f.store);
    CHECK(json["last_run"]["status"] == "ok");
    CHECK(json["last_run"]["started_at"] == "2024-05-01T10:00:00Z");
    REQUIRE(json["accounts"].size() == 3);  // work, home (config), retired (catalog only)
    const auto& work = json["accounts"][0];
    CHECK(work["name"] == "work");
    CHECK(work["configured"] == true);
    CHECK(work["messages"] == 2);  // the expunged one is in the attic, not counted
    CHECK(work["bytes"] == 300);
    REQUIRE(work["mailboxes"].size() == 2);
    CHECK(work["mailboxes"][0]["name"] == "INBOX");
    CHECK(work["mailboxes"][0]["messages"] == 2);
    CHECK(work["mailboxes"][0]["path"] == "QRESYNC");
    CHECK(work["mailboxes"][0]["last_sync"] == "2024-05-01T10:00:00Z");
    CHECK(work["mailboxes"][1]["name"] == "Sent");
    CHECK(work["mailboxes"][1]["last_sync"].is_null());
    // Issue 11: the attic (what the server deleted, kept) is shown per account,
    // counting a mailbox deleted on the server too.
    CHECK(work["attic"]["messages"] == 2);
    CHECK(work["attic"]["bytes"] == 300 + 50);
    CHECK(json["accounts"][1]["name"] == "home");
    CHECK(json["accounts"][1]["mailboxes"].empty());
    CHECK(json["accounts"][2]["name"] == "retired");
    CHECK(json["accounts"][2]["configured"] == false);

    auto text = f.run({"status", "--config", f.config});
    CHECK(text.code == 0);
    CHECK(text.out.find("last backup run: 2024-05-01T10:00:00Z (ok)") != std::string::npos);
    CHECK(text.out.find("work: 2 messages, 300 B; attic (deleted on the server, kept): 2 messages, 350 B\n") !=
          std::string::npos);
    CHECK(text.out.find("retired (no longer in the config)") != std::string::npos);
    CHECK(text.out.find("  INBOX ") != std::string::npos);
}

// Issue 11: "status shows (running) for a run that died". A run without an
// end is "running" only while someone holds the store's lock.
TEST_CASE("status tells a running backup from one that was interrupted", "[status]") {
    CliFixture f;
    std::filesystem::create_directories(f.store);
    store::open_sqlite_catalog(f.store + "/catalog.sqlite")->begin_run("backup", 1714557600);
    SECTION("nobody holds the lock: the run died") {
        auto r = f.run({"status", "--config", f.config});
        CHECK(r.out.find("last backup run: 2024-05-01T10:00:00Z (interrupted; the next backup resumes it)\n") !=
              std::string::npos);
        auto j = nlohmann::json::parse(f.run({"status", "--config", f.config, "--json"}).out);
        CHECK(j["last_run"]["status"] == "interrupted");
    }
    SECTION("a run holds the lock: it is running") {
        cli::StoreLock held(f.store);
        auto r = f.run({"status", "--config", f.config});
        CHECK(r.out.find("last backup run: 2024-05-01T10:00:00Z (running)\n") != std::string::npos);
    }
}

// Issue 12, restore side: a restore into an account under daily_upload_mb
// spreads over days too; status shows what restores uploaded to it today.
TEST_CASE("status shows the daily upload budget: what restores uploaded today", "[status][budget]") {
    CliFixture f;
    f.write_config("daily_upload_mb = 500");
    std::filesystem::create_directories(f.store);
    {
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        auto work = catalog->ensure_account("work");
        catalog->add_uploaded(work, static_cast<std::int64_t>(std::time(nullptr)) / 86400, 300ull << 20);
        catalog->add_uploaded(work, static_cast<std::int64_t>(std::time(nullptr)) / 86400 - 1, 1ull << 30);
        catalog->ensure_account("home");
    }
    auto json = nlohmann::json::parse(f.run({"status", "--config", f.config, "--json"}).out);
    const auto& upload = json["accounts"][0]["upload_budget"];
    CHECK(upload["limit"] == 500ull << 20);
    CHECK(upload["used_today"] == 300ull << 20);
    CHECK(json["accounts"][1]["upload_budget"].is_null());  // home: no budget, nothing uploaded today

    auto text = f.run({"status", "--config", f.config});
    INFO(text.out);
    CHECK(text.out.find("  daily upload budget (restore): 300.0 MB of 500.0 MB used today\n") != std::string::npos);
}

// Issue 12: "status shows the progress and the ETA" of a backup the daily
// budget spreads over days.
TEST_CASE("status shows the daily budget: used today, what is left, and the days it takes", "[status][budget]") {
    CliFixture f;
    f.write_config("daily_download_mb = 2500");
    std::filesystem::create_directories(f.store);
    {
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        auto work = catalog->ensure_account("work");
        catalog->add_downloaded(work, static_cast<std::int64_t>(std::time(nullptr)) / 86400, 1ull << 30);
        catalog->add_downloaded(work, static_cast<std::int64_t>(std::time(nullptr)) / 86400 - 1, 1ull << 31);
        auto run = catalog->begin_run("backup", 1714557600);
        nlohmann::json report = {
            {"accounts",
             {{{"name", "work"},
               {"budget", {{"reached", true}, {"messages_left", 1000}, {"bytes_left", 20ull << 30},
                           {"messages_left_uncounted", false}}}}}}};
        catalog->finish_run(run, 1714557610, "failed", report.dump());
    }
    auto json = nlohmann::json::parse(f.run({"status", "--config", f.config, "--json"}).out);
    const auto& budget = json["accounts"][0]["budget"];
    CHECK(budget["limit"] == 2500ull << 20);
    CHECK(budget["used_today"] == 1ull << 30);
    CHECK(budget["messages_left"] == 1000);
    CHECK(budget["bytes_left"] == 20ull << 30);
    CHECK(budget["eta_days"] == 9);  // 20 GiB at 2,500 MiB a day
    CHECK(json["accounts"][1]["budget"].is_null());  // home: no budget, nothing left

    auto text = f.run({"status", "--config", f.config});
    CHECK(text.out.find("  daily budget: 1.0 GB of 2.4 GB used today; 1000 messages (20.0 GB) left, "
                        "about 9 days at this budget\n") != std::string::npos);
}
