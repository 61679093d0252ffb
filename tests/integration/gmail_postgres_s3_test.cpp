// Gmail (X-GM-EXT-1) on the "postgres+s3" store (issue 13 x issue 12),
// through the imapkeep binary: the model server's Gmail mode on TCP
// (model_listener.hpp), the test PostgreSQL as the catalog, the test Ceph RGW
// for the bytes. All Mail is the one copy: one download and one object per
// message, whatever its labels; the labels, their history and the label rows
// live in the catalog, each label row naming the copy's object. verify (and
// verify --server) is clean on such a store and names a missing object, one
// with other bytes, and a label row that names no copy; restore and export
// give the labels back as the local store's do.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/store/s3_message_store.hpp>
#include <imapkeep/util/sha256.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "integration/restore_support.hpp"
#include "store/postgres/pg_connection.hpp"
#include "support/model_listener.hpp"
#include "support/model_server.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kFiveLabels = {"\\Inbox", "\\Important", "\\Starred", "Work",
                                              "Travel/2024"};

std::string gmail_message(const std::string& id) {
    return "From: a@example.org\r\nSubject: " + id + "\r\nMessage-ID: <" + id +
           "@example.org>\r\n\r\nhello " + id + "\r\n";
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

bool have_servers() {
    return test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL") &&
           test_env_has({"IMAPKEEP_TEST_S3_ENDPOINT", "IMAPKEEP_TEST_S3_ACCESS_KEY",
                         "IMAPKEEP_TEST_S3_SECRET_KEY", "IMAPKEEP_TEST_S3_BUCKET"},
                        "the test Ceph RGW");
}

s3::S3Config rgw_config() {
    s3::S3Config config;
    config.endpoint = env("IMAPKEEP_TEST_S3_ENDPOINT").value_or("");
    config.credentials = {env("IMAPKEEP_TEST_S3_ACCESS_KEY").value_or(""),
                          env("IMAPKEEP_TEST_S3_SECRET_KEY").value_or("")};
    return config;
}

std::string rgw_bucket() { return env("IMAPKEEP_TEST_S3_BUCKET").value_or(""); }

std::string account_text(const std::string& name, int port, const std::string& user,
                         const std::string& password) {
    return "\n[[account]]\nname = \"" + name + "\"\nhost = \"127.0.0.1\"\nport = " +
           std::to_string(port) + "\ntls = \"none\"\nallow_plaintext_auth = true\nuser = \"" +
           user + "\"\npassword = \"" + password + "\"\n";
}

// A Gmail account "src" on the model server, backed up by the binary into a
// catalog schema and a bucket prefix of its own (both removed at the end).
// "gmail" is a second Gmail model account, a restore target; "dovecot" the
// test Dovecot's user 2, when there is one.
struct GmailOnS3 {
    ModelServer server, target;
    ModelListener listener{server}, target_listener{target};
    TempDir dir;
    std::string schema, prefix = "test/" + unique_name("gmail-s3-") + "/";
    std::string config = (dir.path / "config.toml").string();
    s3::S3Client s3{rgw_config()};
    std::string src_extra;  // more keys of account "src" (write_config)

    GmailOnS3() {
        std::random_device random;
        schema = "ik_gs3_" + std::to_string(::getpid()) + "_" + std::to_string(random() % 100000);
        server.make_gmail();
        target.make_gmail();
        s3.create_bucket(rgw_bucket());
        write_config();
    }
    ~GmailOnS3() {
        try {
            store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
            pg.exec("DROP SCHEMA IF EXISTS " + pg.quote_identifier(schema) + " CASCADE");
            for (const auto& key : object_keys(true)) s3.delete_object(rgw_bucket(), key);
        } catch (const std::exception& e) {
            WARN("cleanup of " << schema << " and " << prefix << ": " << e.what());
        }
    }

    void write_config() {
        const auto secret = dir.path / "s3.secret";
        std::ofstream(secret) << env("IMAPKEEP_TEST_S3_SECRET_KEY").value_or("") << "\n";
        ::chmod(secret.c_str(), 0600);
        std::ofstream out(config);
        out << "[store]\npath = \"" << (dir.path / "store").string() << "\"\n"
            << "backend = \"postgres+s3\"\n"
            << "catalog = \"" << env("IMAPKEEP_TEST_PG_URL").value_or("") << "\"\n"
            << "catalog_schema = \"" << schema << "\"\n\n"
            << "[store.s3]\nendpoint = \"" << env("IMAPKEEP_TEST_S3_ENDPOINT").value_or("")
            << "\"\nbucket = \"" << rgw_bucket() << "\"\nprefix = \"" << prefix
            << "\"\naccess_key = \"" << env("IMAPKEEP_TEST_S3_ACCESS_KEY").value_or("")
            << "\"\nsecret_key_file = \"" << secret.string() << "\"\n\n"
            << account_text("src", listener.port(), server.user, server.password) << src_extra
            << account_text("gmail", target_listener.port(), target.user, target.password);
        if (have_dovecot())
            out << account_text("dovecot", std::stoi(env("IMAPKEEP_TEST_IMAP_PORT").value_or("143")),
                                test_user(2), test_password(2));
        out.close();
        ::chmod(config.c_str(), 0600);
        ::chmod(dir.path.c_str(), 0700);
    }

    ChildResult run(std::vector<std::string> args) {
        args.insert(args.begin() + 1, {"--config", config});
        return run_imapkeep_binary(args, dir.path);
    }

    ChildResult backup() { return run({"backup", "--account", "src"}); }

    // The messages' objects (`everything`: the prefix's owner object too).
    std::set<std::string> object_keys(bool everything = false) {
        std::set<std::string> keys;
        s3.for_each_object(rgw_bucket(), everything ? prefix : prefix + "blobs/",
                           [&](const s3::ListedObject& o) { keys.insert(o.key); });
        return keys;
    }

    // The object (full key) of a row's file "s3:blobs/...".
    std::string object_of(const std::string& file) {
        REQUIRE(file.rfind("s3:", 0) == 0);
        return prefix + file.substr(3);
    }

    std::unique_ptr<store::Catalog> catalog() {
        store::PostgresCatalogOptions o;
        o.conninfo = env("IMAPKEEP_TEST_PG_URL").value_or("");
        o.schema = schema;
        return store::open_postgres_catalog(o);
    }

    // All Mail's rows, by subject line's id ("five", ...).
    std::map<std::string, store::MessageRecord> all_mail(store::Catalog& catalog) {
        auto account = catalog.find_account("src");
        REQUIRE(account);
        auto all = catalog.find_mailbox(*account, server.gmail_names().all);
        REQUIRE(all);
        std::map<std::string, store::MessageRecord> rows;
        for (const auto& m : catalog.all_messages(all->id)) {
            for (const auto& id : {"five", "two", "archived", "gone"})
                if (m.sha256 == util::sha256_hex(gmail_message(id))) rows[id] = m;
        }
        return rows;
    }

    // Each label row of `m` names the copy's object, one per label.
    void check_label_rows(store::Catalog& catalog, const store::MessageRecord& m,
                          const std::vector<std::string>& labels) {
        auto gmail = catalog.gmail_message(m.id);
        REQUIRE(gmail);
        CHECK(gmail->labels == sorted(labels));
        std::vector<std::string> linked;
        for (const auto& link : catalog.label_links(m.id)) {
            INFO(link.label);
            CHECK(link.file == m.file);
            linked.push_back(link.label);
        }
        CHECK(sorted(linked) == sorted(labels));
    }
};

}  // namespace

TEST_CASE("gmail on postgres+s3: a message in 5 labels is one download and one object; labels, "
          "flags and expunges reach the catalog",
          "[integration][postgres][s3][gmail]") {
    if (!have_servers()) return;
    GmailOnS3 f;
    const auto five = f.server.gmail_deliver(gmail_message("five"), kFiveLabels);
    f.server.gmail_deliver(gmail_message("two"), {"\\Inbox", "Work"});
    const auto gone = f.server.gmail_deliver(gmail_message("gone"), {"Work"});
    auto first = f.backup();
    INFO(first.out << first.err);
    REQUIRE(first.code == 0);
    // Each message once, from All Mail; each one object.
    CHECK(f.server.body_fetches() == 3);
    CHECK(f.server.body_fetches(f.server.gmail_names().all) == 3);
    CHECK(f.object_keys().size() == 3);
    {
        auto catalog = f.catalog();
        auto rows = f.all_mail(*catalog);
        REQUIRE(rows.size() == 3);
        f.check_label_rows(*catalog, rows["five"], kFiveLabels);
        f.check_label_rows(*catalog, rows["two"], {"\\Inbox", "Work"});
        CHECK(catalog->label_history(rows["five"].id).size() == 1);
        auto gmail = catalog->gmail_message(rows["five"].id);
        CHECK(gmail->msgid == five);
        // No label is a mailbox of its own in the catalog.
        auto account = catalog->find_account("src");
        CHECK_FALSE(catalog->find_mailbox(*account, "Work"));
        CHECK_FALSE(catalog->find_mailbox(*account, "INBOX"));
    }

    // A label renamed: every row that had it, a history entry each.
    f.server.gmail_rename_label("Work", "Job");
    auto renamed_run = f.backup();
    INFO(renamed_run.out << renamed_run.err);
    REQUIRE(renamed_run.code == 0);
    auto renamed = kFiveLabels;
    std::replace(renamed.begin(), renamed.end(), std::string("Work"), std::string("Job"));
    {
        auto catalog = f.catalog();
        auto rows = f.all_mail(*catalog);
        f.check_label_rows(*catalog, rows["five"], renamed);
        f.check_label_rows(*catalog, rows["two"], {"\\Inbox", "Job"});
        f.check_label_rows(*catalog, rows["gone"], {"Job"});
        CHECK(catalog->label_history(rows["two"].id).size() == 2);
    }

    // A label removed, a flag set, a message gone from All Mail.
    auto labels = f.server.gmail_message(five).gm_labels;
    std::erase(labels, std::string("Travel/2024"));
    f.server.gmail_set_labels(five, labels);
    const auto& all = f.server.gmail_names().all;
    for (const auto& [uid, m] : f.server.mailbox(all).messages)
        if (m.gm_msgid == five) f.server.set_flags(all, uid, {"\\Seen", "\\Flagged"});
    f.server.gmail_set_labels(gone, {});
    std::uint32_t gone_uid = 0;
    for (const auto& [uid, m] : f.server.mailbox(all).messages)
        if (m.gm_msgid == gone) gone_uid = uid;
    REQUIRE(gone_uid != 0);
    f.server.expunge(all, gone_uid);
    auto second = f.backup();
    INFO(second.out << second.err);
    REQUIRE(second.code == 0);
    CHECK(f.server.body_fetches() == 3);  // nothing downloaded again
    CHECK(f.object_keys().size() == 3);   // the expunged message's object waits for gc
    {
        auto catalog = f.catalog();
        auto rows = f.all_mail(*catalog);
        REQUIRE(rows.size() == 3);
        const std::vector<std::string> now = {"\\Inbox", "\\Important", "\\Starred", "Job"};
        f.check_label_rows(*catalog, rows["five"], now);
        f.check_label_rows(*catalog, rows["two"], {"\\Inbox", "Job"});
        CHECK(rows["five"].flags == std::vector<std::string>{"\\Flagged", "\\Seen"});
        auto history = catalog->label_history(rows["five"].id);
        REQUIRE(history.size() == 3);
        CHECK(history[0].labels == sorted(kFiveLabels));
        CHECK(history[1].labels == sorted(renamed));
        CHECK(history[2].labels == sorted(now));
        CHECK(rows["gone"].expunged_at.has_value());
        CHECK(catalog->label_links(rows["gone"].id).empty());
        CHECK_FALSE(rows["five"].expunged_at.has_value());
    }
    // A third run changes nothing.
    auto third = f.backup();
    INFO(third.out << third.err);
    REQUIRE(third.code == 0);
    CHECK(f.server.body_fetches() == 3);
    auto catalog = f.catalog();
    CHECK(catalog->label_history(f.all_mail(*catalog)["five"].id).size() == 3);
}

TEST_CASE("gmail on postgres+s3: verify is clean, and names a missing object, a wrong one and a "
          "label row that names no copy",
          "[integration][postgres][s3][gmail][verify]") {
    if (!have_servers()) return;
    GmailOnS3 f;
    f.server.gmail_deliver(gmail_message("five"), kFiveLabels);
    const auto two = f.server.gmail_deliver(gmail_message("two"), {"\\Inbox", "Work"});
    f.server.gmail_deliver(gmail_message("archived"), {});
    auto backup = f.backup();
    INFO(backup.out << backup.err);
    REQUIRE(backup.code == 0);

    auto clean = f.run({"verify", "--account", "src"});
    INFO(clean.out << clean.err);
    CHECK(clean.code == 0);
    CHECK(clean.out.find("src: files: all match the catalog") != std::string::npos);
    CHECK(clean.err.find("link") == std::string::npos);
    CHECK(clean.err.find("name shared") == std::string::npos);
    auto server = f.run({"verify", "--account", "src", "--server"});
    INFO(server.out << server.err);
    CHECK(server.code == 0);
    CHECK(server.out.find("src: server: UIDs and flags match") != std::string::npos);
    CHECK(server.out.find("src: server: [Gmail]/All Mail compared with its labels: 3 messages") !=
          std::string::npos);
    // A label the backup has not seen yet is named like a flag change.
    f.server.gmail_set_labels(two, {"\\Inbox"});
    auto behind = f.run({"verify", "--account", "src", "--server"});
    INFO(behind.out << behind.err);
    CHECK(behind.code == 1);
    CHECK(behind.err.find("src: [Gmail]/All Mail: labels differ 1 (UID 2)") != std::string::npos);
    f.server.gmail_set_labels(two, {"\\Inbox", "Work"});

    auto catalog = f.catalog();
    auto rows = f.all_mail(*catalog);
    REQUIRE(rows.size() == 3);
    // "two"'s object gone, "archived"'s holding other bytes of the same size
    // (one bit flipped), and one of "five"'s label rows naming an object
    // that is no copy of it.
    f.s3.delete_object(rgw_bucket(), f.object_of(rows["two"].file));
    auto flipped = gmail_message("archived");
    flipped[flipped.find("hello")] ^= 0x02;
    s3::MemorySource other(flipped);
    f.s3.put_object(rgw_bucket(), f.object_of(rows["archived"].file), other);
    auto links = catalog->label_links(rows["five"].id);
    REQUIRE(links.size() == 5);
    const std::string stray = "s3:" + store::s3_blob_key(util::sha256_hex("no such message"));
    for (auto& link : links)
        if (link.label == "Work") link.file = stray;
    catalog->set_label_links(rows["five"].id, links);

    for (bool with_server : {false, true}) {
        DYNAMIC_SECTION("verify" << (with_server ? " --server" : "")) {
            std::vector<std::string> args = {"verify", "--account", "src", "--json"};
            if (with_server) args.push_back("--server");
            auto broken = f.run(args);
            INFO(broken.out << broken.err);
            CHECK(broken.code == 1);
            auto report = nlohmann::json::parse(broken.out);
            std::set<std::pair<std::string, std::string>> problems;
            for (const auto& file : report["accounts"][0]["files"])
                problems.emplace(file["file"], file["problem"]);
            CHECK(problems == std::set<std::pair<std::string, std::string>>{
                                  {rows["two"].file, "missing"},
                                  {rows["archived"].file, "corrupt"},
                                  {stray, "link not the copy"}});
            if (with_server) CHECK(report["accounts"][0]["server"].empty());
        }
    }
    auto text = f.run({"verify", "--account", "src"});
    INFO(text.out << text.err);
    CHECK(text.err.find("src: link not the copy: s3://" + rgw_bucket() + "/" + f.prefix +
                        stray.substr(3)) != std::string::npos);
    CHECK(text.out.find("src: files: 3 problems") != std::string::npos);

    // --repair fetches both messages again and writes their objects anew,
    // the one whose size is right too, and makes the label rows name the
    // copy again.
    auto repair = f.run({"verify", "--account", "src", "--repair"});
    INFO(repair.out << repair.err);
    CHECK(repair.code == 0);
    CHECK(repair.out.find("src: files: all match the catalog") != std::string::npos);
    auto after = f.run({"verify", "--account", "src", "--server"});
    INFO(after.out << after.err);
    CHECK(after.code == 0);
    CHECK(after.out.find("src: files: all match the catalog") != std::string::npos);
    std::string held;
    f.s3.get_object(rgw_bucket(), f.object_of(rows["archived"].file),
                    [&](std::string_view chunk) { held += chunk; });
    CHECK(held == gmail_message("archived"));
    f.check_label_rows(*f.catalog(), rows["five"], kFiveLabels);
}

namespace {

// The one file in DIR/cur whose bytes are `body` ("" when none).
fs::path file_with(const fs::path& dir, const std::string& body) {
    fs::path found;
    if (!fs::is_directory(dir / "cur")) return found;
    for (const auto& e : fs::directory_iterator(dir / "cur"))
        if (slurp_file(e.path()) == body) found = e.path();
    return found;
}

}  // namespace

TEST_CASE("gmail on postgres+s3: restore to Gmail labels each message once, to Dovecot a folder "
          "per label; export has the label folders",
          "[integration][postgres][s3][gmail][restore][export]") {
    if (!have_servers()) return;
    GmailOnS3 f;
    f.server.gmail_deliver(gmail_message("five"), kFiveLabels);
    f.server.gmail_deliver(gmail_message("archived"), {});
    auto backup = f.backup();
    INFO(backup.out << backup.err);
    REQUIRE(backup.code == 0);

    SECTION("to Gmail: one APPEND per message, then its labels") {
        auto restore = f.run({"restore", "--account", "src", "--to", "gmail"});
        INFO(restore.out << restore.err);
        REQUIRE(restore.code == 0);
        CHECK(f.target.count_commands("APPEND") == 2);
        bool labelled = false;
        for (const auto& command : f.target.commands())
            labelled |= command.find("UID STORE") != std::string::npos &&
                        command.find("+X-GM-LABELS") != std::string::npos;
        CHECK(labelled);
        std::map<std::string, std::vector<std::string>> labels_by_body;
        for (const auto& [uid, m] : f.target.mailbox(f.target.gmail_names().all).messages)
            labels_by_body[m.body] = sorted(m.gm_labels);
        CHECK(labels_by_body.size() == 2);
        CHECK(labels_by_body[gmail_message("five")] == sorted(kFiveLabels));
        CHECK(labels_by_body[gmail_message("archived")].empty());
        CHECK(f.target.mailbox("Work").messages.size() == 1);
        // Again: nothing appended twice.
        auto again = f.run({"restore", "--account", "src", "--to", "gmail"});
        INFO(again.out << again.err);
        CHECK(again.code == 0);
        CHECK(f.target.count_commands("APPEND") == 2);
    }
    SECTION("to Dovecot: a folder per label") {
        if (!have_dovecot_env()) return;
        auto c2 = imap::connect_and_login(server_options(ServerKind::Dovecot, 2));
        const std::string d = hierarchy_delimiter(*c2);
        const std::string root = unique_name("ikgs3");
        auto restore = f.run({"restore", "--account", "src", "--to", "dovecot", "--prefix", root + "/"});
        INFO(restore.out << restore.err);
        CHECK(restore.code == 0);
        const auto five = util::sha256_hex(gmail_message("five"));
        for (const char* folder : {"INBOX", "Important", "Starred", "Work", "Travel/2024"}) {
            INFO(folder);
            CHECK(shas(fetch_messages(*c2, with_delimiter(root + "/" + folder, d))) ==
                  std::multiset<std::string>{five});
        }
        CHECK(shas(fetch_messages(*c2, with_delimiter(root + "/[Gmail]/All Mail", d))) ==
              std::multiset<std::string>{util::sha256_hex(gmail_message("archived"))});
        delete_tree(*c2, root);
    }
    SECTION("export: Maildir with the label folders, mbox with X-Gmail-Labels") {
        const auto tree = f.dir.path / "tree";
        auto maildir =
            f.run({"export", "--account", "src", "--format", "maildir", "--output", tree.string()});
        INFO(maildir.out << maildir.err);
        REQUIRE(maildir.code == 0);
        const auto copy = file_with(tree / ".[Gmail].All Mail", gmail_message("five"));
        REQUIRE_FALSE(copy.empty());
        CHECK_FALSE(file_with(tree / ".[Gmail].All Mail", gmail_message("archived")).empty());
        for (const auto& folder : {tree, tree / ".Important", tree / ".Starred", tree / ".Work",
                                   tree / ".Travel.2024"}) {
            INFO(folder);
            auto link = file_with(folder, gmail_message("five"));
            REQUIRE_FALSE(link.empty());
            CHECK(fs::equivalent(link, copy));
        }
        const auto mbox = f.dir.path / "all.mbox";
        auto mboxed =
            f.run({"export", "--account", "src", "--format", "mbox", "--output", mbox.string()});
        INFO(mboxed.out << mboxed.err);
        REQUIRE(mboxed.code == 0);
        CHECK(slurp_file(mbox).find("\nX-Gmail-Labels: Important,Inbox,Starred,Travel/2024,Work\n") !=
              std::string::npos);
    }
}

// A Gmail account backed up before Gmail support (the label mailboxes as
// plain mailboxes, All Mail left out) on postgres+s3: the first Gmail run
// takes the stored copies over without downloads, and as each copy's object
// is keyed by its bytes, no object is added for them.
TEST_CASE("gmail on postgres+s3: a backup from before Gmail support becomes All Mail's copies "
          "without downloads or new objects",
          "[integration][postgres][s3][gmail][convert]") {
    if (!have_servers()) return;
    GmailOnS3 f;
    f.server.gmail_deliver(gmail_message("five"), kFiveLabels);
    f.server.gmail_deliver(gmail_message("two"), {"\\Inbox", "Work"});
    f.server.gmail_deliver(gmail_message("archived"), {});
    const auto caps = f.server.capabilities();
    auto old_caps = caps;
    old_caps.erase("X-GM-EXT-1");
    f.server.set_capabilities(old_caps);
    f.src_extra = "exclude = [\"" + f.server.gmail_names().all + "\", \"" +
                  f.server.gmail_names().trash + "\"]\n";
    f.write_config();
    auto old = f.backup();
    INFO(old.out << old.err);
    REQUIRE(old.code == 0);
    const auto old_fetches = f.server.body_fetches();
    CHECK(old_fetches == 7);  // "five" from its 5 label mailboxes, "two" from 2
    CHECK(f.object_keys().size() == 2);

    f.server.set_capabilities(caps);
    f.src_extra.clear();
    f.write_config();
    auto converted = f.backup();
    INFO(converted.out << converted.err);
    REQUIRE(converted.code == 0);
    CHECK(f.server.body_fetches() == old_fetches + 1);  // "archived", never stored
    CHECK(f.object_keys().size() == 3);
    {
        auto catalog = f.catalog();
        auto rows = f.all_mail(*catalog);
        REQUIRE(rows.size() == 3);
        f.check_label_rows(*catalog, rows["five"], kFiveLabels);
        f.check_label_rows(*catalog, rows["two"], {"\\Inbox", "Work"});
        auto account = catalog->find_account("src");
        auto inbox = catalog->find_mailbox(*account, "INBOX");
        CHECK((!inbox || inbox->deleted_at));  // no longer a mailbox of its own
    }
    auto verify = f.run({"verify", "--account", "src", "--server"});
    INFO(verify.out << verify.err);
    CHECK(verify.code == 0);
    CHECK(verify.out.find("src: files: all match the catalog") != std::string::npos);
    auto again = f.backup();
    INFO(again.out << again.err);
    CHECK(again.code == 0);
    CHECK(f.server.body_fetches() == old_fetches + 1);
}
