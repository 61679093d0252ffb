// Restore against the real Dovecot and Cyrus (issue 8, cases 9, 10, 13, 15; issue 9): what counts
// as "already there", keywords the target cannot take, servers that drop flags
// or dates on APPEND or lack UIDPLUS (tests/support/imap_proxy.py), and empty
// mailboxes. user1 is backed up, user2 is restored into; every mailbox has a
// random name and is deleted at the end.
#include "integration/restore_support.hpp"

#include <catch2/catch.hpp>
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string message(const std::string& id_line, const std::string& subject, const std::string& body) {
    std::string out = "From: a@example.org\r\nSubject: " + subject + "\r\n";
    if (!id_line.empty()) out += id_line + "\r\n";
    return out + "\r\n" + body + "\r\n";
}

// user1's mailbox `p` (and p/Empty) on one server, backed up into a scratch
// store; user2's trees under the roots handed out by root() are deleted at the
// end. `d` is the server's hierarchy delimiter.
struct Fixture {
    explicit Fixture(ServerKind k) : kind(k) {}
    ServerKind kind;
    std::unique_ptr<imap::Client> c1 = imap::connect_and_login(server_options(kind, 1));
    std::unique_ptr<imap::Client> c2 = imap::connect_and_login(server_options(kind, 2));
    std::string d = hierarchy_delimiter(*c1);
    std::string p = unique_name("ikrs");
    std::vector<std::string> roots;
    TempDir dir;
    Store store{dir.path};

    ~Fixture() {
        try {
            delete_tree(*c1, p);
            for (const auto& r : roots) delete_tree(*c2, r);
        } catch (const std::exception&) {
        }
    }
    std::string root(const std::string& stem) {
        roots.push_back(unique_name(stem));
        return roots.back();
    }
    void backup() {
        auto r = store.backup(one_connection_account("src", server_options(kind, 1), {p, p + d + "*"}));
        REQUIRE(r.error.empty());
        for (const auto& m : r.mailboxes) REQUIRE(m.errors.empty());
    }
    archive::RestoreReport restore(const std::string& root, archive::RestoreOptions o = {},
                                   std::optional<imap::ConnectOptions> target = {}) {
        o.source_account = "src";
        o.prefix = root + "/";  // "/" is accepted whatever the target's delimiter
        return archive::restore_account(one_connection_account("dst", target.value_or(server_options(kind, 2)), {"*"}), *store.catalog,
                                        *store.messages, o);
    }
    std::vector<TargetMessage> source() { return catalog_messages(*store.catalog, "src", p); }
    std::string in(const std::string& root) const { return root + d + p; }
    std::vector<TargetMessage> target(const std::string& root) { return fetch_messages(*c2, in(root)); }
    // Adds a message to the backup of `p` as if a server had handed it out.
    void add_to_backup(const std::string& body, std::vector<std::string> flags, std::uint32_t uid) {
        auto account_id = store.catalog->find_account("src");
        REQUIRE(account_id);
        auto mb = store.catalog->find_mailbox(*account_id, p);
        REQUIRE(mb);
        auto pending = store.messages->begin("src", mb->folder);
        pending->write(body);
        pending->finish();
        store.messages->sync_pending();
        const std::int64_t now = 1700000000;
        store::MessageRecord m;
        m.mailbox_id = mb->id;
        m.uidvalidity = mb->uidvalidity;
        m.uid = uid;
        m.internaldate = now;
        store::describe_stored(*pending, m);
        m.flags = flags;
        m.file = store.messages->commit(*pending, "src", mb->folder, uid, now, flags);
        m.added_at = now;
        store.catalog->add_message(m);
    }
};

}  // namespace

TEST_CASE("restore: a message is 'already there' only if the target holds its very bytes", "[integration][restore]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Fixture f(kind);
            f.c1->create(f.p);

            SECTION("a different message of the same size without Message-ID is not it") {
                f.c1->append(f.p, {"\\Seen"}, "01-Jan-2024 10:00:00 +0000", message("", "aaaa", "same size"));
                f.backup();
                const auto r = f.root("ikrsz");
                f.c2->create(f.in(r));
                f.c2->append(f.in(r), {}, std::nullopt, message("", "bbbb", "same size"));
                auto report = f.restore(r);
                INFO(describe(report));
                REQUIRE_FALSE(report.failed());
                CHECK(total(report, &archive::RestoreMailboxReport::appended) == 1);
                CHECK(total(report, &archive::RestoreMailboxReport::already) == 0);
                auto target = f.target(r);
                CHECK(target.size() == 2);
                auto src = f.source();
                CHECK(std::includes(target.begin(), target.end(), src.begin(), src.end()));
            }

            SECTION("8-bit and over-long Message-IDs: a stopped run's APPENDs are found again") {
                f.c1->append(f.p, {}, std::nullopt, message("Message-ID: <\xc3\xbc-eight@bit>", "8bit", "one"));
                f.c1->append(f.p, {}, std::nullopt, message("Message-ID: <" + std::string(1100, 'x') + "@long>", "long", "two"));
                f.c1->append(f.p, {}, std::nullopt, message("Message-ID: <plain@id>", "plain", "three"));
                f.c1->append(f.p, {}, std::nullopt, message("", "none", "four"));
                f.backup();
                const auto r = f.root("ikrs8");
                archive::RestoreOptions o;
                o.stop_after_appends = 4;  // all landed, none journaled
                CHECK_THROWS_AS(f.restore(r, o), archive::RestoreStopped);
                REQUIRE(shas(f.target(r)) == shas(f.source()));
                auto report = f.restore(r);
                INFO(describe(report));
                REQUIRE_FALSE(report.failed());
                CHECK(total(report, &archive::RestoreMailboxReport::already) == 4);
                CHECK(shas(f.target(r)) == shas(f.source()));
            }

            SECTION("two identical source copies need two target copies") {
                const std::string body = message("Message-ID: <twin@id>", "twin", "same bytes");
                f.c1->append(f.p, {}, std::nullopt, body);
                f.c1->append(f.p, {}, std::nullopt, body);
                f.backup();
                const auto r = f.root("ikrst");
                f.c2->create(f.in(r));
                f.c2->append(f.in(r), {}, std::nullopt, body);
                auto report = f.restore(r);
                INFO(describe(report));
                REQUIRE_FALSE(report.failed());
                CHECK(total(report, &archive::RestoreMailboxReport::already) == 1);
                CHECK(total(report, &archive::RestoreMailboxReport::appended) == 1);
                CHECK(shas(f.target(r)) == shas(f.source()));
            }

            SECTION("a dry run writes nothing: no journal entry, no CREATE") {
                f.c1->create(f.p + f.d + "Empty");
                for (int i = 0; i < 3; ++i)
                    f.c1->append(f.p, {}, std::nullopt, message("Message-ID: <d" + std::to_string(i) + "@id>", "d", "x"));
                f.backup();
                const auto r = f.root("ikrsd");
                archive::RestoreOptions o;
                o.stop_after_appends = 3;
                CHECK_THROWS_AS(f.restore(r, o), archive::RestoreStopped);  // stopped before p/Empty
                archive::RestoreOptions dry;
                dry.dry_run = true;
                auto plan = f.restore(r, dry);
                INFO(describe(plan));
                REQUIRE_FALSE(plan.failed());
                CHECK(total(plan, &archive::RestoreMailboxReport::already) == 3);
                CHECK(total(plan, &archive::RestoreMailboxReport::to_append) == 0);
                auto account_id = f.store.catalog->find_account("src");
                auto mb = f.store.catalog->find_mailbox(*account_id, f.p);
                for (const auto& m : f.store.catalog->messages(mb->id))
                    CHECK_FALSE(f.store.catalog->restored("dst", f.in(r), m.id));
                CHECK(f.c2->list("", f.in(r) + f.d + "Empty").empty());
            }
        }
}

TEST_CASE("restore: keywords the target cannot take are dropped and reported", "[integration][restore]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Fixture f(kind);
            f.c1->create(f.p);
            for (int i = 0; i < 3; ++i)
                f.c1->append(f.p, {"\\Seen", "$Fine"}, std::nullopt, message("Message-ID: <k" + std::to_string(i) + "@id>", "k", "x"));
            f.backup();
            // A Gmail label with "]", 8-bit text and a wildcard: none is an atom (RFC 3501 §9).
            f.add_to_backup(message("Message-ID: <bad@id>", "bad keywords", "y"),
                            {"$Good", "[Gmail]/Wichtig", "\\Flagged", "50%off", "\xc3\x9c" "ber"}, 4000);
            const auto r = f.root("ikrsk");
            auto report = f.restore(r);
            INFO(describe(report));
            REQUIRE_FALSE(report.failed());
            CHECK(total(report, &archive::RestoreMailboxReport::appended) == 4);
            REQUIRE(report.mailboxes.size() == 1);
            const auto& dropped = report.mailboxes.front().dropped_keywords;
            CHECK(dropped == std::map<std::string, std::uint64_t>{{"50%off", 1}, {"[Gmail]/Wichtig", 1}, {"\xc3\x9c" "ber", 1}});
            auto target = f.target(r);
            REQUIRE(target.size() == 4);
            std::set<std::vector<std::string>> flag_sets;
            for (const auto& m : target) flag_sets.insert(m.flags);
            CHECK(flag_sets == std::set<std::vector<std::string>>{{"$Fine", "\\Seen"}, {"$Good", "\\Flagged"}});
        }
}

TEST_CASE("restore: flags and dates a server drops on APPEND", "[integration][restore]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Fixture f(kind);
            f.c1->create(f.p);
            f.c1->append(f.p, {"\\Seen"}, "01-Jan-2024 10:00:00 +0100", message("Message-ID: <f1@id>", "one", "1"));
            f.c1->append(f.p, {"\\Flagged", "$Work"}, "15-Feb-2023 23:59:59 -0500", message("Message-ID: <f2@id>", "two", "2"));
            f.c1->append(f.p, {"\\Answered", "\\Flagged", "\\Seen"}, "02-Mar-2022 01:02:03 +0000", message("", "three", "3"));
            f.c1->append(f.p, {}, "03-Apr-2021 04:05:06 +0530", message("Message-ID: <f4@id>", "four", "4"));
            f.backup();

            struct Case {
                const char* name;
                std::vector<std::string> rewrites;
            };
            for (const auto& c : {Case{"all flags dropped", {"--strip-append-flags"}},
                                  Case{"\\Flagged dropped (Exchange-like)", {"--strip-append-flag", "\\Flagged"}},
                                  Case{"all flags dropped, no UIDPLUS", {"--strip-append-flags", "--hide-capability", "UIDPLUS"}},
                                  Case{"no UIDPLUS, no MULTIAPPEND", {"--strip-append-flags", "--hide-capability", "UIDPLUS",
                                                                      "--hide-capability", "MULTIAPPEND"}}}) {
                DYNAMIC_SECTION(c.name) {
                    ImapProxy proxy(c.rewrites, f.kind);
                    const auto r = f.root("ikrsf");
                    auto report = f.restore(r, {}, proxy.options(2));
                    INFO(describe(report));
                    REQUIRE_FALSE(report.failed());
                    CHECK(total(report, &archive::RestoreMailboxReport::appended) == 4);
                    CHECK(total(report, &archive::RestoreMailboxReport::flags_fixed) > 0);
                    CHECK(total(report, &archive::RestoreMailboxReport::dates_not_kept) == 0);
                    CHECK(f.target(r) == f.source());
                }
            }

            SECTION("keywords missing from PERMANENTFLAGS without \\* are not sent, and reported") {
                ImapProxy proxy({"--permanent-flags", "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"}, f.kind);
                const auto r = f.root("ikrsp");
                auto report = f.restore(r, {}, proxy.options(2));
                INFO(describe(report));
                REQUIRE_FALSE(report.failed());
                REQUIRE(report.mailboxes.size() == 1);
                CHECK(report.mailboxes.front().dropped_keywords == std::map<std::string, std::uint64_t>{{"$Work", 1}});
                auto want = f.source();
                for (auto& m : want) std::erase(m.flags, "$Work");
                std::sort(want.begin(), want.end());
                CHECK(f.target(r) == want);
            }

            SECTION("a date the server could not keep is reported") {
                ImapProxy proxy({"--strip-append-date"}, f.kind);
                const auto r = f.root("ikrsd");
                auto report = f.restore(r, {}, proxy.options(2));
                INFO(describe(report));
                CHECK(total(report, &archive::RestoreMailboxReport::appended) == 4);
                CHECK(total(report, &archive::RestoreMailboxReport::dates_not_kept) == 4);
                CHECK(shas(f.target(r)) == shas(f.source()));
            }
        }
}

TEST_CASE("restore creates the backup's empty mailboxes", "[integration][restore]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            Fixture f(kind);
            f.c1->create(f.p);
            f.c1->create(f.p + f.d + "Empty");
            f.c1->create(f.p + f.d + "Empty" + f.d + "Deeper");
            f.backup();
            const auto r = f.root("ikrse");
            auto report = f.restore(r);
            INFO(describe(report));
            REQUIRE_FALSE(report.failed());
            std::set<std::string> names;
            for (const auto& e : f.c2->list("", r + f.d + "*")) names.insert(e.name);
            CHECK(names == std::set<std::string>{f.in(r), f.in(r) + f.d + "Empty", f.in(r) + f.d + "Empty" + f.d + "Deeper"});
        }
}
