// Real-world folder layouts (scripts/test-env/up.sh starts one server of each
// beside the default ones): Dovecot with separator "." and the personal prefix
// "INBOX." (cPanel, Courier migrations), Cyrus's classic namespace (".",
// INBOX.x), Cyrus with "." beside INBOX (altnamespace) and Dovecot with mbox
// files. A backup of each, changed and backed up again, matches the server; a
// restore between layouts puts every message where a user expects it, and a
// name holding the other server's delimiter stays one folder.
//
// Each case works under a random root ("ikly...") of its own user and deletes
// it at the end.
#include <catch2/catch.hpp>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/names.hpp>
#include <imapkeep/archive/restore.hpp>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/imap_date.hpp>

#include "integration/backup_support.hpp"
#include "integration/restore_support.hpp"
#include "support/model_server.hpp"
#include "test_env.hpp"

#include <map>
#include <set>

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct Layout {
    const char* name;
    const char* port_variable;
    const char* personal;  // the personal namespace's prefix
};

const Layout kDovecotSlash{"Dovecot \"/\"", "IMAPKEEP_TEST_IMAP_PORT", ""};
const Layout kCyrusSlash{"Cyrus \"/\"", "IMAPKEEP_TEST_CYRUS_PORT", ""};
const Layout kDovecotInboxDot{"Dovecot \".\" INBOX.", "IMAPKEEP_TEST_DOVECOT_INBOX_DOT_PORT", "INBOX."};
const Layout kCyrusInboxDot{"Cyrus \".\" INBOX.", "IMAPKEEP_TEST_CYRUS_INBOX_DOT_PORT", "INBOX."};
const Layout kCyrusDot{"Cyrus \".\" altnamespace", "IMAPKEEP_TEST_CYRUS_DOT_PORT", ""};
const Layout kDovecotMbox{"Dovecot mbox", "IMAPKEEP_TEST_DOVECOT_MBOX_PORT", ""};

bool have(const Layout& layout) { return test_env_has({layout.port_variable}, std::string("the test ") + layout.name); }

imap::ConnectOptions options(const Layout& layout, int user) {
    auto o = dovecot_options(user);
    o.port = std::stoi(env(layout.port_variable).value_or("143"));
    return o;
}

std::string message(const std::string& tag) {
    return "From: a@example.org\r\nTo: b@example.org\r\nSubject: " + tag + "\r\nMessage-ID: <" + tag +
           "@layouts>\r\n\r\nbody of " + tag + "\r\n";
}

std::string date(int i) { return util::format_imap_datetime(1700000000 + i * 3600, 3600 * (i % 3)); }

// A user's mailboxes under `root` on one server, deleted when this goes away.
class Account {
  public:
    Account(const Layout& layout, int user)
        : m_c(imap::connect_and_login(options(layout, user))), m_d(hierarchy_delimiter(*m_c)) {}
    ~Account() {
        for (const auto& root : m_roots) try {
                delete_tree(*m_c, root);
            } catch (const std::exception&) {
            }
    }
    Account(const Account&) = delete;
    Account& operator=(const Account&) = delete;

    imap::Client& client() { return *m_c; }
    const std::string& delimiter() const { return m_d; }
    void own(const std::string& root) { m_roots.push_back(root); }
    void create(const std::string& name) { m_c->create(name); }
    void append(const std::string& box, const std::string& tag, int i, std::vector<std::string> flags) {
        m_c->append(box, flags, date(i), message(tag));
    }
    void store_flags(const std::string& box, const std::string& uids, const imap::StoreFlags& change) {
        m_c->select(box, false);
        m_c->uid_store(UidSet::parse(uids), change);
        m_c->close();
    }
    void expunge(const std::string& box, const std::string& uids) {
        store_flags(box, uids, imap::StoreFlags::add({"\\Deleted"}).silent());
        m_c->select(box, false);
        REQUIRE(m_c->run("UID EXPUNGE", {wire::Arg::raw(uids)}).ok());
        m_c->close();
    }
    // Selectable mailboxes at or below `root`, by decoded name.
    std::set<std::string> below(const std::string& root) {
        std::set<std::string> out;
        for (const auto& e : m_c->list("", root + "*"))
            if (e.selectable() && (e.name == root || e.name.starts_with(root + m_d))) out.insert(e.name);
        return out;
    }

  private:
    std::unique_ptr<imap::Client> m_c;
    std::string m_d;
    std::vector<std::string> m_roots;
};

sync::AccountConfig account_of(const std::string& name, const Layout& layout, int user, const std::string& root,
                               const std::string& d) {
    return one_connection_account(name, options(layout, user), {root, root + d + "*"});
}

void require_clean(const sync::AccountReport& r) {
    REQUIRE(r.error.empty());
    for (const auto& m : r.mailboxes) {
        INFO(m.name);
        CHECK(m.errors.empty());
    }
}

std::set<std::string> live_mailboxes(store::Catalog& catalog, const std::string& account) {
    std::set<std::string> out;
    for (const auto& mb : catalog.mailboxes(*catalog.find_account(account))) out.insert(mb.name);
    return out;
}

// The store holds what the server does below `root`: the same mailbox names,
// and in each the same bytes, flags (keywords too) and INTERNALDATEs.
void check_store_matches(Store& store, const std::string& account, Account& server, const std::string& root) {
    const auto names = server.below(root);
    CHECK(live_mailboxes(*store.catalog, account) == names);
    for (const auto& name : names) {
        INFO("mailbox " << name);
        CHECK(catalog_messages(*store.catalog, account, name) == fetch_messages(server.client(), name));
    }
}

}  // namespace

TEST_CASE("a backup of each real-world layout, changed and backed up again, matches the server",
          "[integration][layouts]") {
    for (const auto* layout : {&kDovecotInboxDot, &kCyrusInboxDot, &kCyrusDot, &kDovecotMbox}) {
        DYNAMIC_SECTION(layout->name) {
            if (!have(*layout)) return;
            Account server(*layout, 1);
            const auto& d = server.delimiter();
            const bool mbox = layout == &kDovecotMbox;
            CHECK(d == (mbox ? "/" : "."));
            const std::string root = layout->personal + unique_name("iklb");
            server.own(root);
            // Non-ASCII (modified UTF-7 on the wire), "&", spaces, a renamed
            // folder. An mbox folder holds mail or folders: there the mail
            // goes one level down.
            const std::string top = mbox ? root + d + "top" : root;
            const std::vector<std::string> boxes = {top, root + d + "Entw\xC3\xBC" "rfe", root + d + "a & b",
                                                    root + d + "with space", root + d + "old"};
            for (const auto& box : boxes) server.create(box);
            int i = 0;
            for (const auto& box : boxes) {
                server.append(box, "one" + std::to_string(i), i, {"\\Seen"});
                ++i;
                server.append(box, "two" + std::to_string(i), i, {"\\Flagged", "$Label1", "work"});
                ++i;
            }
            TempDir dir;
            Store store(dir.path);
            const auto account = account_of("src", *layout, 1, root, d);
            require_clean(store.backup(account));
            check_store_matches(store, "src", server, root);

            // Flags (keywords too) set and cleared, an expunge, new mail, a rename.
            server.store_flags(boxes[1], "1", imap::StoreFlags::add({"\\Answered", "$Work"}));
            server.store_flags(boxes[1], "2", imap::StoreFlags::remove({"\\Flagged", "$Label1"}));
            server.expunge(boxes[2], "1");
            server.append(boxes[3], "three", 20, {"$Later"});
            server.client().rename_mailbox(boxes[4], root + d + "new");
            require_clean(store.backup(account));
            check_store_matches(store, "src", server, root);

            // Exported from the store: every mailbox with its messages.
            archive::ExportOptions eo;
            eo.format = *archive::parse_archive_format("maildir");
            eo.output = (dir.path / "export").string();
            auto exported = archive::export_from_store(*store.catalog, *store.messages, "src", eo);
            INFO(exported.error);
            REQUIRE(exported.published);
            std::map<std::string, std::uint64_t> counts, want;
            for (const auto& m : exported.mailboxes) {
                for (const auto& e : m.errors) UNSCOPED_INFO(m.name << ": " << e);
                CHECK(m.errors.empty());
                counts[m.name] = m.messages;
            }
            for (const auto& name : server.below(root)) want[name] = fetch_messages(server.client(), name).size();
            CHECK(counts == want);
        }
    }
}

TEST_CASE("a restore between layouts puts every message where a user expects it", "[integration][layouts]") {
    if (!have(kCyrusSlash) || !have(kDovecotInboxDot) || !have(kDovecotSlash) || !have(kCyrusInboxDot) ||
        !have(kCyrusDot))
        return;
    const std::string dot = "\xEF\xBC\x8E";  // U+FF0E FULLWIDTH FULL STOP
    const std::string stem = unique_name("ikly");

    // A "/" server without prefix, with a name holding "." (Cyrus takes it).
    Account cyrus(kCyrusSlash, 2);
    cyrus.own(stem);
    // "." alone: a level named like the other servers' delimiter.
    const std::vector<std::string> source_boxes = {stem, stem + "/x.y", stem + "/x", stem + "/x/y",
                                                   stem + "/Entw\xC3\xBC" "rfe & co", stem + "/."};
    for (const auto& box : source_boxes) cyrus.create(box);
    int i = 0;
    for (const auto& box : source_boxes) {
        cyrus.append(box, stem + "m" + std::to_string(i), i, {"\\Seen", "$Label1"});
        ++i;
    }
    TempDir dir1;
    Store first(dir1.path);
    require_clean(first.backup(account_of("cyrus", kCyrusSlash, 2, stem, "/")));

    // Into "." with "INBOX.": below the personal prefix, "x.y" one folder
    // apart from "x" and its child "y".
    const std::map<std::string, std::string> into_dotted = {
        {stem, "INBOX." + stem},
        {stem + "/x.y", "INBOX." + stem + ".x" + dot + "y"},
        {stem + "/x", "INBOX." + stem + ".x"},
        {stem + "/x/y", "INBOX." + stem + ".x.y"},
        {stem + "/Entw\xC3\xBC" "rfe & co", "INBOX." + stem + ".Entw\xC3\xBC" "rfe & co"},
        {stem + "/.", "INBOX." + stem + "." + dot},
    };
    auto restore_into = [](Store& store, const std::string& source, const Layout& layout, int user,
                           const std::string& prefix = "") {
        archive::RestoreOptions o;
        o.source_account = source;
        o.prefix = prefix;
        // The journal knows a target by its account name: one per server.
        auto target = one_connection_account(std::string("dst ") + layout.port_variable, options(layout, user), {"*"});
        auto r = archive::restore_account(target, *store.catalog, *store.messages, o);
        INFO(layout.name << ": " << describe(r));
        CHECK_FALSE(r.failed());
        return r;
    };
    auto check_restored = [](Store& store, const std::string& source, Account& target,
                             const std::map<std::string, std::string>& expected, const archive::RestoreReport& r) {
        std::map<std::string, std::string> got;
        for (const auto& m : r.mailboxes) got[m.source] = m.target;
        CHECK(got == expected);
        for (const auto& [from, to] : expected) {
            INFO(from << " -> " << to);
            CHECK(fetch_messages(target.client(), to) == catalog_messages(*store.catalog, source, from));
        }
    };
    {
        Account dotted(kDovecotInboxDot, 2);
        dotted.own("INBOX." + stem);
        auto r = restore_into(first, "cyrus", kDovecotInboxDot, 2);
        check_restored(first, "cyrus", dotted, into_dotted, r);
        std::set<std::string> made;
        for (const auto& [from, to] : into_dotted) made.insert(to);
        CHECK(dotted.below("INBOX." + stem) == made);

        // And back out of it, into "/" on Dovecot and "." beside INBOX on
        // Cyrus: the prefix goes, the levels stay apart.
        TempDir dir2;
        Store second(dir2.path);
        require_clean(second.backup(account_of("dotted", kDovecotInboxDot, 2, "INBOX." + stem, ".")));
        for (const auto* layout : {&kDovecotSlash, &kCyrusDot}) {
            Account target(*layout, 2);
            const auto& d = target.delimiter();
            target.own(stem);
            std::map<std::string, std::string> expected;
            for (const auto& [from, via] : into_dotted) {
                auto levels = via.substr(6);  // below "INBOX."
                std::string name;
                for (const auto& level : archive::split_mailbox(levels, "."))
                    name += (name.empty() ? "" : d) + level;
                expected[via] = name;
            }
            auto back = restore_into(second, "dotted", *layout, 2);
            check_restored(second, "dotted", target, expected, back);
        }
    }

    // Into Dovecot "/" with Maildir++ folders, which refuses "." in any name
    // (its folders' separator on disk): "x.y" and "." go as one level all the same.
    {
        Account maildir(kDovecotSlash, 2);
        maildir.own(stem);
        std::map<std::string, std::string> expected;
        for (const auto& [from, via] : into_dotted) {
            std::string name = from;
            for (std::size_t pos = 0; (pos = name.find('.', pos)) != std::string::npos;) name.replace(pos, 1, dot);
            expected[from] = name;
        }
        auto r = restore_into(first, "cyrus", kDovecotSlash, 2);
        check_restored(first, "cyrus", maildir, expected, r);
        // Run again: the same names, nothing appended twice.
        auto again = restore_into(first, "cyrus", kDovecotSlash, 2);
        check_restored(first, "cyrus", maildir, expected, again);
        CHECK(total(again, &archive::RestoreMailboxReport::appended) == 0);
        CHECK(maildir.below(stem).size() == expected.size());
    }

    // Into Cyrus's classic namespace (INBOX.x) the same way as into Dovecot's,
    // also for a user who names the prefix (--prefix INBOX., what worked
    // before imapkeep read NAMESPACE): "x.y" still stays apart from "x/y".
    {
        Account classic(kCyrusInboxDot, 2);
        classic.own("INBOX." + stem);
        auto r = restore_into(first, "cyrus", kCyrusInboxDot, 2, "INBOX.");
        check_restored(first, "cyrus", classic, into_dotted, r);
    }
}

TEST_CASE("a restore never merges two source mailboxes into one target mailbox", "[integration][layouts]") {
    if (!have(kCyrusSlash) || !have(kDovecotInboxDot)) return;
    // "x.y" on a "." server is "x" U+FF0E "y": a source that has both names
    // cannot have both there.
    const std::string stem = unique_name("iklc");
    const std::string plain = stem + "/x.y", fullwidth = stem + "/x\xEF\xBC\x8Ey";
    Account cyrus(kCyrusSlash, 2);
    cyrus.own(stem);
    for (const auto& box : {plain, fullwidth}) cyrus.create(box);
    cyrus.append(plain, stem + "plain", 1, {});
    cyrus.append(fullwidth, stem + "fullwidth", 2, {});
    TempDir dir;
    Store store(dir.path);
    require_clean(store.backup(account_of("cyrus", kCyrusSlash, 2, stem, "/")));

    Account dotted(kDovecotInboxDot, 2);
    dotted.own("INBOX." + stem);
    archive::RestoreOptions o;
    o.source_account = "cyrus";
    auto target = one_connection_account("dst", options(kDovecotInboxDot, 2), {"*"});
    auto r = archive::restore_account(target, *store.catalog, *store.messages, o);
    INFO(describe(r));
    const std::string name = "INBOX." + stem + ".x\xEF\xBC\x8Ey";
    std::map<std::string, std::string> errors;
    for (const auto& m : r.mailboxes) {
        if (m.source != plain && m.source != fullwidth) continue;  // the root Cyrus lists
        CHECK(m.target == name);
        errors[m.source] = m.error;
    }
    // The first restored keeps the name; the other is refused, and says why.
    CHECK(errors.at(plain).empty());
    CHECK(errors.at(fullwidth).find(plain) != std::string::npos);
    CHECK(fetch_messages(dotted.client(), name) == catalog_messages(*store.catalog, "cyrus", plain));
}

TEST_CASE("names that differ only in case stay as they are on case-sensitive Dovecot and Cyrus",
          "[integration][layouts][case]") {
    if (!have(kDovecotSlash) || !have(kCyrusSlash) || !have(kDovecotInboxDot)) return;
    // keep_case_apart asks LIST after such a CREATE: these servers list the
    // name itself, so nothing goes apart and nothing is noted.
    const std::string stem = unique_name("iklf");
    Account dovecot(kDovecotSlash, 1);
    dovecot.own(stem);
    for (const auto* box : {"/Foo", "/foo", "/Foo/Bar", "/foo/Bar"}) dovecot.create(stem + box);
    for (const auto* box : {"/Foo", "/foo", "/Foo/Bar", "/foo/Bar"}) dovecot.append(stem + box, stem + box, 1, {});
    TempDir dir;
    Store store(dir.path);
    require_clean(store.backup(account_of("dovecot", kDovecotSlash, 1, stem, "/")));
    for (const auto* layout : {&kCyrusSlash, &kDovecotInboxDot}) {
        DYNAMIC_SECTION(layout->name) {
            Account target(*layout, 2);
            const std::string root = layout->personal + stem;
            target.own(root);
            archive::RestoreOptions o;
            o.source_account = "dovecot";
            auto r = archive::restore_account(
                one_connection_account(std::string("dst ") + layout->port_variable, options(*layout, 2), {"*"}),
                *store.catalog, *store.messages, o);
            INFO(describe(r));
            CHECK(r.notes.empty());
            const auto d = target.delimiter();
            for (const std::string box : {"/Foo", "/foo", "/Foo/Bar", "/foo/Bar"}) {
                std::string name = root;
                for (char c : box) name += c == '/' ? d : std::string(1, c);
                INFO(name);
                bool found = false;
                for (const auto& m : r.mailboxes)
                    if (m.source == stem + box) {
                        found = true;
                        CHECK(m.target == name);
                        CHECK(m.error.empty());
                        CHECK(m.appended == 1);
                    }
                CHECK(found);
                CHECK(fetch_messages(target.client(), name) == catalog_messages(*store.catalog, "dovecot", stem + box));
            }
        }
    }
}

TEST_CASE("Quirk(Dovecot): restored into mbox files, a child of a folder that holds mail goes beside it",
          "[integration][layouts][mbox]") {
    if (!have(kDovecotSlash) || !have(kDovecotMbox)) return;
    // An mbox folder is a file: "[CANNOT] Mailbox doesn't allow inferior
    // mailboxes" for any folder below it. The child goes beside its parent,
    // its last level joined on with the fullwidth delimiter, and so on down.
    const std::string slash = "\xEF\xBC\x8F";  // U+FF0F FULLWIDTH SOLIDUS
    const std::string stem = unique_name("iklm");
    const std::vector<std::string> boxes = {stem + "/A", stem + "/A/B", stem + "/A/B/C", stem + "/D"};
    Account dovecot(kDovecotSlash, 1);
    dovecot.own(stem);
    for (const auto& box : boxes) dovecot.create(box);
    for (const auto& box : boxes) dovecot.append(box, box, 1, {"\\Seen"});
    TempDir dir;
    Store store(dir.path);
    require_clean(store.backup(account_of("dovecot", kDovecotSlash, 1, stem, "/")));

    Account mbox(kDovecotMbox, 2);
    mbox.own(stem);
    const std::map<std::string, std::string> want = {{stem + "/A", stem + "/A"},
                                                     {stem + "/A/B", stem + "/A" + slash + "B"},
                                                     {stem + "/A/B/C", stem + "/A" + slash + "B" + slash + "C"},
                                                     {stem + "/D", stem + "/D"}};
    for (int run = 1; run <= 2; ++run) {
        INFO("run " << run);
        archive::RestoreOptions o;
        o.source_account = "dovecot";
        auto r = archive::restore_account(one_connection_account("dst", options(kDovecotMbox, 2), {"*"}),
                                          *store.catalog, *store.messages, o);
        INFO(describe(r));
        CHECK_FALSE(r.failed());
        std::map<std::string, std::string> targets;
        for (const auto& m : r.mailboxes) {
            targets[m.source] = m.target;
            CHECK(m.appended == (run == 1 ? 1u : 0u));
        }
        CHECK(targets == want);
        // Said once per folder put beside its parent.
        const auto beside = std::count_if(r.notes.begin(), r.notes.end(),
                                          [](const auto& n) { return n.find("beside") != std::string::npos; });
        CHECK(beside == 2);
        for (const auto& [source, target] : want)
            CHECK(fetch_messages(mbox.client(), target) == catalog_messages(*store.catalog, "dovecot", source));
    }
}

TEST_CASE("Client::namespaces() reads each real server's personal prefix and delimiter", "[integration][layouts][namespace]") {
    for (const auto* layout : {&kDovecotSlash, &kCyrusSlash, &kDovecotInboxDot, &kCyrusInboxDot, &kCyrusDot, &kDovecotMbox}) {
        DYNAMIC_SECTION(layout->name) {
            if (!have(*layout)) return;
            Account server(*layout, 1);
            REQUIRE(server.client().has_capability("NAMESPACE"));
            const auto namespaces = server.client().namespaces();
            REQUIRE_FALSE(namespaces.personal.empty());
            CHECK(namespaces.personal.front().prefix == layout->personal);
            CHECK(namespaces.personal.front().delimiter == server.delimiter());
        }
    }
}

TEST_CASE("INBOX/x and Inbox/x from a server that keeps them apart stay two folders on Dovecot and Cyrus",
          "[integration][layouts][case]") {
    if (!have(kDovecotSlash) || !have(kCyrusSlash)) return;
    // Both take "Inbox/x" for INBOX/x (RFC 3501 section 5.1): Dovecot lists
    // INBOX/x for it, Cyrus answers its CREATE "NO Mailbox already exists"
    // and lists nothing. The model server holds both names apart.
    const std::string stem = unique_name("ikli");
    testing::ModelServer source;
    source.add_mailbox("INBOX");
    source.add_mailbox("INBOX/" + stem);
    source.add_mailbox("Inbox/" + stem);
    source.append("INBOX/" + stem, message(stem + "upper"));
    source.append("Inbox/" + stem, message(stem + "mixed"));
    TempDir dir;
    Store store(dir.path);
    require_clean(store.backup(one_connection_account("model", source.connect_options(), {"INBOX/*", "Inbox/*"})));
    for (const auto* layout : {&kDovecotSlash, &kCyrusSlash}) {
        DYNAMIC_SECTION(layout->name) {
            Account target(*layout, 2);
            target.own("INBOX/" + stem);
            target.own("INBOX/" + stem + " (2)");
            for (int run = 1; run <= 2; ++run) {
                INFO("run " << run);
                archive::RestoreOptions o;
                o.source_account = "model";
                auto r = archive::restore_account(
                    one_connection_account(std::string("dst ") + layout->port_variable, options(*layout, 2), {"*"}),
                    *store.catalog, *store.messages, o);
                INFO(describe(r));
                std::map<std::string, std::string> targets;
                for (const auto& m : r.mailboxes) {
                    if (m.source == "INBOX") continue;
                    CHECK(m.error.empty());
                    CHECK(m.appended == (run == 1 ? 1u : 0u));
                    targets[m.source] = m.target;
                }
                CHECK(targets == std::map<std::string, std::string>{{"INBOX/" + stem, "INBOX/" + stem},
                                                                    {"Inbox/" + stem, "Inbox/" + stem + " (2)"}});
                CHECK(fetch_messages(target.client(), "INBOX/" + stem) ==
                      catalog_messages(*store.catalog, "model", "INBOX/" + stem));
                CHECK(fetch_messages(target.client(), "INBOX/" + stem + " (2)") ==
                      catalog_messages(*store.catalog, "model", "Inbox/" + stem));
            }
        }
    }
}
