// Export of a Gmail backup (issue 12 leftovers): the labels travel with the
// messages the way users know them. mbox: Google Takeout's X-GM-THRID and
// X-Gmail-Labels lines before each message's own header. Maildir: the label
// folders, each message hard-linked into them, its bytes unchanged.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/archive/export.hpp>
#include <sstream>

#include "integration/restore_support.hpp"
#include "support/model_server.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

std::string gmail_message(const std::string& id) {
    return "From: a@example.org\r\nSubject: " + id + "\r\nMessage-ID: <" + id +
           "@example.org>\r\n\r\nhello\r\n";
}

// A Gmail account (model server) with messages in labels and one archived
// (no label), backed up into a scratch store as "src".
struct GmailStore {
    ModelServer server;
    TempDir dir;
    Store store{dir.path};
    std::uint64_t five = 0, comma = 0;

    GmailStore() {
        server.make_gmail();
        five = server.gmail_deliver(gmail_message("five"),
                                    {"\\Inbox", "\\Important", "\\Starred", "Work", "Travel/2024"});
        comma = server.gmail_deliver(gmail_message("comma"),
                                     {"\\Sent", "a,b", "say \"hi\"", "&AMQ-lter"});
        server.gmail_deliver(gmail_message("archived"), {});
        auto r = store.backup(one_connection_account("src", server.connect_options(), {"*"}));
        REQUIRE(r.error.empty());
        for (const auto& m : r.mailboxes) REQUIRE(m.errors.empty());
    }

    archive::ExportReport export_as(archive::ArchiveFormat format, const fs::path& out) {
        archive::ExportOptions o;
        o.format = format;
        o.output = out.string();
        return archive::export_from_store(*store.catalog, *store.messages, "src", o);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string lf(std::string text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
    return out;
}

std::uint64_t inode(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

// The one file in DIR/cur whose bytes are `body`.
fs::path file_with(const fs::path& dir, const std::string& body) {
    fs::path found;
    if (!fs::is_directory(dir / "cur")) return found;
    for (const auto& e : fs::directory_iterator(dir / "cur"))
        if (slurp(e.path()) == body) found = e.path();
    return found;
}

}  // namespace

TEST_CASE("gmail export: mbox carries Takeout's X-Gmail-Labels header", "[export][gmail]") {
    GmailStore g;
    const auto out = g.dir.path / "all.mbox";
    auto report = g.export_as(archive::ArchiveFormat::Mbox, out);
    INFO(report.error);
    REQUIRE(report.published);
    const std::string mbox = slurp(out);  // one mailbox: All Mail, one file
    const auto thread = [&](std::uint64_t msgid) {
        return std::to_string(g.server.gmail_message(msgid).gm_thrid);
    };
    CHECK(mbox.find("\nX-GM-THRID: " + thread(g.five) +
                    "\nX-Gmail-Labels: Important,Inbox,Starred,Travel/2024,Work\n" +
                    lf(gmail_message("five"))) != std::string::npos);
    CHECK(mbox.find("\nX-GM-THRID: " + thread(g.comma) +
                    "\nX-Gmail-Labels: Sent,\xc3\x84lter,\"a,b\",\"say \"\"hi\"\"\"\n" +
                    lf(gmail_message("comma"))) != std::string::npos);
    // A message in no label says so: an empty list, as Takeout's archived mail.
    CHECK(mbox.find("\nX-Gmail-Labels: \n" + lf(gmail_message("archived"))) != std::string::npos);
    CHECK(report.mailboxes.size() == 1);
}

TEST_CASE("gmail export: Maildir has the label folders, the bytes once", "[export][gmail]") {
    GmailStore g;
    const auto out = g.dir.path / "tree";
    auto report = g.export_as(archive::ArchiveFormat::Maildir, out);
    INFO(report.error);
    REQUIRE(report.published);
    const auto all = out / ".[Gmail].All Mail";
    const auto five = file_with(all, gmail_message("five"));
    const auto comma = file_with(all, gmail_message("comma"));
    REQUIRE_FALSE(five.empty());
    REQUIRE_FALSE(comma.empty());
    REQUIRE_FALSE(file_with(all, gmail_message("archived")).empty());
    struct Expect {
        fs::path folder;
        const fs::path* copy;
    } expected[] = {
        {out, &five},  // INBOX at the root
        {out / ".Important", &five},
        {out / ".Starred", &five},
        {out / ".Work", &five},
        {out / ".Travel.2024", &five},
        {out / ".Sent", &comma},
        {out / ".a,b", &comma},
        {out / ".say \"hi\"", &comma},
        {out / ".&AMQ-lter", &comma},  // Maildir++ names in modified UTF-7
    };
    for (const auto& e : expected) {
        INFO(e.folder);
        auto link = file_with(e.folder, slurp(*e.copy));
        REQUIRE_FALSE(link.empty());
        CHECK(link.filename() == e.copy->filename());
        CHECK(inode(link) == inode(*e.copy));
        if (e.folder != out) CHECK(fs::exists(e.folder / "maildirfolder"));
    }
    // Each label folder holds its messages and no other.
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(out))
        if (e.is_regular_file() && e.path().parent_path().filename() == "cur") ++files;
    CHECK(files == 3 + 9);
}
