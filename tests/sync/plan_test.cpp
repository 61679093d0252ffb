// Planner tables: every decision the sync makes, without a server.
#include <imapkeep/sync/plan.hpp>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <tuple>

using namespace imapkeep;
using namespace imapkeep::sync;

TEST_CASE("mailbox_matches follows LIST wildcard rules") {
    struct Case {
        const char* name;
        const char* pattern;
        const char* delim;
        bool match;
    } cases[] = {
        {"INBOX", "*", "/", true},
        {"inbox", "INBOX", "/", true},
        {"Archive/2024", "*", "/", true},
        {"Archive/2024", "%", "/", false},
        {"Archive", "%", "/", true},
        {"Archive/2024", "Archive/%", "/", true},
        {"Archive/2024/Q1", "Archive/%", "/", false},
        {"Archive/2024/Q1", "Archive/*", "/", true},
        {"Junk", "Junk", ".", true},
        {"Junk.Old", "Junk", ".", false},
        {"Trash", "T*h", ".", true},
        {"Tras", "T*h", ".", false},
        {"", "*", ".", true},
    };
    for (const auto& c : cases) {
        INFO(c.name << " ~ " << c.pattern);
        CHECK(mailbox_matches(c.name, c.pattern, c.delim) == c.match);
    }
}

TEST_CASE("mailbox_selected applies includes then excludes") {
    std::vector<std::string> inc{"*"}, exc{"Junk", "Trash/*"};
    CHECK(mailbox_selected("INBOX", "/", inc, exc));
    CHECK_FALSE(mailbox_selected("Junk", "/", inc, exc));
    CHECK_FALSE(mailbox_selected("Trash/Old", "/", inc, exc));
    CHECK(mailbox_selected("Trash", "/", inc, exc));
    CHECK_FALSE(mailbox_selected("Sent", "/", {"INBOX"}, {}));
}

namespace {
store::MailboxRecord mbox(store::Id id, std::string name, std::uint32_t uv, std::string mid = "") {
    store::MailboxRecord m;
    m.id = id;
    m.name = std::move(name);
    m.uidvalidity = uv;
    m.mailboxid = std::move(mid);
    return m;
}
store::MessageRecord msg(store::Id id, std::uint32_t uid, std::vector<std::string> flags,
                         std::string message_id = "", std::int64_t date = 0, std::uint64_t size = 0) {
    store::MessageRecord m;
    m.id = id;
    m.uid = uid;
    m.flags = std::move(flags);
    m.message_id = std::move(message_id);
    m.internaldate = date;
    m.size = size;
    return m;
}
}  // namespace

TEST_CASE("plan_mailboxes finds created, renamed and deleted mailboxes") {
    std::vector<store::MailboxRecord> catalog{mbox(1, "INBOX", 10), mbox(2, "Old", 20),
                                              mbox(3, "Gone", 30)};
    auto deleted = mbox(4, "LongGone", 40);
    deleted.deleted_at = 5;
    catalog.push_back(deleted);
    std::vector<ServerMailbox> server{{"INBOX", "/", 10, "", ""}, {"New", "/", 20, "", ""},
                                      {"Fresh", "/", 99, "", ""}};
    auto plan = plan_mailboxes(server, catalog);
    // UIDVALIDITY alone is no proof: a candidate for the content check.
    CHECK(plan.renamed.empty());
    REQUIRE(plan.unproven.size() == 1);
    CHECK(plan.unproven[0].first == 2);
    CHECK(plan.unproven[0].second.name == "New");
    REQUIRE(plan.deleted.size() == 1);
    CHECK(plan.deleted[0] == 3);
    REQUIRE(plan.created.size() == 1);
    CHECK(plan.created[0].name == "Fresh");
}

TEST_CASE("plan_mailboxes prefers MAILBOXID and refuses ambiguous UIDVALIDITY") {
    std::vector<store::MailboxRecord> catalog{mbox(1, "A", 7, "id-a")};
    std::vector<ServerMailbox> server{{"B", "/", 7, "id-other", ""}, {"C", "/", 8, "id-a", ""}};
    auto plan = plan_mailboxes(server, catalog);
    REQUIRE(plan.renamed.size() == 1);
    CHECK(plan.renamed[0].second.name == "C");

    std::vector<store::MailboxRecord> catalog2{mbox(1, "A", 7)};
    std::vector<ServerMailbox> twins{{"B", "/", 7, "", ""}, {"C", "/", 7, "", ""}};
    auto plan2 = plan_mailboxes(twins, catalog2);
    CHECK(plan2.renamed.empty());
    CHECK(plan2.deleted == std::vector<store::Id>{1});
    CHECK(plan2.created.size() == 2);
}

TEST_CASE("rename evidence: sampled messages must match where the candidate still has them") {
    std::vector<store::MessageRecord> sample{msg(1, 1, {}, "<a@x>", 0, 100), msg(2, 5, {}, "<b@x>", 0, 200),
                                             msg(3, 9, {}, "", 0, 300)};
    struct Case {
        const char* name;
        std::vector<ServerMessageKey> server;
        bool same;
    } cases[] = {
        {"all match", {{1, "<a@x>", 0, 100}, {5, "<b@x>", 0, 200}, {9, "", 0, 300}}, true},
        {"some expunged, rest match", {{5, "<b@x>", 0, 200}}, true},
        {"other message at a known UID", {{1, "<z@x>", 0, 100}, {5, "<b@x>", 0, 200}}, false},
        {"same id, other size", {{1, "<a@x>", 0, 101}}, false},
        {"only a message without Message-ID matches", {{9, "", 0, 300}}, false},
        {"nothing left", {}, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(same_messages(sample, c.server) == c.same);
    }
}

TEST_CASE("rename_sample spreads over the UID range of the current UIDVALIDITY") {
    std::vector<store::MessageRecord> catalog;
    for (std::uint32_t uid = 1; uid <= 100; ++uid) {
        auto m = msg(uid, uid, {});
        m.uidvalidity = uid == 100 ? 6 : 5;
        catalog.push_back(m);
    }
    auto sample = rename_sample(catalog, 5, 4);
    REQUIRE(sample.size() == 4);
    CHECK(sample.front().uid == 1);
    CHECK(sample.back().uid == 99);
    CHECK(rename_sample(catalog, 6, 4).size() == 1);
}

TEST_CASE("plan_flags: complete listings expunge, CHANGEDSINCE listings do not") {
    std::vector<store::MessageRecord> catalog{msg(1, 1, {"\\Seen"}), msg(2, 2, {}),
                                              msg(3, 3, {"$Work"})};
    std::map<std::uint32_t, std::vector<std::string>> server{{1, {"\\Seen", "\\Recent"}},
                                                             {3, {"\\Flagged"}}};
    auto full = plan_flags(catalog, server, true);
    CHECK(full.expunged == std::vector<store::Id>{2});
    REQUIRE(full.changed.size() == 1);
    CHECK(full.changed[0].first == 3);
    CHECK(full.changed[0].second == std::vector<std::string>{"\\Flagged"});
    auto partial = plan_flags(catalog, server, false);
    CHECK(partial.expunged.empty());
    CHECK(partial.changed.size() == 1);
}

TEST_CASE("plan_expunges keeps what the server still has") {
    std::vector<store::MessageRecord> catalog{msg(1, 1, {}), msg(2, 5, {}), msg(3, 9, {})};
    CHECK(plan_expunges(catalog, UidSet::parse("1,9")) == std::vector<store::Id>{2});
    CHECK(plan_expunges(catalog, UidSet()).size() == 3);
    CHECK(plan_expunges(catalog, UidSet::parse("1,5,9")).empty());
    CHECK(plan_expunges(catalog, UidSet::parse("1:4294967295")).empty());
}

TEST_CASE("plan_rematch pairs by Message-ID, date and size, once each") {
    std::vector<store::MessageRecord> catalog{
        msg(1, 1, {}, "<a@x>", 100, 10), msg(2, 2, {}, "<b@x>", 200, 20),
        msg(3, 3, {}, "<dup@x>", 300, 30), msg(4, 4, {}, "<dup@x>", 300, 30),
        msg(5, 5, {}, "", 500, 50)};
    std::vector<ServerMessageKey> server{{11, "<a@x>", 100, 10},   {12, "<b@x>", 201, 20},
                                         {13, "<dup@x>", 300, 30}, {14, "<dup@x>", 300, 30},
                                         {15, "<dup@x>", 300, 30}, {16, "", 500, 50}};
    auto r = plan_rematch(catalog, server);
    std::map<store::Id, std::uint32_t> matched(r.matched.begin(), r.matched.end());
    CHECK(matched.size() == 1);
    CHECK(matched[1] == 11);
    CHECK(r.unmatched_server == std::vector<std::uint32_t>{12, 13, 14, 15, 16});
    CHECK(r.unmatched_catalog == std::vector<store::Id>{2, 3, 4, 5});
}

// Found by fuzz_sync: two different messages may share Message-ID, date and
// size. A pairing by that key alone could file one's bytes under the other's
// UID, and never download the other. A key that is not unique on both sides
// proves nothing: those messages are downloaded again (the old rows go to the
// attic), whatever the counts.
TEST_CASE("plan_rematch pairs nothing whose key is shared") {
    struct Case {
        const char* name;
        int catalog_copies, server_copies;
    };
    for (const auto& c : {Case{"two rows, one server message", 2, 1}, Case{"one row, two server messages", 1, 2},
                          Case{"two and two", 2, 2}}) {
        INFO(c.name);
        std::vector<store::MessageRecord> catalog;
        for (int i = 0; i < c.catalog_copies; ++i) catalog.push_back(msg(i + 1, i + 1, {}, "<k@x>", 300, 30));
        std::vector<ServerMessageKey> server;
        for (int i = 0; i < c.server_copies; ++i) server.push_back({std::uint32_t(20 + i), "<k@x>", 300, 30});
        auto r = plan_rematch(catalog, server);
        CHECK(r.matched.empty());
        CHECK(r.unmatched_server.size() == std::size_t(c.server_copies));
        CHECK(r.unmatched_catalog.size() == std::size_t(c.catalog_copies));
    }
}

TEST_CASE("rematch_digest differs whenever one field of the key does") {
    struct Key {
        const char* message_id;
        std::int64_t internaldate;
        std::uint64_t size;
    } keys[] = {
        {"<a@x>", 100, 10}, {"<a@x>", 100, 11},  {"<a@x>", 101, 10}, {"<b@x>", 100, 10},
        {"", 100, 10},      {"<a@x>", -100, 10}, {"<a@x>", 0, 0},    {"<a@x", 100, 10},
        // A Message-ID ending in the byte the other key's date starts with.
        {"<a@x>n", 0, 10}, {"<a@x>", 0x6e, 10},
    };
    std::set<RematchDigest> seen;
    for (const auto& k : keys) {
        INFO(k.message_id << " " << k.internaldate << " " << k.size);
        CHECK(rematch_digest(k.message_id, k.internaldate, k.size) ==
              rematch_digest(std::string(k.message_id), k.internaldate, k.size));
        CHECK(seen.insert(rematch_digest(k.message_id, k.internaldate, k.size)).second);
    }
}

TEST_CASE("RematchKeys plans in UID and id order and gives back each server message's tag") {
    RematchKeys keys;
    keys.add_catalog(9, "<a@x>", 100, 10);
    keys.add_catalog(3, "<b@x>", 200, 20);
    keys.add_catalog(5, "<gone@x>", 300, 30);
    keys.add_catalog(4, "", 400, 40);
    keys.add_server(40, "<b@x>", 200, 20, 7);
    keys.add_server(30, "<a@x>", 100, 10, 8);
    keys.add_server(20, "<new@x>", 500, 50, 9);
    keys.add_server(10, "", 400, 40, 6);
    auto r = keys.plan();
    CHECK(r.matched == std::vector<std::pair<store::Id, std::uint32_t>>{{9, 30}, {3, 40}});
    CHECK(r.unmatched_server == std::vector<std::uint32_t>{10, 20});
    CHECK(r.unmatched_catalog == std::vector<store::Id>{4, 5});
    CHECK(keys.tag_of(30) == 8);
    CHECK(keys.tag_of(40) == 7);
    CHECK(keys.tag_of(20) == 9);
    CHECK(keys.tag_of(10) == 0);  // no Message-ID: never matched, not kept
    CHECK(keys.tag_of(11) == 0);
}

namespace {

// The rule as plan_rematch had it before its keys were digests (ordered maps
// of the full key), the reference for random mailboxes full of shared keys.
Rematch reference_rematch(const std::vector<store::MessageRecord>& catalog,
                          const std::vector<ServerMessageKey>& server) {
    using Key = std::tuple<std::string, std::int64_t, std::uint64_t>;
    Rematch out;
    std::map<Key, std::vector<store::Id>> rows;
    for (const auto& m : catalog) rows[{m.message_id, m.internaldate, m.size}].push_back(m.id);
    std::map<Key, int> on_server;
    for (const auto& s : server) ++on_server[{s.message_id, s.internaldate, s.size}];
    std::set<store::Id> used;
    for (const auto& s : server) {
        const Key key{s.message_id, s.internaldate, s.size};
        auto it = rows.find(key);
        if (s.message_id.empty() || it == rows.end() || it->second.size() != 1 || on_server[key] != 1) {
            out.unmatched_server.push_back(s.uid);
            continue;
        }
        used.insert(it->second.front());
        out.matched.emplace_back(it->second.front(), s.uid);
    }
    for (const auto& m : catalog)
        if (!used.count(m.id)) out.unmatched_catalog.push_back(m.id);
    return out;
}

}  // namespace

TEST_CASE("plan_rematch decides as the full-key rule on random mailboxes") {
    std::mt19937 random(26);
    std::size_t matched = 0, shared = 0;  // the rounds hold both kinds
    for (int round = 0; round < 200; ++round) {
        INFO("round " << round);
        // Few distinct keys, so that many are shared on one side or both.
        auto key = [&](std::uint32_t n) {
            std::uniform_int_distribution<int> pick(0, 9);
            const int k = pick(random) + static_cast<int>(n % 3);
            ServerMessageKey s{0, k == 0 ? "" : "<" + std::to_string(k % 7) + "@x>", k % 4, std::uint64_t(k % 5)};
            return s;
        };
        std::vector<store::MessageRecord> catalog;
        std::vector<ServerMessageKey> server;
        for (std::uint32_t i = 1; i <= 12; ++i) {
            auto k = key(i);
            catalog.push_back(msg(store::Id(i), i, {}, k.message_id, k.internaldate, k.size));
        }
        for (std::uint32_t i = 1; i <= 12; ++i) {
            auto k = key(i);
            k.uid = 100 + i;
            server.push_back(k);
        }
        auto got = plan_rematch(catalog, server);
        auto want = reference_rematch(catalog, server);
        matched += want.matched.size();
        shared += want.unmatched_catalog.size();
        using Pairs = std::set<std::pair<store::Id, std::uint32_t>>;
        CHECK(Pairs(got.matched.begin(), got.matched.end()) == Pairs(want.matched.begin(), want.matched.end()));
        CHECK(std::set<std::uint32_t>(got.unmatched_server.begin(), got.unmatched_server.end()) ==
              std::set<std::uint32_t>(want.unmatched_server.begin(), want.unmatched_server.end()));
        CHECK(got.unmatched_server.size() == want.unmatched_server.size());
        CHECK(std::set<store::Id>(got.unmatched_catalog.begin(), got.unmatched_catalog.end()) ==
              std::set<store::Id>(want.unmatched_catalog.begin(), want.unmatched_catalog.end()));
        CHECK(got.unmatched_catalog.size() == want.unmatched_catalog.size());
    }
    CHECK(matched > 200);
    CHECK(shared > 200);
}

TEST_CASE("plan_flags ignores the case of system flags and \\Recent") {
    // Quirk(various): servers may send \SEEN or \seen; flags are case-insensitive.
    std::vector<store::MessageRecord> catalog{msg(1, 1, {"\\Seen", "$Work"})};
    std::map<std::uint32_t, std::vector<std::string>> server{{1, {"\\SEEN", "\\Recent", "$Work"}}};
    auto diff = plan_flags(catalog, server, true);
    CHECK(diff.changed.empty());
    CHECK(diff.expunged.empty());
}

TEST_CASE("LIST patterns select mailboxes, as restore and export use them") {
    struct Case {
        const char* pattern;
        const char* name;
        bool match;
    };
    const Case cases[] = {
        {"*", "A/B/C", true},       {"%", "A", true},          {"%", "A/B", false},
        {"A/%", "A/B", true},       {"A/%", "A/B/C", false},   {"A/*", "A/B/C", true},
        {"A*", "Archive", true},    {"A*", "Bin", false},      {"inbox", "INBOX", true},
        {"INBOX", "inbox", true},   {"Sent", "sent", false},   {"*B", "A/B", true},
        {"%B", "A/B", false},       {"", "", true},            {"A", "AB", false},
    };
    for (const auto& c : cases) {
        INFO(c.pattern << " vs " << c.name);
        CHECK(mailbox_matches(c.name, c.pattern, "/") == c.match);
    }
    CHECK(mailbox_selected("Anything", "/", {}, {}));
    CHECK(mailbox_selected("A/B", "/", {"X", "A/*"}, {}));
    CHECK_FALSE(mailbox_selected("A/B", "/", {"X", "Y"}, {}));
}

TEST_CASE("chunk_limits: a paced run's chunk is what its rates allow in kChunkSeconds") {
    struct Case {
        double messages_per_second;
        double bytes_per_second;
        std::size_t messages;
        std::uint64_t bytes;
    } cases[] = {
        {0, 0, 200, 32ull << 20},            // unpaced: the fixed bounds
        {1, 0, 60, 32ull << 20},             // O365's pace: a minute of messages
        {0.5, 0, 30, 32ull << 20},
        {0.001, 0, 1, 32ull << 20},          // never less than one message
        {100, 0, 200, 32ull << 20},          // never more than the fixed bound
        {0, 10'000, 200, 600'000},
        {0, 1, 200, 60},
        {2, 1'000'000, 120, 32ull << 20},
    };
    for (const auto& c : cases) {
        INFO(c.messages_per_second << " msg/s, " << c.bytes_per_second << " B/s");
        PacingLimits pacing;
        pacing.max_messages_per_second = c.messages_per_second;
        pacing.max_bytes_per_second = c.bytes_per_second;
        auto limits = chunk_limits(pacing);
        CHECK(limits.messages == c.messages);
        CHECK(limits.bytes == c.bytes);
    }
}

TEST_CASE("plan_chunks: by count and bytes, in order, an oversized message alone") {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> wanted;
    for (std::uint32_t uid = 1; uid <= 7; ++uid) wanted.emplace_back(uid, uid == 5 ? 1000 : 10);
    struct Case {
        std::size_t messages;
        std::uint64_t bytes;
        std::vector<std::string> chunks;
    } cases[] = {
        {200, 1 << 20, {"1:7"}},
        {3, 1 << 20, {"1:3", "4:6", "7"}},
        {200, 25, {"1:2", "3:4", "5", "6:7"}},
        {1, 1, {"1", "2", "3", "4", "5", "6", "7"}},
    };
    for (const auto& c : cases) {
        INFO(c.messages << " messages, " << c.bytes << " bytes");
        std::vector<std::string> got;
        for (const auto& chunk : plan_chunks(wanted, ChunkLimits{c.messages, c.bytes}))
            got.push_back(chunk.to_string());
        CHECK(got == c.chunks);
    }
    CHECK(plan_chunks({}, ChunkLimits{}).empty());
}
