// The restore report, JSON and text, from a fabricated engine report: what the
// target could not keep (keywords, flags, dates) is shown per mailbox.
#include <catch2/catch.hpp>
#include <sstream>

#include "cli/archive_commands.hpp"
#include "cli/exit_codes.hpp"

using namespace imapkeep;

namespace {

archive::RestoreReport sample() {
    archive::RestoreReport r;
    r.source_account = "old";
    r.target_account = "new";
    archive::RestoreMailboxReport a;
    a.source = "INBOX";
    a.target = "Restored/INBOX";
    a.appended = 5;
    a.dropped_keywords = {{"[Gmail]/Important", 3}, {"\xc3\x9c" "ber", 1}};
    a.flags_fixed = 4;
    a.dates_not_kept = 2;
    archive::RestoreMailboxReport b;
    b.source = "Empty";
    b.target = "Restored/Empty";
    b.create = true;
    r.mailboxes = {a, b};
    return r;
}

}  // namespace

TEST_CASE("the restore JSON reports keywords dropped, flags set again and dates not kept", "[restore]") {
    cli::RunInfo run;
    run.command = "restore";
    auto json = cli::restore_report_json(run, sample(), std::nullopt);
    const auto& inbox = json["mailboxes"][0];
    CHECK(inbox["dropped_keywords"] == nlohmann::json({{"[Gmail]/Important", 3}, {"\xc3\x9c" "ber", 1}}));
    CHECK(inbox["flags_fixed"] == 4);
    CHECK(inbox["dates_not_kept"] == 2);
    CHECK(json["mailboxes"][1]["dropped_keywords"] == nlohmann::json::object());
    CHECK(json["totals"]["created"] == 1);
    CHECK(json["totals"]["keywords_dropped"] == 4);  // messages that lost a keyword, summed per keyword
    CHECK(json["totals"]["flags_fixed"] == 4);
    CHECK(json["totals"]["dates_not_kept"] == 2);
}

TEST_CASE("the restore summary names the keywords the target could not take", "[restore]") {
    std::ostringstream out, err;
    cli::Io io{out, err, false};
    cli::RestoreArgs args;
    args.account = "old";
    args.to = "new";
    cli::print_restore_report(io, sample(), args);
    INFO(out.str());
    INFO(err.str());
    CHECK(err.str().find("INBOX -> Restored/INBOX: restored without keywords the target cannot take: "
                         "[Gmail]/Important (3 messages), \xc3\x9c" "ber (1 message)") != std::string::npos);
    CHECK(err.str().find("INBOX -> Restored/INBOX: 2 messages without their original date") != std::string::npos);
    CHECK(out.str().find("4 messages had flags set again") != std::string::npos);
}

TEST_CASE(
    "a restore stopped by the daily upload budget says how much went, what is left and when it "
    "resumes",
    "[restore][budget]") {
    auto r = sample();
    r.mailboxes[0].left = 3;
    r.mailboxes[0].left_bytes = 3 * 1024 * 1024;
    r.budget_reached = true;
    r.budget_reason = "daily_upload_mb";
    r.budget_used = 500ull * 1024 * 1024;
    r.budget_limit = 500ull * 1024 * 1024;
    for (auto verbosity : {cli::Verbosity::Normal, cli::Verbosity::Quiet}) {
        std::ostringstream out, err;
        cli::Io io{out, err, false};
        cli::RestoreArgs args;
        args.account = "old";
        args.to = "new";
        args.verbosity = verbosity;
        cli::print_restore_report(io, r, args);
        INFO(err.str());
        CHECK(err.str().find(
                  "imapkeep: restore old -> new: daily upload budget reached (500.0 MB of 500.0 MB "
                  "uploaded to new today), 3 messages left (3.0 MB), resumes after 00:00 UTC: run "
                  "restore again then\n") != std::string::npos);
    }
    cli::RunInfo run;
    run.command = "restore";
    auto json = cli::restore_report_json(run, r, std::nullopt);
    CHECK(json["budget"]["reached"] == true);
    CHECK(json["budget"]["reason"] == "daily_upload_mb");
    CHECK(json["budget"]["used_today"] == 500ull * 1024 * 1024);
    CHECK(json["budget"]["messages_left"] == 3);
    CHECK(json["budget"]["bytes_left"] == 3 * 1024 * 1024);
    CHECK(json["mailboxes"][0]["left"] == 3);
}

TEST_CASE("a restore the target stopped says why, what is left and what to do, and exits 75",
          "[restore][budget]") {
    struct Case {
        archive::RestoreReport::LeftFor left_for;
        const char* reason;
        bool uncounted;
        const char* line;
        const char* kind;
    };
    const Case cases[] = {
        {archive::RestoreReport::LeftFor::TargetDailyLimit,
         "Account exceeded command or bandwidth limits. (Failure)", false,
         "imapkeep: restore old -> new: the target's daily limit is reached (Account exceeded "
         "command or bandwidth "
         "limits. (Failure)), 3 messages left (3.0 MB), resumes next run\n",
         "target_daily_limit"},
        {archive::RestoreReport::LeftFor::TargetFull, "[OVERQUOTA] Mailbox is full", false,
         "imapkeep: restore old -> new: the target is over its quota ([OVERQUOTA] Mailbox is "
         "full), 3 messages left "
         "(3.0 MB): free space on the target or raise its quota, then run restore again; it "
         "resumes where it "
         "stopped\n",
         "target_full"},
        {archive::RestoreReport::LeftFor::TargetThrottling,
         "still throttled after 8 waits: [UNAVAILABLE] Try later", false,
         "imapkeep: restore old -> new: the target kept throttling (still throttled after 8 waits: "
         "[UNAVAILABLE] "
         "Try later), 3 messages left (3.0 MB), resumes next run\n",
         "target_throttling"},
        {archive::RestoreReport::LeftFor::TargetDailyLimit,
         "Account exceeded command or bandwidth limits. (Failure)", true,
         "imapkeep: restore old -> new: the target's daily limit is reached (Account exceeded "
         "command or bandwidth "
         "limits. (Failure)), nothing sent, resumes next run\n",
         "target_daily_limit"},
    };
    for (const auto& c : cases) {
        auto r = sample();
        if (!c.uncounted) {
            r.mailboxes[0].left = 3;
            r.mailboxes[0].left_bytes = 3 * 1024 * 1024;
        }
        r.left_uncounted = c.uncounted;
        r.budget_reached = true;
        r.budget_reason = c.reason;
        r.left_for = c.left_for;
        std::ostringstream out, err;
        cli::Io io{out, err, false};
        cli::RestoreArgs args;
        args.account = "old";
        args.to = "new";
        args.verbosity = cli::Verbosity::Quiet;
        cli::print_restore_report(io, r, args);
        INFO(err.str());
        CHECK(err.str().find(c.line) != std::string::npos);
        CHECK(cli::exit_code_for(r) == cli::kExitTempFail);
        cli::RunInfo run;
        run.command = "restore";
        auto json = cli::restore_report_json(run, r, std::nullopt);
        CHECK(json["budget"]["kind"] == c.kind);
        CHECK(json["budget"]["messages_left_uncounted"] == c.uncounted);
    }
}
