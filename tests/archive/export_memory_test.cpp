// Export reads a message from the store's read API (MessageStore::open_read)
// in bounded pieces: a 200 MB message does not raise the heap by its size, in
// any format. The allocation counters of largest_allocation.hpp live in this
// binary through this file.
#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include "largest_allocation.hpp"

using namespace imapkeep;
namespace fs = std::filesystem;

namespace {

struct Scratch {
    fs::path dir;
    Scratch() {
        std::string t = (fs::temp_directory_path() / "imapkeep-mem.XXXXXX").string();
        dir = ::mkdtemp(t.data());
    }
    ~Scratch() { fs::remove_all(dir); }
};

constexpr std::uint64_t kSize = 200ull << 20;

// One pure-CRLF message of kSize bytes in INBOX (kept with LF, so reading it
// back expands every line), written a line at a time.
void fill(const fs::path& root) {
    fs::create_directories(root);
    auto catalog = store::open_sqlite_catalog((root / "catalog.sqlite").string());
    auto messages = store::open_maildir_store(root.string());
    store::MailboxRecord box;
    box.account_id = catalog->ensure_account("work");
    box.name = "INBOX";
    box.delimiter = "/";
    box.uidvalidity = 7;
    box.id = catalog->save_mailbox(box);
    auto pending = messages->begin("work", "");
    const std::string head = "From: big@example.org\r\nSubject: big\r\n\r\n";
    pending->write(head);
    const std::string line(78, 'x');
    std::uint64_t written = head.size();
    while (written < kSize) {
        const auto n = std::min<std::uint64_t>(kSize - written, 80);
        pending->write(n == 80 ? line + "\r\n" : std::string(n, 'y'));
        written += n;
    }
    pending->finish();
    messages->sync_pending();
    store::MessageRecord m;
    m.mailbox_id = box.id;
    m.uidvalidity = 7;
    m.uid = 1;
    m.internaldate = 1'700'000'000;
    store::describe_stored(*pending, m);
    m.file = messages->commit(*pending, "work", "", 1, m.internaldate, {});
    m.added_at = 1;
    catalog->add_message(m);
    messages->sync_committed();
}

}  // namespace

TEST_CASE("export streams a 200 MB message: the heap does not grow by its size",
          "[archive][export][memory]") {
    Scratch s;
    fill(s.dir / "store");
    auto catalog = store::open_sqlite_catalog((s.dir / "store" / "catalog.sqlite").string());
    auto messages = store::open_maildir_store((s.dir / "store").string());
    for (auto format : {archive::ArchiveFormat::Mbox, archive::ArchiveFormat::Eml}) {
        INFO("format " << archive::archive_format_name(format));
        archive::ExportOptions options;
        options.format = format;
        options.output = (s.dir / "out").string();
        const std::size_t before = testing::reset_peak_heap();
        const auto report = archive::export_from_store(*catalog, *messages, "work", options);
        const std::size_t held = testing::g_peak_bytes.load() - before;
        REQUIRE(report.error.empty());
        REQUIRE(report.mailboxes.size() == 1);
        CHECK(report.mailboxes[0].errors.empty());
        CHECK(report.mailboxes[0].bytes == kSize);
        INFO("peak heap above the start: " << held << " bytes");
        if (testing::kCountsAllocations) CHECK(held < (4u << 20));
        fs::remove_all(s.dir / "out");
    }
}
