// The store contract for reads: what every MessageStore's open_read() does
// (message_store.hpp, message_source.hpp), checked on every implementation
// (message_store_backends.hpp), one run per backend. Identity is what the
// catalog row holds (its key and SHA-256), so every check reads through a
// MessageRecord as the callers do.
#include <catch2/catch.hpp>
#include <functional>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/util/sha256.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "message_store_backends.hpp"

using namespace imapkeep::store;

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

MessageRecord put(MessageStore& store, const std::string& folder, std::uint32_t uid,
                  const std::string& body, const std::vector<std::string>& flags = {}) {
    auto pending = store.begin("work", folder);
    // Odd-sized pieces, so nothing depends on where the writes were cut.
    for (std::size_t pos = 0; pos < body.size(); pos += 4093)
        pending->write(std::string_view(body).substr(pos, 4093));
    pending->finish();
    store.sync_pending();
    MessageRecord row;
    row.uid = uid;
    describe_stored(*pending, row);
    row.file = store.commit(*pending, "work", folder, uid, 1'700'000'000, flags);
    store.sync_committed();
    return row;
}

// Everything the source gives, checking the piece contract on the way.
std::string read_all(MessageSource& source) {
    std::string out;
    for (auto piece = source.next(); !piece.empty(); piece = source.next()) {
        CHECK(piece.size() <= 2 * kReadChunk);
        out.append(piece);
    }
    CHECK(source.next().empty());  // and stays at the end
    return out;
}

std::string read_row(MessageStore& store, const MessageRecord& row,
                     ReadLookup lookup = ReadLookup::FollowRenames) {
    auto source = store.open_read(message_ref(row), lookup);
    return read_all(*source);
}

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

TEST_CASE("open_read of a message that is gone throws MessageMissing", "[store][contract][read]") {
    IMAPKEEP_EACH_MESSAGE_STORE(backend);
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
