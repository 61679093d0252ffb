// export --url from a Gmail server (the model server's Gmail mode): All Mail
// is the one copy of each message and carries its labels into the archive as
// the store export does (X-Gmail-Labels in mbox, label folders in Maildir,
// the labels column of index.csv); the label views (INBOX, Work, Sent) cost
// no download. A --mailbox naming a label view exports that label's messages.
#include <imapkeep/archive/export.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/model_server.hpp"

using namespace imapkeep;
using namespace imapkeep::archive;
namespace fs = std::filesystem;

namespace {

struct GmailExport {
    testing::ModelServer server;
    fs::path dir;
    GmailExport() {
        std::string t = (fs::temp_directory_path() / "imapkeep-xg.XXXXXX").string();
        dir = ::mkdtemp(t.data());
        server.make_gmail();
        server.gmail_deliver(body("in-work"), {"\\Inbox", "Work"});
        server.gmail_deliver(body("work"), {"Work"});
        server.gmail_deliver(body("sent"), {"\\Sent"});
        server.gmail_deliver(body("archived"), {});
    }
    ~GmailExport() { fs::remove_all(dir); }

    static std::string body(const std::string& subject) {
        return "From: a@example.org\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject +
               "@example.org>\r\n\r\nhello\r\n";
    }

    ExportReport run(ArchiveFormat format, std::vector<std::string> patterns = {}, const std::string& url_mailbox = "") {
        ExportOptions options;
        options.format = format;
        options.output = (dir / "out").string();
        options.mailbox_patterns = std::move(patterns);
        return export_from_server(server.connect_options(), url_mailbox, options);
    }

    // Every regular file of the archive, by path relative to it.
    std::map<std::string, std::string> files() {
        std::map<std::string, std::string> out;
        if (fs::is_regular_file(dir / "out")) {  // an mbox of one mailbox is PATH itself
            std::ifstream in(dir / "out", std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            out["."] = s.str();
            return out;
        }
        for (const auto& e : fs::recursive_directory_iterator(dir / "out")) {
            if (!e.is_regular_file()) continue;
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            out[fs::relative(e.path(), dir / "out").string()] = s.str();
        }
        return out;
    }
};

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::string errors_of(const ExportReport& r) {
    std::string out = r.error;
    for (const auto& m : r.mailboxes)
        for (const auto& e : m.errors) out += m.name + ": " + e + "\n";
    return out;
}

}  // namespace

TEST_CASE("export --url from Gmail: All Mail once, with its labels, in mbox", "[archive][gmail][url]") {
    GmailExport f;
    auto report = f.run(ArchiveFormat::Mbox);
    INFO(errors_of(report));
    REQUIRE_FALSE(report.failed());
    CHECK(f.server.body_fetches() == 4);
    CHECK(f.server.body_fetches(f.server.gmail_names().all) == 4);
    std::string all;
    for (const auto& [path, bytes] : f.files()) all += bytes;
    for (const char* subject : {"in-work", "work", "sent", "archived"})
        CHECK(count_of(all, std::string("Subject: ") + subject + "\n") == 1);
    CHECK(count_of(all, "X-Gmail-Labels: Inbox,Work\nFrom: a@example.org\nSubject: in-work") == 1);
    CHECK(count_of(all, "X-Gmail-Labels: Sent\nFrom: a@example.org\nSubject: sent") == 1);
    CHECK(count_of(all, "X-Gmail-Labels: \nFrom: a@example.org\nSubject: archived") == 1);
    CHECK(count_of(all, "X-GM-THRID: ") == 4);
}

TEST_CASE("export --url from Gmail: label folders in Maildir, labels in index.csv", "[archive][gmail][url]") {
    GmailExport f;
    SECTION("maildir") {
        auto report = f.run(ArchiveFormat::Maildir);
        INFO(errors_of(report));
        REQUIRE_FALSE(report.failed());
        CHECK(f.server.body_fetches() == 4);
        std::map<std::string, std::size_t> per_folder;
        for (const auto& [path, bytes] : f.files())
            if (fs::path(path).parent_path().filename() == "cur")
                ++per_folder[fs::path(path).parent_path().parent_path().string()];
        std::string folders;
        for (const auto& [folder, n] : per_folder) folders += folder + ":" + std::to_string(n) + " ";
        INFO(folders);
        CHECK(per_folder[""] == 1);  // INBOX is the Maildir's root
        CHECK(per_folder[".Work"] == 2);
        CHECK(per_folder[".Sent"] == 1);
    }
    SECTION("eml") {
        auto report = f.run(ArchiveFormat::Eml);
        INFO(errors_of(report));
        REQUIRE_FALSE(report.failed());
        CHECK(f.server.body_fetches() == 4);
        auto index = f.files()["index.csv"];
        CHECK(count_of(index, "\r\n") == 5);
        CHECK(count_of(index, ",\"Inbox,Work\"\r\n") == 1);
        CHECK(count_of(index, ",Sent\r\n") == 1);
    }
}

TEST_CASE("export --url from Gmail: --mailbox naming a label view exports that label's messages",
          "[archive][gmail][url]") {
    GmailExport f;
    auto report = f.run(ArchiveFormat::Mbox, {"Work"});
    INFO(errors_of(report));
    REQUIRE_FALSE(report.failed());
    CHECK(f.server.body_fetches() == 2);
    std::string all;
    for (const auto& [path, bytes] : f.files()) all += bytes;
    CHECK(count_of(all, "Subject: in-work\n") == 1);
    CHECK(count_of(all, "Subject: work\n") == 1);
    CHECK(count_of(all, "Subject: sent\n") == 0);
    CHECK(count_of(all, "X-Gmail-Labels: Work\n") == 1);
}

TEST_CASE("export --url from Gmail: a URL naming INBOX exports INBOX's messages from All Mail",
          "[archive][gmail][url]") {
    GmailExport f;
    auto report = f.run(ArchiveFormat::Mbox, {}, "INBOX");
    INFO(errors_of(report));
    REQUIRE_FALSE(report.failed());
    CHECK(f.server.body_fetches() == 1);
    std::string all;
    for (const auto& [path, bytes] : f.files()) all += bytes;
    CHECK(count_of(all, "X-Gmail-Labels: Inbox,Work\nFrom: a@example.org\nSubject: in-work\n") == 1);
    CHECK(count_of(all, "Subject: ") == 1);
}
