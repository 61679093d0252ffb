#include <imapkeep/archive/archive_writer.hpp>
#include <imapkeep/store/message_reader.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <stdlib.h>
#include <sys/stat.h>

using namespace imapkeep::archive;
namespace fs = std::filesystem;

namespace {

struct Scratch {
    fs::path dir;
    Scratch() {
        std::string t = (fs::temp_directory_path() / "imapkeep-aw.XXXXXX").string();
        dir = ::mkdtemp(t.data());
    }
    ~Scratch() { fs::remove_all(dir); }
    std::string file(const std::string& name, const std::string& content) {
        auto p = dir / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string kMsg1 = "From: Alice <alice@example.org>\r\nSubject: one, \"quoted\"\r\n\r\nFrom the start\r\n";
const std::string kMsg2 = "From: bob@example.org\r\nSubject: two\r\n\r\nbody\r\n";

ArchiveMessage meta(const std::string& mailbox, std::uint32_t uid, std::vector<std::string> flags) {
    return {mailbox, "/", 42, uid, 1704103200, 3600, std::move(flags)};
}

// The writers read a message from a MessageSource; here one on a plain file.
AddedMessage add(ArchiveWriter& w, const ArchiveMessage& m, const std::string& file) {
    auto bytes = imapkeep::store::open_file_source(file, imapkeep::store::LineEndings::Wire, file);
    return w.add(m, *bytes);
}

// A message handed out `piece` bytes at a time.
class PiecesSource final : public imapkeep::store::MessageSource {
public:
    PiecesSource(std::string bytes, std::size_t piece) : m_bytes(std::move(bytes)), m_piece(piece) {}
    std::string_view next() override {
        auto out = std::string_view(m_bytes).substr(m_at, m_piece);
        m_at += out.size();
        return out;
    }
    const std::string& file() const override { return m_name; }

private:
    std::string m_bytes;
    std::size_t m_piece;
    std::size_t m_at = 0;
    std::string m_name = "pieces";
};

// Nothing but PATH itself: no leftover temp directories beside it.
std::size_t entries_in(const fs::path& dir) {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("mbox archive: one mboxrd file per mailbox, published on commit", "[archive][writer]") {
    Scratch s;
    auto m1 = s.file("m1", kMsg1), m2 = s.file("m2", kMsg2);
    auto out = s.dir / "out";
    auto w = create_archive_writer(ArchiveFormat::Mbox, out.string());
    w->add_mailbox("Empty", "/");
    auto added = add(*w, meta("INBOX", 1, {}), m1);
    CHECK(added.bytes == kMsg1.size());
    add(*w, meta("A/B", 2, {"\\Seen"}), m2);
    CHECK_FALSE(fs::exists(out));
    w->commit();
    REQUIRE(fs::is_directory(out));
    CHECK(slurp(out / "INBOX.mbox") ==
          "From alice@example.org Mon Jan  1 10:00:00 2024\n"
          "From: Alice <alice@example.org>\nSubject: one, \"quoted\"\n\n>From the start\n\n");
    CHECK(slurp(out / "A" / "B.mbox") == "From bob@example.org Mon Jan  1 10:00:00 2024\nFrom: bob@example.org\nSubject: two\n\nbody\n\n");
    CHECK(fs::file_size(out / "Empty.mbox") == 0);
    CHECK(entries_in(s.dir) == 3);  // m1, m2, out
}

TEST_CASE("mbox archive of one mailbox: the output path is that one mbox file", "[archive][writer]") {
    Scratch s;
    auto m1 = s.file("m1", kMsg1), m2 = s.file("m2", kMsg2);
    auto out = s.dir / "all.mbox";
    auto w = create_archive_writer(ArchiveFormat::Mbox, out.string());
    w->add_mailbox("A/B", "/");
    add(*w, meta("A/B", 1, {}), m1);
    add(*w, meta("A/B", 2, {}), m2);
    CHECK_FALSE(fs::exists(out));
    w->commit();
    REQUIRE(fs::is_regular_file(out));
    CHECK(slurp(out) ==
          "From alice@example.org Mon Jan  1 10:00:00 2024\n"
          "From: Alice <alice@example.org>\nSubject: one, \"quoted\"\n\n>From the start\n\n"
          "From bob@example.org Mon Jan  1 10:00:00 2024\nFrom: bob@example.org\nSubject: two\n\nbody\n\n");
    CHECK((fs::status(out).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(entries_in(s.dir) == 3);  // m1, m2, all.mbox: no temp tree left
}

TEST_CASE("mbox archive of one mailbox into an empty directory keeps the directory layout", "[archive][writer]") {
    Scratch s;
    auto m1 = s.file("m1", kMsg1);
    auto out = s.dir / "dir";
    fs::create_directory(out);
    auto w = create_archive_writer(ArchiveFormat::Mbox, out.string());
    add(*w, meta("INBOX", 1, {}), m1);
    w->commit();
    REQUIRE(fs::is_directory(out));
    CHECK(fs::is_regular_file(out / "INBOX.mbox"));
}

TEST_CASE("maildir archive: Maildir++ folders, flags in names, mtime = INTERNALDATE", "[archive][writer]") {
    Scratch s;
    auto m1 = s.file("m1", kMsg1);
    auto out = s.dir / "md";
    auto w = create_archive_writer(ArchiveFormat::Maildir, out.string());
    add(*w, meta("INBOX", 1, {"\\Seen", "\\Flagged", "$Work"}), m1);
    add(*w, meta("A/B", 7, {}), m1);
    w->commit();
    auto inbox_file = out / "cur" / "42.1.imapkeep:2,FS";
    REQUIRE(fs::exists(inbox_file));
    CHECK(slurp(inbox_file) == kMsg1);  // bytes as sent, CRLF kept
    struct stat st {};
    REQUIRE(::stat(inbox_file.c_str(), &st) == 0);
    CHECK(st.st_mtime == 1704103200);
    CHECK(fs::exists(out / ".A.B" / "cur" / "42.7.imapkeep:2,"));
    CHECK(fs::exists(out / ".A.B" / "maildirfolder"));
    for (const char* sub : {"new", "tmp"}) CHECK(fs::is_directory(out / sub));
}

TEST_CASE("eml archive: one file per message and a quoted index.csv", "[archive][writer]") {
    Scratch s;
    auto m1 = s.file("m1", kMsg1), m2 = s.file("m2", kMsg2);
    auto out = s.dir / "eml";
    fs::create_directory(out);  // an empty directory may be the target
    auto w = create_archive_writer(ArchiveFormat::Eml, out.string());
    add(*w, meta("INBOX", 1, {"\\Answered", "\\Seen"}), m1);
    add(*w, meta("index.csv", 2, {}), m2);
    // A Gmail All Mail copy: its labels as X-Gmail-Labels gives them, one field.
    auto gmail = meta("[Gmail]/All Mail", 3, {});
    gmail.gmail = true;
    gmail.gmail_labels = {"Work", "\\Inbox", "a,b", "\\Draft"};
    add(*w, gmail, m2);
    auto unlabelled = meta("[Gmail]/All Mail", 4, {});
    unlabelled.gmail = true;
    add(*w, unlabelled, m2);
    w->commit();
    CHECK(slurp(out / "INBOX" / "42.1.eml") == kMsg1);
    CHECK(slurp(out / "index%2Ecsv" / "42.2.eml") == kMsg2);
    CHECK(slurp(out / "index.csv") ==
          "mailbox,uid,date,from,subject,flags,file,labels\r\n"
          "INBOX,1,2024-01-01T11:00:00+01:00,Alice <alice@example.org>,\"one, \"\"quoted\"\"\",\\Answered \\Seen,INBOX/42.1.eml,\r\n"
          "index.csv,2,2024-01-01T11:00:00+01:00,bob@example.org,two,,index%2Ecsv/42.2.eml,\r\n"
          "[Gmail]/All Mail,3,2024-01-01T11:00:00+01:00,bob@example.org,two,,[Gmail]/All Mail/42.3.eml,"
          "\"Inbox,Drafts,Work,\"\"a,b\"\"\"\r\n"
          "[Gmail]/All Mail,4,2024-01-01T11:00:00+01:00,bob@example.org,two,,[Gmail]/All Mail/42.4.eml,\r\n");
}

TEST_CASE("an archive never replaces existing data and leaves nothing when abandoned", "[archive][writer]") {
    Scratch s;
    auto m1 = s.file("m1", kMsg1);
    auto taken = s.dir / "taken";
    fs::create_directory(taken);
    s.file("taken/keep", "x");
    for (auto format : {ArchiveFormat::Mbox, ArchiveFormat::Maildir, ArchiveFormat::Eml}) {
        CHECK_THROWS_AS(create_archive_writer(format, taken.string()), ArchiveError);
        CHECK_THROWS_AS(create_archive_writer(format, m1), ArchiveError);
        {
            auto w = create_archive_writer(format, (s.dir / "abandoned").string());
            add(*w, meta("INBOX", 1, {}), m1);
            // A read error half way (a directory reads as EISDIR) is the writer's error.
            fs::create_directory(s.dir / "unreadable");
            auto unreadable = imapkeep::store::open_file_source((s.dir / "unreadable").string(),
                                                                imapkeep::store::LineEndings::Wire, "unreadable");
            CHECK_THROWS_AS(w->add(meta("INBOX", 2, {}), *unreadable), ArchiveError);
            fs::remove(s.dir / "unreadable");
        }
        CHECK_FALSE(fs::exists(s.dir / "abandoned"));
        CHECK(entries_in(s.dir) == 2);  // m1 and taken: no temp tree left behind
    }
    CHECK(parse_archive_format("maildir") == ArchiveFormat::Maildir);
    CHECK_FALSE(parse_archive_format("MBOX").has_value());
}

TEST_CASE("the header block is read whole however the source cuts it", "[archive][writer]") {
    Scratch s;
    // A sender only at the end of a header block longer than any read piece
    // (but within the 256 KiB read for it).
    std::string received;
    while (received.size() < 200 * 1024) received += "Received: from relay" + std::to_string(received.size()) + "\r\n";
    const std::vector<std::pair<const char*, std::string>> messages = {
        {"short", kMsg1},
        {"long header", received + "From: Carol <carol@example.org>\r\nSubject: late\r\n\r\nbody\r\n"},
        // Past the bound the header is cut there, whatever the pieces.
        {"header over the bound", received + received + "From: eve@example.org\r\n\r\nbody\r\n"},
        {"empty", ""},
        {"no body", "From: dave@example.org\r\nSubject: none\r\n"},
    };
    for (auto format : {ArchiveFormat::Mbox, ArchiveFormat::Eml}) {
        std::map<std::size_t, std::map<std::string, std::string>> archives;
        for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{4093}, std::size_t{1} << 20}) {
            INFO("format " << archive_format_name(format) << ", pieces of " << piece);
            auto out = s.dir / ("out-" + std::to_string(piece));
            auto w = create_archive_writer(format, out.string());
            std::uint32_t uid = 0;
            for (const auto& [name, bytes] : messages) {
                INFO(name);
                PiecesSource source(bytes, piece);
                auto added = w->add(meta("INBOX", ++uid, {}), source);
                CHECK(added.bytes == bytes.size());
            }
            w->add_mailbox("Other", "/");  // two mailboxes: a directory either way
            w->commit();
            for (const auto& e : fs::recursive_directory_iterator(out))
                if (e.is_regular_file()) archives[piece][fs::relative(e.path(), out).string()] = slurp(e.path());
            fs::remove_all(out);
        }
        const auto& whole = archives.at(std::size_t{1} << 20);
        for (const auto& [piece, files] : archives) CHECK(files == whole);
        if (format == ArchiveFormat::Mbox)
            CHECK_THAT(whole.at("INBOX.mbox"), Catch::Contains("\nFrom carol@example.org "));
        else
            CHECK_THAT(whole.at("index.csv"), Catch::Contains("Carol <carol@example.org>,late"));
    }
}
