// Issue 11 ("opened in mutt, every header line shows ^M"): against the real
// Dovecot and Cyrus, a backup stores pure-CRLF messages with LF endings, the
// catalog proves the original, a restore into an empty account gives the
// server back the very bytes it sent, and the mail readers people point at
// the store (Dovecot, notmuch, mutt) read it cleanly without changing it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/verify.hpp>
#include <map>
#include <set>
#include <sstream>

#include "integration/restore_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

// Pure CRLF, as every server sends mail: each must be stored with LF.
const std::vector<std::string> kBodies = {
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: pure one\r\nMessage-ID: "
    "<le1@example.org>\r\n"
    "\r\nHello\r\nworld\r\n",
    "From: a@example.org\r\nSubject: no final newline\r\n\r\nlast line",
    "From: a@example.org\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "caf\xc3\xa9 8-bit \xe2\x82\xac\r\n",
    "From: a@example.org\r\nSubject: folded\r\n header line\r\n\r\n\r\n\r\nafter blank "
    "lines\r\n\r\n",
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// BODY[] and RFC822.SIZE of every message of `mailbox`, as the server gives them.
std::multiset<std::pair<std::string, std::uint64_t>> fetch_bodies(imap::Client& c,
                                                                  const std::string& mailbox) {
    std::multiset<std::pair<std::string, std::uint64_t>> out;
    c.select(mailbox, true);
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    c.uid_fetch(all, imap::FetchItems().uid().rfc822_size().body_peek(), [&](imap::FetchData& fd) {
        out.insert({fd.body, fd.rfc822_size.value_or(0)});
    });
    c.unselect();
    return out;
}

// Runs a shell command; returns its exit status, with its output in `out`.
int run(const std::string& command, const fs::path& out) {
    return std::system((command + " > '" + out.string() + "' 2>&1").c_str());
}

// user1's mailbox `p` on one server with kBodies, backed up into a scratch store.
struct Fixture {
    explicit Fixture(ServerKind k) : kind(k) {
        c1->create(p);
        for (const auto& body : kBodies)
            c1->append(p, {"\\Seen"}, "01-Jan-2024 10:00:00 +0000", body);
        original = fetch_bodies(*c1, p);
        auto r = store.backup(one_connection_account("src", server_options(kind, 1), {p}));
        REQUIRE(r.error.empty());
        for (const auto& m : r.mailboxes) REQUIRE(m.errors.empty());
    }
    ~Fixture() {
        try {
            delete_tree(*c1, p);
            if (!root.empty()) delete_tree(*c2, root);
        } catch (const std::exception&) {
        }
    }
    std::vector<store::MessageRecord> rows() {
        auto account = store.catalog->find_account("src");
        REQUIRE(account);
        auto mb = store.catalog->find_mailbox(*account, p);
        REQUIRE(mb);
        return store.catalog->messages(mb->id);
    }
    fs::path maildir() {
        auto account = store.catalog->find_account("src");
        return dir.path / "mail/src" / store.catalog->find_mailbox(*account, p)->folder;
    }

    ServerKind kind;
    std::unique_ptr<imap::Client> c1 = imap::connect_and_login(server_options(kind, 1));
    std::unique_ptr<imap::Client> c2 = imap::connect_and_login(server_options(kind, 2));
    std::string d = hierarchy_delimiter(*c1);
    std::string p = unique_name("ikle");
    std::string root;
    std::multiset<std::pair<std::string, std::uint64_t>> original;  // BODY[], RFC822.SIZE
    TempDir dir;
    Store store{dir.path};
};

// The store's files and their bytes, to prove a reader changed nothing.
std::map<std::string, std::string> files_under(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = read_all(e.path());
    return out;
}

}  // namespace

TEST_CASE("line endings: LF files, the wire hash, and a byte-exact restore into an empty account",
          "[integration][line_endings]") {
    for (auto kind : servers_under_test()) DYNAMIC_SECTION(server_name(kind)) {
            Fixture f(kind);
            REQUIRE(f.original.size() == kBodies.size());
            std::set<std::string> sent(kBodies.begin(), kBodies.end());
            for (const auto& [body, size] : f.original) {
                CHECK(sent.count(body) == 1);  // the server keeps what it was given
                CHECK(size == body.size());
            }

            const auto rows = f.rows();
            REQUIRE(rows.size() == kBodies.size());
            std::multiset<std::string> hashes;
            for (const auto& [body, size] : f.original) hashes.insert(util::sha256_hex(body));
            std::multiset<std::string> cataloged;
            for (const auto& m : rows) {
                INFO(m.file);
                cataloged.insert(m.sha256);
                CHECK(m.line_endings == store::LineEndings::Lf);
                const std::string file = read_all(f.store.messages->absolute(m.file));
                CHECK(file.find('\r') == std::string::npos);
                CHECK(file.size() < m.size);
            }
            CHECK(cataloged == hashes);  // the catalog proves the originals
            CHECK(store::verify_files(*f.store.catalog, *f.store.messages,
                                      *f.store.catalog->find_account("src"))
                      .empty());

            f.root = unique_name("ikler");
            archive::RestoreOptions o;
            o.source_account = "src";
            o.prefix = f.root + "/";
            auto report = archive::restore_account(
                one_connection_account("dst", server_options(kind, 2), {"*"}), *f.store.catalog,
                *f.store.messages, o);
            INFO(describe(report));
            REQUIRE_FALSE(report.failed());
            CHECK(total(report, &archive::RestoreMailboxReport::appended) == kBodies.size());
            // The server's BODY[] and RFC822.SIZE of the restored copies: the very originals.
            CHECK(fetch_bodies(*f.c2, f.root + f.d + f.p) == f.original);
        }
}

TEST_CASE("line endings: Dovecot, notmuch and mutt read the store cleanly",
          "[integration][line_endings]") {
    if (!have_dovecot_env()) return;
    Fixture f(ServerKind::Dovecot);
    const fs::path maildir = f.maildir();
    const auto before = files_under(f.dir.path / "mail");
    TempDir scratch;

    SECTION("Dovecot, read-only, serves the original BODY[] and RFC822.SIZE") {
        // Dovecot never serves mail as root: a copy of the Maildir goes to nobody.
        const fs::path copy = scratch.path / "Maildir";
        fs::copy(maildir, copy, fs::copy_options::recursive);
        std::string uid_options;
        if (::geteuid() == 0) {
            REQUIRE(std::system(
                        ("chown -R nobody:nogroup '" + scratch.path.string() + "'").c_str()) == 0);
            uid_options = " -o mail_uid=nobody -o mail_gid=nogroup";
        }
        // Index and control files elsewhere: nothing is written into the Maildir.
        const fs::path conf = scratch.path / "dovecot.conf";
        std::ofstream(conf) << "mail_location = maildir:" << copy.string()
                            << ":INDEX=" << scratch.path.string()
                            << "/index:CONTROL=" << scratch.path.string() << "/control\n"
                            << "base_dir = " << scratch.path.string() << "/run\n"
                            << "log_path = /dev/null\nssl = no\n";
        std::ofstream(scratch.path / "commands") << "a EXAMINE INBOX\r\n"
                                                    "b FETCH 1:* (RFC822.SIZE BODY.PEEK[])\r\n"
                                                    "c LOGOUT\r\n";
        const fs::path out = scratch.path / "out";
        const int rc = run("cat '" + (scratch.path / "commands").string() + "' | env -i HOME=" +
                               scratch.path.string() + " USER=u PATH=/usr/bin:/bin timeout 20 " +
                               "/usr/lib/dovecot/imap -c '" + conf.string() + "'" + uid_options,
                           out);
        const std::string text = read_all(out);
        INFO(text);
        REQUIRE(rc == 0);
        // "* n FETCH (RFC822.SIZE s BODY[] {len}\r\n<len bytes>)"
        std::multiset<std::pair<std::string, std::uint64_t>> served;
        for (std::size_t at = text.find("RFC822.SIZE "); at != std::string::npos;
             at = text.find("RFC822.SIZE ", at + 1)) {
            const std::uint64_t size = std::stoull(text.substr(at + 12));
            const std::size_t brace = text.find("BODY[] {", at);
            REQUIRE(brace != std::string::npos);
            const std::size_t len = std::stoull(text.substr(brace + 8));
            const std::size_t start = text.find("}\r\n", brace) + 3;
            served.insert({text.substr(start, len), size});
            at = start + len;
        }
        CHECK(served == f.original);
        CHECK_THAT(text, Catch::Contains("c OK"));
    }

    SECTION("notmuch indexes every message, no header holds a CR") {
        const fs::path copy = scratch.path / "mail";
        fs::copy(maildir, copy, fs::copy_options::recursive);
        const fs::path config = scratch.path / "notmuch-config";
        std::ofstream(config) << "[database]\npath=" << copy.string() << "\n"
                              << "[user]\nname=Test\nprimary_email=test@example.org\n"
                              << "[new]\ntags=unread;inbox;\n"
                              << "[maildir]\nsynchronize_flags=false\n";
        const std::string env =
            "env NOTMUCH_CONFIG='" + config.string() + "' HOME='" + scratch.path.string() + "' ";
        const fs::path out = scratch.path / "out";
        REQUIRE(run(env + "notmuch new", out) == 0);
        INFO(read_all(out));
        REQUIRE(run(env + "notmuch count '*'", out) == 0);
        CHECK(std::stoul(read_all(out)) == kBodies.size());
        REQUIRE(run(env + "notmuch count 'subject:\"pure one\"'", out) == 0);
        CHECK(std::stoul(read_all(out)) == 1);
        // Every header as notmuch parsed it, JSON-escaped: a CR would be "\r".
        REQUIRE(run(env + "notmuch show --format=json --body=false '*'", out) == 0);
        const std::string json = read_all(out);
        INFO(json);
        CHECK_THAT(json, Catch::Contains("\"Subject\": \"pure one\""));
        CHECK(json.find("\\r") == std::string::npos);
    }

    SECTION("mutt -R shows every message without a CR (^M)") {
        // mutt needs a terminal: script(1) gives it one; each message is piped
        // decoded (headers as mutt displays them) into `out`.
        const fs::path out = scratch.path / "out";
        const fs::path script = scratch.path / "mutt.sh";
        // Without ~/Mail mutt creates it and says so, and that message eats the keys pushed.
        fs::create_directories(scratch.path / "Mail");
        std::ofstream(script)
            << "exec mutt -n -R -F /dev/null -f '" << maildir.string() << "'"
            << " -e 'set pipe_decode=yes pipe_split=yes wait_key=no sleep_time=0'"
            << " -e 'push \"<tag-pattern>~A<enter><tag-prefix><pipe-message>cat >> " << out.string()
            << "<enter><exit>\"'\n";
        REQUIRE(run("env TERM=vt100 HOME='" + scratch.path.string() +
                        "' timeout 30 script -qec 'sh " + script.string() + "' /dev/null",
                    scratch.path / "terminal") == 0);
        const std::string shown = read_all(out);
        INFO("mutt's output:\n" << shown);
        INFO("in " << maildir << ": " << files_under(maildir).size() << " files");
        std::size_t subjects = 0;
        for (std::size_t at = shown.find("\nSubject: "); at != std::string::npos;
             at = shown.find("\nSubject: ", at + 1))
            ++subjects;
        CHECK(subjects == kBodies.size());
        CHECK(shown.find('\r') == std::string::npos);
    }

    // The readers worked on copies or read-only: the store is as it was, and verifies.
    CHECK(files_under(f.dir.path / "mail") == before);
    CHECK(store::verify_files(*f.store.catalog, *f.store.messages,
                              *f.store.catalog->find_account("src"))
              .empty());
}
