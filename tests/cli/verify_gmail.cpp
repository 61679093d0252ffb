// verify --server on a Gmail account whose config names label views
// (`mailboxes = ["INBOX"]`): the backup holds All Mail's messages with those
// labels (sync LabelFilter), and verify checks exactly those against the
// server: UIDs, flags, labels. The model server's Gmail mode.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <imapkeep/store/verify.hpp>
#include <map>

#include "cli/repair.hpp"
#include "cli/verify_server.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct GmailVerify : ModelFixture {
    GmailVerify() { server.make_gmail(); }
    const std::string& all() { return server.gmail_names().all; }
    cli::ServerComparison compare() {
        return cli::compare_with_server(account, *store.catalog,
                                        *store.catalog->find_account(account.name));
    }
    std::vector<cli::MailboxDiff> verify() { return compare().diffs; }
};

std::string described(const std::vector<cli::MailboxDiff>& diffs) {
    std::string out;
    for (const auto& d : diffs)
        out += d.name + ": " + d.problem + " not_backed_up=" + d.not_backed_up.to_string() +
               " gone=" + d.gone_from_server.to_string() + " flags=" + d.flags_differ.to_string() +
               " labels=" + d.labels_differ.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("verify --server checks All Mail's messages of the labels a Gmail config names",
          "[verify][gmail]") {
    const std::vector<std::string> mailboxes =
        GENERATE(std::vector<std::string>{"INBOX"}, std::vector<std::string>{"Work"});
    const std::string label = mailboxes.front() == "INBOX" ? "\\Inbox" : "Work";
    GmailVerify f;
    f.account.mailboxes = mailboxes;
    f.server.gmail_deliver(message("one"), {label});
    const auto two = f.server.gmail_deliver(message("two"), {label, "Other"});
    const auto three = f.server.gmail_deliver(message("three"), {label});
    f.server.gmail_deliver(message("archived"), {});
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    REQUIRE(f.stored(f.all()).size() == 3);

    // In step with the server: nothing to say, and said what was compared.
    auto clean = f.compare();
    CHECK(described(clean.diffs) == "");
    CHECK(clean.labels_of == f.all());
    CHECK(clean.labels == mailboxes);
    CHECK(clean.labelled == 3);

    // The server moves on: a new message in the label, one's flags change,
    // one loses the label (no longer selected), a new archived one (never
    // selected, so not missing).
    const auto all_uids = [&] {
        std::map<std::string, std::uint32_t> out;
        for (const auto& [uid, body] : f.on_server(f.all()))
            out[body.substr(body.find("Subject: ") + 9, 3)] = uid;
        return out;
    };
    f.server.gmail_deliver(message("four"), {label});
    f.server.gmail_deliver(message("archived-2"), {});
    f.server.set_flags(f.all(), all_uids()["one"], {"\\Seen"});
    f.server.gmail_set_labels(three, {});
    (void)two;
    auto uids = all_uids();
    auto diffs = f.verify();
    INFO(described(diffs));
    REQUIRE(diffs.size() == 1);
    const auto& d = diffs.front();
    CHECK(d.name == f.all());
    CHECK(d.problem == "");
    CHECK(d.not_backed_up.to_string() == std::to_string(uids["fou"]));
    CHECK(d.flags_differ.to_string() == std::to_string(uids["one"]));
    CHECK(d.labels_differ.to_string() == std::to_string(uids["thr"]));
    CHECK(d.gone_from_server.empty());
}

// verify --repair of label links on the local store (Maildir hard links):
// a missing link is made again, the copy itself; a file in the way that only
// looks alike is never overwritten or removed, and is named. (The S3 side:
// tests/integration/gmail_postgres_s3_test.cpp.)
TEST_CASE("verify --repair makes a missing label link again and leaves a look-alike named",
          "[verify][gmail][repair]") {
    GmailVerify f;
    f.server.gmail_deliver(message("five"), {"\\Inbox", "\\Important", "\\Starred", "Work", "Travel/2024"});
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    const auto account = *f.store.catalog->find_account("acct");
    const auto copy = f.store.catalog->messages(f.record(f.all())->id).front();
    auto links = f.store.catalog->label_links(copy.id);
    REQUIRE(links.size() == 5);
    std::filesystem::remove(f.store.messages->absolute(links[0].file));
    const auto alike = f.store.messages->absolute(links[1].file);
    std::filesystem::remove(alike);
    std::ofstream(alike, std::ios::binary) << f.stored(f.all()).begin()->second;
    auto problems = store::verify_files(*f.store.catalog, *f.store.messages, account);
    REQUIRE(problems.size() == 2);

    auto outcomes = cli::repair_label_links(f.account, *f.store.catalog, *f.store.messages, problems);
    REQUIRE(outcomes.size() == 2);
    std::map<std::string, cli::RepairOutcome> by_file;
    for (const auto& o : outcomes) by_file[o.file] = o;
    CHECK(by_file[links[0].file].repaired);
    CHECK_FALSE(by_file[links[1].file].repaired);
    CHECK(by_file[links[1].file].reason.find("in the way") != std::string::npos);
    CHECK(std::filesystem::equivalent(f.store.messages->absolute(links[0].file),
                                      f.store.messages->absolute(copy.file)));
    CHECK(std::filesystem::exists(alike));  // never removed
    std::map<std::string, std::string> left;
    for (const auto& p : store::verify_files(*f.store.catalog, *f.store.messages, account))
        left[p.file] = p.kind;
    CHECK(left == std::map<std::string, std::string>{{links[1].file, "link not the copy"}});
    CHECK(f.store.catalog->label_links(copy.id).size() == 5);
}
