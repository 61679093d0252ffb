// The store contract: what every MessageStore does (message_store.hpp,
// message_source.hpp), checked on every implementation
// (message_store_backends.hpp), one run per backend; then what only the
// Maildir stores do (a removal that takes the bytes away). Identity is what
// the catalog row holds (its key and SHA-256), so every check reads through
// a MessageRecord as the callers do. The S3 store's own tests:
// s3_message_store_test.cpp.
#include <catch2/catch.hpp>
#include <functional>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/util/sha256.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "message_store_backends.hpp"
#include "message_store_io.hpp"

using namespace imapkeep::store;
using imapkeep::test::put;
using imapkeep::test::read_all;
using imapkeep::test::read_row;

namespace {

static_assert(std::is_base_of_v<StoreError, MessageMissing>);

struct Body {
    const char* name;
    std::string bytes;
};

// A pure-CRLF text longer than several read chunks, with lines that straddle
// their boundaries.
std::string long_crlf() {
    std::string out = "Subject: long\r\n\r\n";
    for (int i = 0; out.size() < 5 * kReadChunk + 17; ++i)
        out += "line " + std::to_string(i) + " of many\r\n";
    return out;
}

const std::vector<Body> kBodies = {
    {"pure CRLF", "From: a@example.org\r\nSubject: one\r\n\r\nbody\r\n"},
    {"bare LF", "Subject: two\n\nbody\n"},
    {"CRLF and a bare LF", "Subject: three\r\n\r\nbare\nLF\r\n"},
    {"a final lone CR", "Subject: four\r\n\r\nends with CR\r"},
    {"no final newline, a NUL", "Subject: five\r\n\r\nNUL " + std::string(1, '\0') + " here"},
    {"empty", ""},
    {"pure CRLF over several chunks", long_crlf()},
    {"a bare LF after the first chunks", long_crlf() + "late\n"},
};

}  // namespace

TEST_CASE("open_read gives back the bytes written, whatever form the store keeps",
          "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    auto& store = backend->store();
    std::uint32_t uid = 0;
    std::vector<MessageRecord> rows;
    for (const auto& body : kBodies) {
        INFO(body.name);
        const auto row = put(store, "", ++uid, body.bytes);
        rows.push_back(row);
        CHECK(row.sha256 == imapkeep::util::sha256_hex(body.bytes));
        CHECK(read_row(store, row) == body.bytes);
        CHECK(read_row(store, row, ReadLookup::Exact) == body.bytes);
        auto source = store.open_read(message_ref(row));
        CHECK(source->file() == row.file);
        const auto digested = digest(*source);
        CHECK(digested.size == body.bytes.size());
        CHECK(digested.sha256 == row.sha256);
    }
    // Another process (a restore after the backup) reads the same.
    auto again = backend->reopen();
    for (std::size_t i = 0; i < kBodies.size(); ++i) {
        INFO(kBodies[i].name);
        CHECK(read_row(*again, rows[i]) == kBodies[i].bytes);
    }
}

TEST_CASE("two sources of one store read independently", "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    auto& store = backend->store();
    const std::string a = long_crlf(), b = long_crlf() + "other\n";
    const auto row_a = put(store, "", 1, a), row_b = put(store, ".B", 2, b);
    auto source_a = store.open_read(message_ref(row_a));
    auto source_b = store.open_read(message_ref(row_b));
    std::string got_a, got_b;
    for (bool more = true; more;) {
        const auto piece_a = source_a->next();
        got_a.append(piece_a);
        const auto piece_b = source_b->next();
        got_b.append(piece_b);
        more = !piece_a.empty() || !piece_b.empty();
    }
    CHECK(got_a == a);
    CHECK(got_b == b);
}

TEST_CASE("a large message streams through the store byte for byte", "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    auto& store = backend->store();
    // Pure CRLF and over 12 MiB: the LF form for Maildir, several multipart
    // parts for S3 (the test backend's threshold is 6 MiB).
    std::string body = "Subject: large\r\n\r\n";
    for (int i = 0; body.size() < 12 * 1024 * 1024 + 333; ++i)
        body += "a long line of the large message, number " + std::to_string(i) + "\r\n";
    const auto row = put(store, ".Big", 1, body);
    CHECK(row.size == body.size());
    CHECK(row.sha256 == imapkeep::util::sha256_hex(body));
    auto source = backend->reopen()->open_read(message_ref(row));
    const auto read = read_all(*source);
    CHECK(read.size() == body.size());
    CHECK(imapkeep::util::sha256_hex(read) == row.sha256);
}

TEST_CASE("open_read of a message this store never had throws MessageMissing",
          "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    // A row of another store of the same kind: a well-formed key, no bytes here.
    auto other = imapkeep::test::make_message_store_backend(backend_backend_name);
    REQUIRE(other);
    const auto elsewhere = put(other->store(), ".A", 1, kBodies[0].bytes + "elsewhere");
    put(backend->store(), ".A", 1, kBodies[0].bytes);
    for (auto lookup : {ReadLookup::FollowRenames, ReadLookup::Exact})
        CHECK_THROWS_AS(backend->store().open_read(message_ref(elsewhere), lookup), MessageMissing);
}

TEST_CASE("the same bytes in several folders and accounts read back through each row",
          "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    auto& store = backend->store();
    const std::string body = kBodies[1].bytes;
    const auto a = put(store, "", 1, body);
    const auto b = put(store, ".B", 1, body);
    const auto c = put(store, "", 1, body, {}, "other");
    CHECK(a.sha256 == b.sha256);
    CHECK(a.sha256 == c.sha256);
    // A row expunged in one folder leaves the copies the other rows hold.
    store.remove(a.file);
    store.sync_committed();
    CHECK(read_row(store, b) == body);
    CHECK(read_row(*backend->reopen(), c) == body);
}

TEST_CASE("a message discarded, or dropped before its commit, leaves nothing stored",
          "[store][contract]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    auto& store = backend->store();
    store.create_folder("work", ".A");
    const auto before = backend->stored_count();
    {
        auto finished = store.begin("work", ".A");
        finished->write(kBodies[0].bytes);
        finished->finish();
        finished->discard();
        auto half = store.begin("work", ".A");
        half->write(long_crlf());
        half->discard();
        auto dropped = store.begin("work", ".A");
        dropped->write(kBodies[2].bytes);
        dropped->finish();
    }
    CHECK(backend->stored_count() == before);
}

// Maildir only: in a content-addressed store another row may hold the same
// bytes, so remove() leaves the object to garbage collection.
TEST_CASE("open_read of a message that is gone throws MessageMissing", "[store][maildir][read]") {
    IMAPKEEP_EACH_MAILDIR_STORE(backend);
    auto& store = backend->store();
    const auto row = put(store, ".A", 1, kBodies[0].bytes);
    const auto kept = put(store, ".A", 2, kBodies[0].bytes + "x");
    store.remove(row.file);
    store.sync_committed();
    for (auto lookup : {ReadLookup::FollowRenames, ReadLookup::Exact}) {
        CHECK_THROWS_AS(store.open_read(message_ref(row), lookup), MessageMissing);
        CHECK(read_row(store, kept, lookup) == kBodies[0].bytes + "x");
    }
}

TEST_CASE("a message keeps its identity through the store's renames and moves",
          "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
    auto& store = backend->store();
    const std::string body = kBodies[2].bytes;
    struct Case {
        const char* name;
        // Changes where the message is kept; returns the key the catalog row then holds.
        std::function<std::string(const std::string& file)> change;
        // A run killed before its catalog commit leaves the row's old key:
        // FollowRenames still finds the message.
        bool old_key_follows;
    };
    const std::vector<Case> cases = {
        {"set_flags",
         [&](const std::string& f) {
             return store.set_flags(f, {"\\Seen", "\\Flagged"});
         },
         true},
        {"set_uid", [&](const std::string& f) { return store.set_uid(f, 77); }, true},
        {"move_to_attic", [&](const std::string& f) { return store.move_to_attic(f); }, true},
        {"move_to_folder",
         [&](const std::string& f) { return store.move_to_folder(f, "work", ".Other"); }, false},
        {"rename_folder",
         [&](const std::string& f) {
             store.rename_folder("work", ".A", ".Renamed");
             return store.path_in_folder(f, "work", ".Renamed");
         },
         false},
        {"link_into_folder (a second row's key)",
         [&](const std::string& f) { return store.link_into_folder(f, "work", ".Label"); }, true},
    };
    std::uint32_t uid = 0;
    for (const auto& c : cases) {
        INFO(c.name);
        auto row = put(store, ".A", ++uid, body, {"\\Answered"});
        const auto old_row = row;
        row.file = c.change(row.file);
        store.sync_committed();
        CHECK(read_row(store, row) == body);
        CHECK(read_row(store, row, ReadLookup::Exact) == body);
        if (c.old_key_follows) CHECK(read_row(store, old_row) == body);
    }
}
