// Mailbox names that could leave the store or run into each other (issue 9,
// "Mailbox names"), against each test server: "..", a path out of the store,
// a leading dot, an empty level, control characters, invalid modified UTF-7,
// raw 8-bit UTF-8, the longest name the server takes (1,000 bytes if it can),
// names that differ only in case, and two pairs of names that differ on the
// wire but decode to the same text. Each must stay inside the store, get a
// folder of its own, and come back from a restore into another account under
// the same name with its own message.
//
// A name Cyrus refuses through IMAP is made in its mailboxes.db instead
// (server_backdoors.hpp); any other refusal is checked (CREATE answered NO)
// and logged with WARN, and the name is skipped on that server. user1 is backed
// up and user2 restored into; every name lives under a random prefix "ikmn..."
// (user1) or "ikmr..." (user2), deleted at the end.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/restore.hpp>
#include <imapkeep/util/utf8.hpp>
#include <map>
#include <set>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "integration/restore_support.hpp"
#include "integration/server_backdoors.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

struct NameCase {
    const char* label;
    std::string below;  // below the prefix, exact bytes; "/" is the server's delimiter
    bool cyrus_record;  // if Cyrus refuses: rename a mailbox's record to it
};

const NameCase kCases[] = {
    {"a \"..\" level", "..", false},
    {"a path out of the store", "a/../../etc", false},
    {"a leading dot", ".hidden", false},
    {"an empty level", "empty//x", false},
    {"a tab", "tab\tx", true},
    {"a \\x01", "ctl\x01x", true},
    {"DEL as modified UTF-7", "del&AH8-x", true},
    {"invalid modified UTF-7", "bad&Jjo", true},
    {"the valid name it reads as", "bad&-Jjo", false},
    {"raw 8-bit UTF-8", "8bit\xc3\xa4", true},
    {"the modified UTF-7 name it reads as", "8bit&AOQ-", false},
    {"upper case", "Case", false},
    {"lower case", "case", false},
    {"wildcards and quoted-specials", "50%*\"\\", false},
};

constexpr std::size_t kLongName = 1000;

std::string shown(const std::string& name) { return "\"" + util::printable_utf8(name) + "\""; }

// The source account's names: made through IMAP, or on the server's storage,
// or refused. Undoes what it made when it goes away.
class SourceNames {
  public:
    SourceNames(ServerKind kind)
        : m_kind(kind),
          m_c(imap::connect_and_login(server_options(kind, 1))),
          m_d(hierarchy_delimiter(*m_c)) {
        m_c->create(m_p);
    }
    ~SourceNames() {
        try {
            cleanup();
        } catch (const std::exception&) {
        }
    }
    SourceNames(const SourceNames&) = delete;
    SourceNames& operator=(const SourceNames&) = delete;

    const std::string& prefix() const { return m_p; }
    const std::string& delimiter() const { return m_d; }
    bool made_in_db(const std::string& wire) const {
        for (const auto& [stand_in, raw] : m_renamed)
            if (wire == m_p + m_d + raw) return true;
        return false;
    }
    imap::Client& client() { return *m_c; }

    void make(const NameCase& c) {
        const std::string wire = m_p + m_d + with_delimiter(c.below, m_d);
        const auto refusal = try_create(wire);
        if (!refusal) return;
        std::string why = "no other way to make it";
        if (m_kind == ServerKind::Cyrus && c.cyrus_record) {
            const std::string stand_in = "stand-in" + std::to_string(m_renamed.size());
            m_c->create(m_p + m_d + stand_in);
            why = cyrus_rename_record(test_user(1), {m_p, stand_in}, {m_p, c.below});
            if (why.empty()) {
                m_renamed.emplace_back(stand_in, c.below);
                return;
            }
        }
        WARN(server_name(m_kind) << " refused " << c.label << " " << shown(wire) << ": " << *refusal
                                 << "; skipped there (" << why << ")");
    }

    // kLongName bytes, or the longest name the server takes.
    void make_long() {
        auto name = [&](std::size_t total) {
            return m_p + m_d + std::string(total - m_p.size() - m_d.size(), 'L');
        };
        const auto refusal = try_create(name(kLongName));
        if (!refusal) return;
        std::size_t lo = m_p.size() + m_d.size() + 1, hi = kLongName - 1;  // lo is taken
        while (lo < hi) {
            const std::size_t mid = (lo + hi + 1) / 2;
            if (!try_create(name(mid))) {
                m_c->delete_mailbox(imap::MailboxName::from_wire(name(mid)));
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        REQUIRE_FALSE(try_create(name(lo)));
        WARN(server_name(m_kind) << " refused a " << kLongName << "-byte name: " << *refusal
                                 << "; its longest, " << lo << " bytes, is used");
    }

    // Every selectable mailbox under the prefix, as LIST gives it.
    std::vector<imap::ListEntry> listed() {
        std::vector<imap::ListEntry> out;
        for (auto& e : m_c->list("", m_p + "*"))
            if (e.selectable() && (e.raw_name == m_p || e.raw_name.starts_with(m_p + m_d)))
                out.push_back(e);
        return out;
    }

  private:
    // The server's NO text, or nothing when it created the mailbox.
    std::optional<std::string> try_create(const std::string& wire) {
        try {
            m_c->create(imap::MailboxName::from_wire(wire));
            return std::nullopt;
        } catch (const imap::CommandFailed& e) {
            CHECK(e.completion().status == "NO");
            return e.completion().text;
        }
    }

    void cleanup() {
        for (const auto& [stand_in, raw] : m_renamed)
            cyrus_rename_record(test_user(1), {m_p, raw}, {m_p, stand_in});
        auto c = imap::connect_and_login(server_options(m_kind, 1));
        auto entries = c->list("", m_p + "*");
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return a.raw_name.size() > b.raw_name.size();
        });
        for (const auto& e : entries) {
            try {
                c->delete_mailbox(e.mailbox());
            } catch (const imap::CommandFailed&) {
            }
        }
    }

    ServerKind m_kind;
    std::unique_ptr<imap::Client> m_c;
    std::string m_d;
    std::string m_p = unique_name("ikmn");
    std::vector<std::pair<std::string, std::string>> m_renamed;  // stand-in level -> raw level
};

std::string message_for(const std::string& raw_name, std::size_t n) {
    std::string hex;
    for (unsigned char ch : raw_name)
        hex += "0123456789abcdef"[ch >> 4], hex += "0123456789abcdef"[ch & 15];
    return "From: names@example.org\r\nSubject: mailbox " + std::to_string(n) +
           "\r\nMessage-ID: <names." + std::to_string(n) +
           "@example.org>\r\n\r\nThe one message of the mailbox " + hex + "\r\n";
}

// The catalog name of each listed mailbox (wire name -> name): the decoded
// name, except for twins (wire names that read alike) whose wire name is not
// how the client spells that name: NAME~ and 8 hex digits of SHA-256 of the
// wire name (sync::distinct_names).
std::map<std::string, std::string> catalog_names(const std::vector<imap::ListEntry>& listed,
                                                 imap::Client& c) {
    std::map<std::string, int> count;
    for (const auto& e : listed) ++count[e.name];
    std::map<std::string, std::string> out;
    for (const auto& e : listed) {
        bool canonical = false;
        try {
            canonical = c.encode_mailbox(e.name) == e.raw_name;
        } catch (const imap::Error&) {
        }
        out[e.raw_name] = count[e.name] > 1 && !canonical
                              ? e.name + "~" + util::sha256_hex(e.raw_name).substr(0, 8)
                              : e.name;
    }
    return out;
}

// Every file below `dir` (relative path -> SHA-256), after checking that none
// is reached through a symlink.
std::map<std::string, std::string> files_below(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        CHECK_FALSE(e.is_symlink());
        if (e.is_regular_file())
            out[fs::relative(e.path(), dir).string()] = util::sha256_file_hex(e.path().string());
    }
    return out;
}

// Nothing was written outside `store`, which lies in `outer`: `outer` holds
// only the store, the store only what a store has, and every folder and file
// the catalog names resolves inside it.
void check_inside(const fs::path& outer, const fs::path& store, store::Catalog& catalog,
                  store::Id account) {
    std::set<std::string> top;
    for (const auto& e : fs::directory_iterator(outer)) top.insert(e.path().filename().string());
    CHECK(top == std::set<std::string>{store.filename().string()});
    const std::set<std::string> allowed = {"catalog.sqlite",
                                           "catalog.sqlite-wal",
                                           "catalog.sqlite-shm",
                                           "catalog.sqlite-journal",
                                           "mail",
                                           "attic",
                                           ".lock",
                                           ".durable"};
    for (const auto& e : fs::directory_iterator(store)) {
        INFO("store entry " << e.path());
        CHECK(allowed.count(e.path().filename().string()));
    }
    // Markers of the account's trees only: no mailbox name reaches them.
    if (fs::exists(store / ".durable"))
        for (const auto& e : fs::directory_iterator(store / ".durable")) {
            INFO("marker " << e.path());
            CHECK(e.is_regular_file());
            CHECK((e.path().filename() == "mail.it" || e.path().filename() == "attic.it"));
        }
    for (const auto& e : fs::recursive_directory_iterator(store)) CHECK_FALSE(e.is_symlink());
    const fs::path root = fs::canonical(store);
    const fs::path account_root = root / "mail" / "it";
    for (const auto& mb : catalog.mailboxes(account, true)) {
        INFO("folder " << shown(mb.folder) << " of " << shown(mb.name));
        const fs::path folder(mb.folder);
        CHECK(std::distance(folder.begin(), folder.end()) == 1);
        CHECK(mb.folder.starts_with("."));
        CHECK(mb.folder != ".");
        CHECK(mb.folder != "..");
        CHECK(mb.folder.size() <= 255);
        CHECK((account_root / folder).lexically_normal().parent_path() == account_root);
        for (const auto& m : catalog.all_messages(mb.id)) {
            const auto path = fs::weakly_canonical(root / m.file);
            CHECK(path.string().starts_with(root.string() + "/"));
            CHECK(fs::exists(path));
        }
    }
}

}  // namespace

TEST_CASE("hostile and colliding mailbox names stay inside the store, apart, and round-trip",
          "[integration][names]") {
    for (auto kind : servers_under_test()) {
        DYNAMIC_SECTION(server_name(kind)) {
            SourceNames source(kind);
            for (const auto& c : kCases) source.make(c);
            source.make_long();
            const std::string p = source.prefix();
            const std::string d = source.delimiter();

            // One message per mailbox, telling them apart.
            const auto listed = source.listed();
            const auto catalog_name = catalog_names(listed, source.client());
            std::map<std::string, std::string> name_of;  // sha256 -> catalog name of its mailbox
            std::map<std::string, std::string> sha_of;   // wire name -> sha256 of its message
            for (std::size_t i = 0; i < listed.size(); ++i) {
                const auto body = message_for(listed[i].raw_name, i);
                INFO("APPEND to " << shown(listed[i].raw_name));
                source.client().append(listed[i].mailbox(), {"\\Seen"}, std::nullopt, body);
                name_of[util::sha256_hex(body)] = catalog_name.at(listed[i].raw_name);
                sha_of[listed[i].raw_name] = util::sha256_hex(body);
            }
            for (const auto& e : listed)
                UNSCOPED_INFO("listed " << shown(e.raw_name) << " as " << shown(e.name));

            TempDir outer;
            const fs::path store_dir = outer.path / "store";
            fs::create_directories(store_dir);
            Store store(store_dir);
            sync::AccountConfig account;
            account.name = "it";
            account.connect = server_options(kind, 1);
            account.mailboxes = {p, p + d + "*"};
            account.connections = 2;
            auto report = store.backup(account);
            REQUIRE(report.error.empty());
            for (const auto& m : report.mailboxes) {
                INFO(shown(m.name));
                for (const auto& e : m.errors) UNSCOPED_INFO(e);
                CHECK(m.errors.empty());
            }

            // Each server mailbox is one catalog mailbox in its own folder,
            // holding its one message under its own name.
            const auto account_id = store.catalog->find_account("it");
            REQUIRE(account_id);
            const auto boxes = store.catalog->mailboxes(*account_id);
            CHECK(boxes.size() == listed.size());
            std::set<std::string> folders;
            std::map<std::string, std::string> stored_in;  // sha256 -> catalog name
            for (const auto& mb : boxes) {
                INFO("catalog mailbox " << shown(mb.name) << " in " << shown(mb.folder));
                folders.insert(mb.folder);
                const auto messages = store.catalog->messages(mb.id);
                CHECK(messages.size() == 1);
                for (const auto& m : messages) stored_in[m.sha256] = mb.name;
            }
            CHECK(folders.size() == boxes.size());
            CHECK(stored_in == name_of);
            check_inside(outer.path, store_dir, *store.catalog, *account_id);

            // `imapkeep verify --server` finds the server and the store alike.
            {
                TempDir verify_dir;
                const auto config = verify_dir.path / "config.toml";
                std::ofstream(config)
                    << "[store]\npath = \"" << store_dir.string() << "\"\n\n[[account]]\n"
                    << "name = \"it\"\nhost = \"" << account.connect.host
                    << "\"\nport = " << account.connect.port
                    << "\ntls = \"none\"\nallow_plaintext_auth = true\n"
                    << "user = \"" << test_user(1) << "\"\npassword = \"" << test_password(1)
                    << "\"\nmailboxes = [\"" << p << "\", \"" << p + d + "*"
                    << "\"]\n";
                fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write);
                auto verify = run_imapkeep_binary(
                    {"verify", "--config", config.string(), "--server"}, verify_dir.path);
                INFO("verify --server: " << verify.out << verify.err);
                CHECK(verify.code == 0);
            }

            // Exported from the store and straight from the server (--url): the
            // same files, every file inside the output, each mailbox under
            // its catalog name with its message.
            TempDir exports;
            archive::ExportOptions from_store;
            from_store.format = *archive::parse_archive_format("maildir");
            from_store.output = (exports.path / "store").string();
            auto stored =
                archive::export_from_store(*store.catalog, *store.messages, "it", from_store);
            INFO(stored.error);
            for (const auto& m : stored.mailboxes)
                for (const auto& e : m.errors)
                    UNSCOPED_INFO("export of " << shown(m.name) << ": " << e);
            REQUIRE(stored.published);
            archive::ExportOptions from_server = from_store;
            from_server.output = (exports.path / "server").string();
            from_server.mailbox_patterns = account.mailboxes;
            auto direct = archive::export_from_server(server_options(kind, 1), "", from_server);
            INFO(direct.error);
            std::map<std::string, std::uint64_t> exported;  // name -> messages
            for (const auto& m : direct.mailboxes) {
                INFO("export of " << shown(m.name));
                for (const auto& e : m.errors) UNSCOPED_INFO(e);
                CHECK(m.errors.empty());
                exported[m.name] += m.messages;
            }
            std::map<std::string, std::uint64_t> want_exported;
            for (const auto& [sha, name] : name_of) ++want_exported[name];
            CHECK(exported == want_exported);
            REQUIRE(direct.published);
            CHECK(files_below(exports.path / "server") == files_below(exports.path / "store"));
            for (const auto& [rel, sha] : files_below(exports.path / "store"))
                CHECK_FALSE(rel.starts_with(".."));

            // Restored into user2 without a prefix: the same names (the
            // longest would not fit under one), each with its own message.
            // Only a name made in mailboxes.db may be refused there.
            auto target = imap::connect_and_login(server_options(kind, 2));
            struct Cleanup {
                imap::Client& c;
                std::string root;
                ~Cleanup() {
                    try {
                        delete_tree(c, root);
                    } catch (const std::exception&) {
                    }
                }
            } cleanup{*target, p};
            archive::RestoreOptions o;
            o.source_account = "it";
            sync::AccountConfig dst = account;
            dst.name = "dst";
            dst.connect = server_options(kind, 2);
            dst.mailboxes = {"*"};
            auto restored = archive::restore_account(dst, *store.catalog, *store.messages, o);
            INFO(describe(restored));
            CHECK(restored.error.empty());
            std::map<std::string, imap::ListEntry> on_target;  // decoded name -> entry
            for (const auto& e : target->list("", p + "*"))
                if (e.selectable()) on_target.emplace(e.name, e);
            std::set<std::string> made_in_db;  // catalog names
            for (const auto& e : listed)
                if (source.made_in_db(e.raw_name)) made_in_db.insert(stored_in[sha_of[e.raw_name]]);
            std::set<std::string> restored_names;
            for (const auto& mb : restored.mailboxes) {
                INFO("restore of " << shown(mb.source) << " to " << shown(mb.target));
                CHECK(mb.target == mb.source);
                if (!mb.error.empty() && made_in_db.count(mb.source)) {
                    WARN(server_name(kind) << " refused to restore " << shown(mb.source)
                                           << ", a name only its mailboxes.db could hold: "
                                           << util::printable_utf8(mb.error));
                    continue;
                }
                CHECK(mb.error.empty());
                restored_names.insert(mb.target);
                auto it = on_target.find(mb.target);
                REQUIRE(it != on_target.end());
                std::set<std::string> want;
                for (const auto& [sha, name] : stored_in)
                    if (name == mb.source) want.insert(sha);
                std::set<std::string> got;
                for (const auto& m : fetch_messages(*target, it->second.name)) got.insert(m.sha256);
                CHECK(got == want);
            }
            std::set<std::string> target_names;
            for (const auto& [name, e] : on_target) target_names.insert(name);
            CHECK(target_names == restored_names);
            CHECK(restored.mailboxes.size() == listed.size());
        }
    }
}
