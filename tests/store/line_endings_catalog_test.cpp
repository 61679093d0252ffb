// The catalog's per-message line_endings marker (schema 0004): rows of stores
// written before it stay 'wire' and verify clean; 'lf' rows verify through
// the reader, and any change to their file is still found.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/store/verify.hpp>

#include "store/migrations.hpp"
#include "store/sqlite_db.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kWire = "Subject: old\r\nFrom: a@example.org\r\n\r\nbody line\r\n";

struct Fixture {
    TempDir dir;
    std::unique_ptr<Catalog> catalog;
    std::unique_ptr<MessageStore> store;
    Id account = 0;
    Id mailbox = 0;

    void open() {
        catalog = open_sqlite_catalog(dir / "catalog.sqlite");
        store = open_maildir_store(dir / "store");
        account = catalog->ensure_account("work");
        if (mailbox) return;
        MailboxRecord box;
        box.account_id = account;
        box.name = "INBOX";
        mailbox = catalog->save_mailbox(box);
    }

    // Stores `wire` as a backup does: the row takes the pending's form.
    MessageRecord put(const std::string& wire, std::uint32_t uid) {
        auto pending = store->begin("work", "");
        pending->write(wire);
        pending->finish();
        store->sync_pending();
        MessageRecord m;
        m.mailbox_id = mailbox;
        m.uidvalidity = 1;
        m.uid = uid;
        describe_stored(*pending, m);
        m.file = store->commit(*pending, "work", "", uid, 0, {});
        m.added_at = 1;
        m.id = catalog->add_message(m);
        return m;
    }

    std::vector<VerifyProblem> verify() { return verify_files(*catalog, *store, account); }
};

void overwrite(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a catalog from before schema 4 keeps its files byte for byte and verifies",
          "[store][line_endings][migrations]") {
    TempDir dir;
    // What an older imapkeep left: schema 3, one message stored with its CRLF.
    fs::create_directories(dir / "store/mail/work/cur");
    fs::create_directories(dir / "store/mail/work/new");
    fs::create_directories(dir / "store/mail/work/tmp");
    const std::string file = "mail/work/cur/1.1_1.host,U=1:2,S";
    overwrite(dir / ("store/" + file), kWire);
    {
        SqliteDb db(dir / "catalog.sqlite");
        std::vector<Migration> old(compiled_migrations().begin(),
                                   compiled_migrations().begin() + 3);
        apply_migrations(db, old);
        REQUIRE(db.pragma_int("user_version") == 3);
        db.exec("INSERT INTO account(id, name) VALUES (1, 'work')");
        db.exec("INSERT INTO mailbox(id, account_id, name, folder) VALUES (1, 1, 'INBOX', '')");
        auto s = db.prepare(
            "INSERT INTO message(mailbox_id, uidvalidity, uid, internaldate, size, sha256, flags,"
            " file, added_at) VALUES (1, 1, 1, 0, ?1, ?2, '\\Seen', ?3, 1)");
        s.bind(1, static_cast<std::int64_t>(kWire.size()))
            .bind(2, digest_original(dir / ("store/" + file), LineEndings::Wire).sha256)
            .bind(3, file);
        s.run();
    }
    auto catalog = open_sqlite_catalog(dir / "catalog.sqlite");
    auto store = open_maildir_store(dir / "store");
    const auto rows = catalog->messages(1);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].line_endings == LineEndings::Wire);
    CHECK(verify_files(*catalog, *store, 1).empty());
    // The migration changed no file.
    CHECK(read_all(dir / ("store/" + file)) == kWire);
    overwrite(dir / ("store/" + file), "Subject: old\r\nFrom: a@example.org\r\n\r\nbody linE\r\n");
    const auto problems = verify_files(*catalog, *store, 1);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].kind == "corrupt");
}

TEST_CASE("an LF row verifies against the wire hash, and a change is found",
          "[store][line_endings][verify]") {
    Fixture f;
    f.open();
    const auto lf = f.put(kWire, 1);
    const auto mixed = f.put("Subject: mixed\r\n\r\nbare LF\n", 2);
    CHECK(lf.line_endings == LineEndings::Lf);
    CHECK(mixed.line_endings == LineEndings::Wire);
    CHECK(lf.size == kWire.size());
    const auto rows = f.catalog->messages(f.mailbox);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].line_endings == LineEndings::Lf);
    CHECK(rows[1].line_endings == LineEndings::Wire);
    CHECK(f.verify().empty());

    const std::string path = f.store->absolute(lf.file);
    const std::string stored = read_all(path);
    REQUIRE(stored == "Subject: old\nFrom: a@example.org\n\nbody line\n");

    SECTION("a flipped byte") {
        std::string flipped = stored;
        flipped[flipped.size() - 3] ^= 0x20;
        overwrite(path, flipped);
        const auto problems = f.verify();
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].kind == "corrupt");
        CHECK(problems[0].message_id == lf.id);
    }
    SECTION("the file put back with its CRLF (a CR more per line)") {
        overwrite(path, kWire);
        const auto problems = f.verify();
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].kind == "size");
    }
    SECTION("a row read as the wrong form") {
        f.catalog->set_line_endings(lf.id, LineEndings::Wire);
        const auto problems = f.verify();
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].kind == "size");
        f.catalog->set_line_endings(lf.id, LineEndings::Lf);
        CHECK(f.verify().empty());
    }
}

TEST_CASE("the catalog refuses a line_endings it does not know", "[store][line_endings]") {
    TempDir dir;
    { auto catalog = open_sqlite_catalog(dir / "catalog.sqlite"); }
    SqliteDb db(dir / "catalog.sqlite");
    db.exec("INSERT INTO account(id, name) VALUES (1, 'work')");
    db.exec("INSERT INTO mailbox(id, account_id, name, folder) VALUES (1, 1, 'INBOX', '')");
    CHECK_THROWS_AS(db.exec("INSERT INTO message(mailbox_id, uidvalidity, uid, internaldate, size,"
                            " sha256, file, added_at, line_endings)"
                            " VALUES (1, 1, 1, 0, 1, 'x', 'f', 1, 'crlf')"),
                    StoreError);
}
