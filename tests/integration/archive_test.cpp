// Restore and export against the real Dovecot and Cyrus of scripts/test-env
// (issue 4 "Tests", issue 9): user1 is backed up, user2 is restored into, on
// the same server. Every mailbox this test
// creates has a random name and is deleted at the end.
#include "integration/backup_support.hpp"
#include <imapkeep/store/flags.hpp>

#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/headers.hpp>
#include <imapkeep/archive/restore.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/wire/encoder.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

struct Msg {
    std::string body;
    std::vector<std::string> flags;
    std::int64_t date = 0;
    int zone = 0;
    auto key() const { return std::tie(body, flags, date, zone); }
    bool operator<(const Msg& o) const { return key() < o.key(); }
    bool operator==(const Msg& o) const { return key() == o.key(); }
};

// Mailbox name (relative to the test's prefix) -> its messages, sorted.
using State = std::map<std::string, std::vector<Msg>>;

std::unique_ptr<imap::Client> login(ServerKind kind, int user) {
    return imap::connect_and_login(server_options(kind, user));
}

std::vector<Msg> fetch_all(imap::Client& c, const std::string& mailbox) {
    std::vector<Msg> out;
    auto sel = c.select(mailbox, true);
    if (sel.exists > 0) {
        UidSet all;
        all.add_range(Uid(1), Uid(0xFFFFFFFFu));
        c.uid_fetch(all, imap::FetchItems().uid().flags().internaldate().body_peek(), [&](imap::FetchData& fd) {
            auto d = util::parse_imap_datetime(fd.internaldate.value_or(""));
            REQUIRE(d);
            out.push_back({fd.body, store::normalize_flags(fd.flags.value_or(std::vector<std::string>{})), d->epoch,
                           d->zone_offset_seconds});
        });
    }
    c.unselect();
    std::sort(out.begin(), out.end());
    return out;
}

// The tree under `root` (root itself and root/...), keyed by the name below it.
State fetch_tree(imap::Client& c, const std::string& root) {
    State s;
    const std::string d = hierarchy_delimiter(c);
    for (const auto& e : c.list("", root + "*")) {
        if (e.name != root && !e.name.starts_with(root + d)) continue;
        s[e.name.substr(root.size())] = fetch_all(c, e.name);
    }
    return s;
}

void delete_tree(imap::Client& c, const std::string& root) {
    const std::string d = hierarchy_delimiter(c);
    auto entries = c.list("", root + "*");
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name > b.name; });
    for (const auto& e : entries) {
        if (e.name != root && !e.name.starts_with(root + d)) continue;
        try {
            c.delete_mailbox(e.name);
        } catch (const imap::CommandFailed&) {
        }
    }
}

std::string crlf(std::initializer_list<std::string> lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\r\n";
    return out;
}

std::uint64_t total(const archive::RestoreReport& r, std::uint64_t archive::RestoreMailboxReport::*field) {
    std::uint64_t n = 0;
    for (const auto& m : r.mailboxes) n += m.*field;
    return n;
}

std::string describe(const archive::RestoreReport& r) {
    std::string s = r.error;
    for (const auto& m : r.mailboxes) {
        if (!m.error.empty()) s += " | " + m.source + ": " + m.error;
        for (const auto& f : m.failures) s += " | " + m.source + " UID " + std::to_string(f.uid) + ": " + f.reason;
    }
    return s;
}

std::string norm_sha(std::string body) {
    std::string out;
    for (std::size_t i = 0; i < body.size(); ++i)
        if (!(body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')) out += body[i];
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return util::sha256_hex(out);
}

// What archive_read.py must print for `state` (whose names are relative to `root`).
std::vector<std::string> expected_rows(const State& state, const std::string& root, const std::string& format) {
    std::vector<std::string> rows;
    for (const auto& [rel, msgs] : state) {
        for (const auto& m : msgs) {
            std::string flags = "-";
            if (format == "maildir") {
                flags = store::maildir_flag_suffix(m.flags);
                if (flags.empty()) flags = "-";
            } else if (format == "eml" && !m.flags.empty()) {
                flags.clear();
                for (const auto& f : m.flags) flags += (flags.empty() ? "" : " ") + f;
            }
            rows.push_back(root + rel + "\t" + norm_sha(m.body) + "\t" + archive::parse_header_summary(m.body).subject +
                           "\t" + flags);
        }
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

std::vector<std::string> python_rows(const std::string& format, const fs::path& path) {
    std::string cmd = "python3 " IMAPKEEP_SOURCE_DIR "/tests/integration/archive_read.py " + format + " '" +
                      path.string() + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    std::array<char, 4096> buf{};
    while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    REQUIRE(::pclose(p) == 0);
    std::vector<std::string> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) rows.push_back(line);
    return rows;
}

// Every file below `dir`, relative name -> content.
std::map<std::string, std::string> tree_files(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        files[fs::relative(e.path(), dir).string()] = s.str();
    }
    return files;
}

sync::AccountConfig account(const std::string& name, ServerKind kind, int user, std::vector<std::string> mailboxes) {
    sync::AccountConfig a;
    a.name = name;
    a.connect = server_options(kind, user);
    a.mailboxes = std::move(mailboxes);
    a.connections = 1;
    return a;
}

}  // namespace

TEST_CASE("backup, restore, point-in-time restore and export", "[integration][archive]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            auto c1 = login(kind, 1);
            auto c2 = login(kind, 2);
            const std::string d = hierarchy_delimiter(*c1);
            const std::string p = unique_name("ika");
            std::vector<std::string> roots2;
            struct Cleanup {
                imap::Client& c1;
                imap::Client& c2;
                const std::string& p;
                std::vector<std::string>& roots2;
                ~Cleanup() {
                    try {
                        delete_tree(c1, p);
                        for (const auto& r : roots2) delete_tree(c2, r);
                    } catch (const std::exception&) {
                    }
                }
            } cleanup{*c1, *c2, p, roots2};

            // --- The source: user1's mailboxes p, p/Sub, p/Entwürfe, p/Empty.
            const std::string sub = p + d + "Sub", drafts = p + d + "Entwürfe";
            for (const auto& m : {p, sub, drafts, p + d + "Empty"}) c1->create(m);
            auto msg = [&](const std::string& id, const std::string& subject, const std::string& body) {
                std::vector<std::string> lines = {"From: Alice Example <alice@example.org>", "To: bob@example.org",
                                                  "Subject: " + subject};
                if (!id.empty()) lines.push_back("Message-ID: " + id);
                lines.push_back("");
                std::string out;
                for (const auto& l : lines) out += l + "\r\n";
                return out + body;
            };
            c1->append(p, {"\\Seen"}, "01-Jan-2024 10:00:00 +0100",
                       msg("<m1." + p + "@test>", "one", crlf({"From the start", ">From quoted", "end"})));
            c1->append(p, {"\\Flagged", "$Work"}, "15-Feb-2023 23:59:59 -0500", msg("<m2." + p + "@test>", "two", "x\r\n"));
            c1->append(p, {}, "02-Mar-2022 01:02:03 +0000", msg("", "three, no id", "no Message-ID here\r\n"));
            c1->append(p, {"\\Answered"}, "03-Apr-2021 04:05:06 +0530",
                       msg("<\"odd\\id\"." + p + "@test>", "four \"quoted\"", "odd id\r\n"));
            c1->append(sub, {"\\Answered", "\\Seen", "\\Draft"}, "04-May-2020 05:06:07 +0200",
                       msg("<m5." + p + "@test>", "five", "in Sub\r\n"));
            c1->append(sub, {}, "05-Jun-2019 06:07:08 -0800", msg("<m6." + p + "@test>", "six", "no final newline"));
            c1->append(drafts, {"\\Seen"}, "06-Jul-2018 07:08:09 +0000", msg("<m7." + p + "@test>", "sieben", "ü\r\n"));
            const State s1 = fetch_tree(*c1, p);
            REQUIRE(s1.size() == 4);

            TempDir dir;
            Store store(dir.path);
            auto src = account("src", kind, 1, {p, p + d + "*"});
            auto backup1 = store.backup(src);
            REQUIRE(backup1.error.empty());
            for (const auto& m : backup1.mailboxes) REQUIRE(m.errors.empty());
            std::size_t message_count = 0;
            for (const auto& [name, msgs] : s1) message_count += msgs.size();

            auto dst = account("dst", kind, 2, {"*"});
            auto restore = [&](const std::string& prefix, archive::RestoreOptions o = {}) {
                o.source_account = "src";
                o.prefix = prefix + "/";  // "/" is accepted whatever the target's delimiter
                return archive::restore_account(dst, *store.catalog, *store.messages, o);
            };
            auto restored_state = [&](const std::string& root) {
                State s;
                for (auto& [rel, msgs] : fetch_tree(*c2, root + d + p)) s[rel] = msgs;
                return s;
            };

            SECTION("restore into the empty second account: byte-identical, same flags and INTERNALDATE") {
                const std::string r = unique_name("ikr");
                roots2.push_back(r);
                archive::RestoreOptions dry;
                dry.dry_run = true;
                auto plan = restore(r, dry);
                INFO(describe(plan));
                REQUIRE_FALSE(plan.failed());
                CHECK(total(plan, &archive::RestoreMailboxReport::to_append) == message_count);
                CHECK(std::count_if(plan.mailboxes.begin(), plan.mailboxes.end(), [](auto& m) { return m.create; }) == 4);
                CHECK(c2->list("", r + "*").empty());  // a dry run changes nothing

                auto report = restore(r);
                INFO(describe(report));
                REQUIRE_FALSE(report.failed());
                CHECK(total(report, &archive::RestoreMailboxReport::appended) == message_count);
                CHECK(restored_state(r) == s1);
                // Journaled: a second run appends nothing.
                auto again = restore(r);
                CHECK(total(again, &archive::RestoreMailboxReport::appended) == 0);
                CHECK(total(again, &archive::RestoreMailboxReport::already) == message_count);
                CHECK(restored_state(r) == s1);
            }

            SECTION("a restore killed part-way and run again appends nothing twice") {
                for (std::size_t batch : {std::size_t(1), std::size_t(32)}) {
                    const std::string r = unique_name("ikk");
                    roots2.push_back(r);
                    archive::RestoreOptions o;
                    o.stop_after_appends = 3;
                    o.journal_batch = batch;  // 1: the journal has two; 32: it has none
                    CHECK_THROWS_AS(restore(r, o), archive::RestoreStopped);
                    auto report = restore(r);
                    INFO(describe(report));
                    REQUIRE_FALSE(report.failed());
                    // The APPENDs pipelined behind the third reached the server too: the
                    // second run finds them, by journal or by Message-ID.
                    CHECK(total(report, &archive::RestoreMailboxReport::already) >= 3);
                    CHECK(total(report, &archive::RestoreMailboxReport::already) +
                              total(report, &archive::RestoreMailboxReport::appended) ==
                          message_count);
                    CHECK(restored_state(r) == s1);
                }
            }

            SECTION("point in time: after expunges and flag changes, --at gives the earlier state") {
                const std::int64_t before = std::time(nullptr);
                std::this_thread::sleep_for(std::chrono::milliseconds(1100));
                c1->select(p, /*read_only=*/false);
                // UID 2 (two) goes; UID 1 (one) loses \Seen and gains \Answered.
                c1->uid_store(UidSet::parse("2"), imap::StoreFlags::add({"\\Deleted"}).silent());
                c1->uid_store(UidSet::parse("1"), imap::StoreFlags::set({"\\Answered"}).silent());
                c1->run("EXPUNGE", {});
                c1->unselect();
                const State s2 = fetch_tree(*c1, p);
                REQUIRE(s2.at("").size() == s1.at("").size() - 1);
                auto backup2 = store.backup(src);
                REQUIRE(backup2.error.empty());

                const std::string r = unique_name("ikt");
                roots2.push_back(r);
                archive::RestoreOptions o;
                o.at = before;
                auto report = restore(r, o);
                INFO(describe(report));
                REQUIRE_FALSE(report.failed());
                CHECK(restored_state(r) == s1);

                const std::string now = unique_name("ikn");
                roots2.push_back(now);
                auto current = restore(now);
                REQUIRE_FALSE(current.failed());
                CHECK(restored_state(now) == s2);

                // Exports, read back by Python's mailbox and email modules, and the
                // one-shot --url export, which must give the very same files.
                for (std::string format : {"mbox", "maildir", "eml"}) {
                    DYNAMIC_SECTION("export " << format) {
                        archive::ExportOptions e;
                        e.format = *archive::parse_archive_format(format);
                        e.output = (dir.path / ("export-" + format)).string();
                        auto from_store = archive::export_from_store(*store.catalog, *store.messages, "src", e);
                        INFO(from_store.error);
                        REQUIRE(from_store.published);
                        CHECK(python_rows(format, e.output) == expected_rows(s2, p, format));

                        archive::ExportOptions past = e;
                        past.output = (dir.path / ("past-" + format)).string();
                        past.at = before;
                        REQUIRE(archive::export_from_store(*store.catalog, *store.messages, "src", past).published);
                        CHECK(python_rows(format, past.output) == expected_rows(s1, p, format));

                        archive::ExportOptions url = e;
                        url.output = (dir.path / ("url-" + format)).string();
                        url.mailbox_patterns = {p, p + d + "*"};
                        auto from_server = archive::export_from_server(server_options(kind, 1), "", url);
                        INFO(from_server.error);
                        for (const auto& m : from_server.mailboxes)
                            for (const auto& err : m.errors) UNSCOPED_INFO(m.name << ": " << err);
                        REQUIRE(from_server.published);
                        CHECK(tree_files(url.output) == tree_files(e.output));

                        // A taken output path is refused and left alone.
                        auto again = archive::export_from_store(*store.catalog, *store.messages, "src", e);
                        CHECK_FALSE(again.published);
                        CHECK(again.failed());
                    }
                }
            }

            SECTION("a message the server refuses is reported; the others are restored") {
                // Dovecot ("NO Can't save a zero byte message") and Cyrus ("NO
                // Zero-length message literal") refuse to save an empty message; some
                // servers hand them out, so a backup may hold one.
                auto account_id = store.catalog->find_account("src");
                REQUIRE(account_id);
                auto mb = store.catalog->find_mailbox(*account_id, p);
                REQUIRE(mb);
                auto pending = store.messages->begin("src", mb->folder);
                pending->finish();
                store.messages->sync_pending();
                const std::int64_t now = std::time(nullptr);
                store::MessageRecord empty;
                empty.mailbox_id = mb->id;
                empty.uidvalidity = mb->uidvalidity;
                empty.uid = 99999;
                empty.internaldate = now;
                empty.size = 0;
                empty.sha256 = util::sha256_hex("");
                empty.file = store.messages->commit(*pending, "src", mb->folder, 99999, now, {});
                empty.added_at = now;
                store.catalog->add_message(empty);

                const std::string r = unique_name("ikf");
                roots2.push_back(r);
                auto report = restore(r);
                CHECK(report.failed());
                std::vector<archive::RestoreFailure> failures;
                for (const auto& m : report.mailboxes) failures.insert(failures.end(), m.failures.begin(), m.failures.end());
                REQUIRE(failures.size() == 1);
                CHECK(failures[0].uid == 99999);
                CHECK(failures[0].reason.find(kind == ServerKind::Dovecot ? "zero byte" : "Zero-length") != std::string::npos);
                CHECK(total(report, &archive::RestoreMailboxReport::appended) == message_count);
                CHECK(restored_state(r) == s1);
            }
        }
}
