// Export and restore read a store file through store::read_original: a store
// that keeps pure-CRLF messages with LF exports exactly what a byte-for-byte
// store of the same messages exports, in every format.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <map>
#include <sstream>

#include "archive/stored_literal.hpp"

using namespace imapkeep;
namespace fs = std::filesystem;

namespace {

struct Scratch {
    fs::path dir;
    Scratch() {
        std::string t = (fs::temp_directory_path() / "imapkeep-le.XXXXXX").string();
        dir = ::mkdtemp(t.data());
    }
    ~Scratch() { fs::remove_all(dir); }
};

const std::vector<std::string> kBodies = {
    "From: Alice <alice@example.org>\r\nSubject: one\r\n\r\nFrom the start\r\n>From quoted\r\n",
    "From: bob@example.org\r\nSubject: two\r\n\r\nbare\nLF\r\n",
    "Return-Path: <c@example.org>\r\nSubject: three\r\n\r\nno final newline",
    "Subject: four\r\n\r\nends with CR\r",
};

// A store holding kBodies in INBOX, with or without the LF form.
void fill(const fs::path& root, bool lf) {
    fs::create_directories(root);
    auto catalog = store::open_sqlite_catalog((root / "catalog.sqlite").string());
    store::MaildirOptions options;
    options.lf_line_endings = lf;
    auto messages = store::open_maildir_store(root.string(), options);
    store::MailboxRecord box;
    box.account_id = catalog->ensure_account("work");
    box.name = "INBOX";
    box.delimiter = "/";
    box.uidvalidity = 7;
    box.id = catalog->save_mailbox(box);
    std::uint32_t uid = 0;
    for (const auto& body : kBodies) {
        ++uid;
        auto pending = messages->begin("work", "");
        pending->write(body);
        pending->finish();
        messages->sync_pending();
        store::MessageRecord m;
        m.mailbox_id = box.id;
        m.uidvalidity = 7;
        m.uid = uid;
        m.internaldate = 1'700'000'000 + uid;
        store::describe_stored(*pending, m);
        m.flags = {"\\Seen"};
        m.file = messages->commit(*pending, "work", "", uid, m.internaldate, m.flags);
        m.added_at = 1;
        catalog->add_message(m);
    }
    messages->sync_committed();
}

// relative path -> bytes, for every file under `root` (or the file itself).
std::map<std::string, std::string> tree(const fs::path& root) {
    std::map<std::string, std::string> out;
    auto read = [](const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    if (fs::is_regular_file(root)) {
        out[""] = read(root);
        return out;
    }
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        out[fs::relative(e.path(), root).string()] = read(e.path());
    }
    return out;
}

std::map<std::string, std::string> exported(const fs::path& store_root,
                                            archive::ArchiveFormat format, const fs::path& output) {
    auto catalog = store::open_sqlite_catalog((store_root / "catalog.sqlite").string());
    auto messages = store::open_maildir_store(store_root.string());
    archive::ExportOptions options;
    options.format = format;
    options.output = output.string();
    const auto report = archive::export_from_store(*catalog, *messages, "work", options);
    INFO(report.error);
    for (const auto& mb : report.mailboxes)
        for (const auto& e : mb.errors) INFO(e);
    REQUIRE_FALSE(report.failed());
    return tree(output);
}

}  // namespace

TEST_CASE("export from an LF store equals export from a byte-for-byte store",
          "[archive][line_endings]") {
    Scratch s;
    fill(s.dir / "lf", true);
    fill(s.dir / "wire", false);
    for (auto format : {archive::ArchiveFormat::Eml, archive::ArchiveFormat::Mbox,
                        archive::ArchiveFormat::Maildir}) {
        const std::string name(archive::archive_format_name(format));
        INFO(name);
        const auto from_lf = exported(s.dir / "lf", format, s.dir / ("out-lf." + name));
        const auto from_wire = exported(s.dir / "wire", format, s.dir / ("out-wire." + name));
        REQUIRE(from_lf.size() == from_wire.size());
        CHECK_FALSE(from_lf.empty());
        auto a = from_lf.begin();
        for (auto b = from_wire.begin(); b != from_wire.end(); ++a, ++b) {
            CHECK(a->first == b->first);
            CHECK(a->second == b->second);
        }
    }
}

TEST_CASE("StoredLiteral gives the wire bytes and refuses another length",
          "[archive][line_endings]") {
    Scratch s;
    auto messages = store::open_maildir_store(s.dir.string());
    const std::string wire = "Subject: x\r\n\r\nbody\r\n";
    auto pending = messages->begin("work", "");
    pending->write(wire);
    pending->finish();
    messages->sync_pending();
    store::MessageRecord row;
    store::describe_stored(*pending, row);
    row.file = messages->commit(*pending, "work", "", 1, 0, {});
    REQUIRE(row.line_endings == store::LineEndings::Lf);
    std::string sent;
    archive::detail::StoredLiteral literal(*messages, row, row.file, wire.size());
    CHECK(literal.size() == wire.size());
    literal.write_to([&](std::string_view piece) { sent.append(piece); });
    CHECK(sent == wire);
    // Sent twice (a command replayed): the same bytes again.
    sent.clear();
    literal.write_to([&](std::string_view piece) { sent.append(piece); });
    CHECK(sent == wire);
    // The file's own size is announced (read as wire bytes): too short for
    // the expanded form, so it stops before sending more than announced.
    archive::detail::StoredLiteral as_lf_too_short(*messages, row, row.file,
                                                   fs::file_size(messages->absolute(row.file)));
    CHECK_THROWS_AS(as_lf_too_short.write_to([](std::string_view) {}), std::runtime_error);
    archive::detail::StoredLiteral too_long(*messages, row, row.file, wire.size() + 1);
    CHECK_THROWS_AS(too_long.write_to([](std::string_view) {}), std::runtime_error);
    // Gone since it was checked: the store says so.
    messages->remove(row.file);
    CHECK_THROWS_AS(literal.write_to([](std::string_view) {}), store::MessageMissing);
}
