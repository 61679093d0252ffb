// Issue 9, "Bad local input": every way the config, the command line and the
// store can be wrong, run through the real imapkeep binary (against the test
// Dovecot where a server is needed). Each case checks the exit code and that
// stderr names the cause. The table is the documentation of what the user sees.
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <regex>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

struct Run {
    int code = -1;
    std::string out, err;
};

// Runs the binary with IMAPKEEP_PASSWORD unset; as_nobody drops root first, so
// that file permissions mean something.
Run run(const std::vector<std::string>& args, const fs::path& dir, bool as_nobody = false) {
    std::vector<std::string> argv{std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep"};
    argv.insert(argv.end(), args.begin(), args.end());
    const fs::path out = dir / "out.txt", err = dir / "err.txt";
    pid_t pid = ::fork();
    if (pid == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (o < 0 || e < 0) _exit(126);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::unsetenv("IMAPKEEP_PASSWORD");
        if (as_nobody && ::getuid() == 0 && (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0))
            _exit(125);
        std::vector<char*> v;
        for (auto& a : argv) v.push_back(a.data());
        v.push_back(nullptr);
        ::execv(v[0], v.data());
        _exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    Run r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp_file(out);
    r.err = slurp_file(err);
    return r;
}

void write_file(const fs::path& path, const std::string& text, mode_t mode = 0600) {
    std::ofstream(path, std::ios::binary) << text;
    ::chmod(path.c_str(), mode);
}

std::string sha256_of_file(const fs::path& path) { return util::sha256_hex(slurp_file(path)); }

// One case's world: a private directory, a config in it, and the mailbox on
// the server the account is limited to.
struct Scene {
    fs::path dir;
    std::string mailbox;
    fs::path store() const { return dir / "store"; }
    fs::path config() const { return dir / "config.toml"; }

    // The account, password from the environment through a command (so no
    // config holds it); `password_line` replaces that, `extra` is appended.
    std::string account_text(const std::string& extra, const std::string& password_line) const {
        return "[[account]]\nname = \"bad\"\nhost = \"localhost\"\nport = " +
               env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993") + "\nca_file = \"" +
               env("IMAPKEEP_TEST_CA_FILE").value_or("") + "\"\nuser = \"" + test_user(1) +
               "\"\nmailboxes = [\"" + mailbox + "\"]\n" + password_line + extra;
    }
    std::string write_config(const std::string& extra = "",
                             const std::string& password_line =
                                 "password_command = \"printenv IMAPKEEP_TEST_PASSWORD\"\n",
                             const std::string& store_path = "") const {
        write_file(config(), "[store]\npath = \"" +
                                 (store_path.empty() ? store().string() : store_path) + "\"\n\n" +
                                 account_text(extra, password_line));
        return config().string();
    }
    Run backup() const { return run({"backup", "--config", config().string(), "-q"}, dir); }
    // The one message file of the mailbox in the store.
    fs::path message_file() const {
        for (const auto& e : fs::recursive_directory_iterator(store() / "mail"))
            if (e.is_regular_file() && e.path().parent_path().filename() == "cur") return e.path();
        throw std::runtime_error("no message file under " + store().string());
    }
};

// Sets a catalog's PRAGMA user_version by writing SQLite's header (offset 60,
// big-endian) directly, as a newer imapkeep's migration would leave it.
void set_user_version(const fs::path& catalog, std::uint32_t version) {
    std::fstream f(catalog, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    const char bytes[4] = {char(version >> 24), char(version >> 16), char(version >> 8),
                           char(version)};
    f.write(bytes, 4);
}

std::string integrity_check(const fs::path& catalog) {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(catalog.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return result;
}

// A tmpfs of `size` mounted on `at`, unmounted by the destructor.
struct TmpfsMount {
    fs::path at;
    bool mounted = false;
    TmpfsMount(const fs::path& where, const std::string& options) : at(where) {
        fs::create_directories(at);
        mounted = ::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) == 0;
    }
    ~TmpfsMount() {
        if (mounted) ::umount2(at.c_str(), MNT_DETACH);
    }
};

// Mounting needs root; under the test command (tests run as root in CI) a
// missing privilege fails the test instead of skipping it.
bool can_mount() {
    if (::geteuid() == 0) return true;
    if (servers_required()) FAIL("this case mounts a tmpfs and needs root under the test command");
    WARN("SKIPPED: needs root to mount a tmpfs");
    return false;
}

struct Case {
    const char* name;
    int exit_code;
    // Substrings of stderr; "$DIR" stands for the case's directory, "$MAILBOX"
    // for the server mailbox the account backs up.
    std::vector<std::string> messages;
    // Prepares the scene, returns the command line.
    std::function<std::vector<std::string>(Scene&)> setup;
    bool server = false;     // needs the test Dovecot
    bool as_nobody = false;  // run without root's permission overrides
    // More checks after the run (files left as they were, ...).
    std::function<void(Scene&, const Run&)> after = {};
};

std::vector<std::string> backup_args(const Scene& s) {
    return {"backup", "--config", s.config().string()};
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> table = {
        // --- the config file: syntax, in plain words
        {"unterminated string",
         2,
         {"config.toml:2: syntax error: unterminated string: the closing \" is missing"},
         [](Scene& s) {
             write_file(s.config(), "[store]\npath = \"/var/backups\n");
             return backup_args(s);
         }},
        {"table header without ]",
         2,
         {"config.toml:1: syntax error: a [table] header is missing its closing ]"},
         [](Scene& s) {
             write_file(s.config(), "[store\npath = \"x\"\n");
             return backup_args(s);
         }},
        {"duplicate key",
         2,
         {"config.toml:12: syntax error: key \"user\" is set twice in the same table"},
         [](Scene& s) {
             s.write_config("user = \"again\"\n");
             return backup_args(s);
         }},
        {"unterminated array",
         2,
         {"syntax error: unterminated array"},
         [](Scene& s) {
             s.write_config("exclude = [\"Junk\"\nconnections = 2\n");
             return backup_args(s);
         }},
        // --- the config file: values
        {"port is a string",
         2,
         {"account.port: expected an integer between 1 and 65535, not the string \"abc\""},
         [](Scene& s) {
             s.write_config();
             std::string text = std::regex_replace(slurp_file(s.config()),
                                                   std::regex("port = [0-9]+"), "port = \"abc\"");
             write_file(s.config(), text);
             return backup_args(s);
         }},
        {"negative timeout",
         2,
         {"account.timeout: expected an integer between 1 and 86400, not -5"},
         [](Scene& s) {
             s.write_config("timeout = -5\n");
             return backup_args(s);
         }},
        {"bad choice",
         2,
         {"account.tls: expected one of \"implicit\", \"starttls\", \"none\", not \"ssl\""},
         [](Scene& s) {
             s.write_config("tls = \"ssl\"\n");
             return backup_args(s);
         }},
        {"unknown key",
         2,
         {"account.tls_verfy: unknown key (did you mean \"tls_verify\"?)"},
         [](Scene& s) {
             s.write_config("tls_verfy = true\n");
             return backup_args(s);
         }},
        {"account name that is not a folder name",
         2,
         {"account.name: must be letters, digits"},
         [](Scene& s) {
             s.write_config();
             write_file(s.config(),
                        replaced(slurp_file(s.config()), "name = \"bad\"", "name = \"../x\""));
             return backup_args(s);
         }},
        {"empty config",
         2,
         {"store.path: missing: where should the backup go?"},
         [](Scene& s) {
             write_file(s.config(), "");
             return backup_args(s);
         }},
        // --- passwords
        {"no password source",
         2,
         {"config.toml:4: account.password: account bad has no password source: set "
          "password_command, "
          "password_file or password (or export IMAPKEEP_PASSWORD)"},
         [](Scene& s) {
             s.write_config("", "");
             return backup_args(s);
         }},
        {"no password source, status (logs in nowhere)",
         0,
         {},
         [](Scene& s) {
             s.write_config("", "");
             return std::vector<std::string>{"status", "--config", s.config().string()};
         }},
        {"two password sources",
         2,
         {"only one of password, password_file, password_command may be set"},
         [](Scene& s) {
             s.write_config("password_file = \"pw\"\n");
             return backup_args(s);
         }},
        {"password_command fails",
         3,
         {"password_command: command exited with status 2: gpg: decryption failed: No secret key"},
         [](Scene& s) {
             s.write_config("",
                            "password_command = \"echo 'gpg: decryption failed: No secret key' "
                            ">&2; exit 2\"\n");
             return backup_args(s);
         },
         true},
        {"password_command not found",
         3,
         {"password_command: command exited with status 127: ", "not found"},
         [](Scene& s) {
             s.write_config("", "password_command = \"/nonexistent/pass-helper show mail\"\n");
             return backup_args(s);
         },
         true},
        {"password_command prints nothing",
         3,
         {"password_command: command printed nothing"},
         [](Scene& s) {
             s.write_config("", "password_command = \"true\"\n");
             return backup_args(s);
         },
         true},
        {"password_file missing",
         2,
         {"password_file $DIR/nope (the password of account bad): No such file or directory"},
         [](Scene& s) {
             s.write_config("", "password_file = \"nope\"\n");
             return backup_args(s);
         }},
        {"password_file empty",
         2,
         {"password_file $DIR/pw (the password of account bad): the file is empty"},
         [](Scene& s) {
             write_file(s.dir / "pw", "");
             s.write_config("", "password_file = \"pw\"\n");
             return backup_args(s);
         }},
        {"password_file readable by others",
         2,
         {"$DIR/pw holds the password of account bad and other users can read it: chmod 600 "
          "$DIR/pw"},
         [](Scene& s) {
             write_file(s.dir / "pw", "not-the-password\n", 0644);
             s.write_config("", "password_file = \"pw\"\n");
             return backup_args(s);
         }},
        {"password_file readable by others, allowed",
         0,
         {"other users can read it (allow_readable_secrets = true)"},
         [](Scene& s) {
             write_file(s.dir / "pw", test_password(1) + "\n", 0644);
             s.write_config("allow_readable_secrets = true\n", "password_file = \"pw\"\n");
             return backup_args(s);
         },
         true},
        {"inline password in a config others can read",
         2,
         {"config.toml holds the password of account bad and other users can read it"},
         [](Scene& s) {
             s.write_config("", "password = \"not-the-password\"\n");
             ::chmod(s.config().c_str(), 0644);
             return backup_args(s);
         }},
        // --- where the config is
        {"config file missing",
         2,
         {"$DIR/nope.toml: cannot read the config file (No such file or directory)"},
         [](Scene& s) {
             return std::vector<std::string>{"backup", "--config", (s.dir / "nope.toml").string()};
         }},
        {"config is a directory",
         2,
         {"$DIR/conf.d: is a directory, not a config file"},
         [](Scene& s) {
             fs::create_directories(s.dir / "conf.d");
             return std::vector<std::string>{"backup", "--config", (s.dir / "conf.d").string()};
         }},
        {"config unreadable",
         2,
         {"config.toml: cannot read the config file (Permission denied)"},
         [](Scene& s) {
             s.write_config();
             ::chmod(s.config().c_str(), 0);
             ::chmod(s.dir.c_str(), 0755);
             return backup_args(s);
         },
         false,
         true},
        // --- the command line
        {"unknown account on the command line",
         2,
         {"no account named \"nosuch\" (configured: bad)"},
         [](Scene& s) {
             s.write_config();
             return std::vector<std::string>{"backup", "--config", s.config().string(), "--account",
                                             "nosuch"};
         }},
        {"unknown subcommand",
         2,
         {"imapkeep: unknown command \"bakup\""},
         [](Scene&) { return std::vector<std::string>{"bakup"}; }},
        {"unknown flag",
         2,
         {"The following argument was not expected: --frobnicate"},
         [](Scene&) {
             return std::vector<std::string>{"backup", "--frobnicate"};
         }},
        {"-q with -v",
         2,
         {"--quiet excludes --verbose"},
         [](Scene&) {
             return std::vector<std::string>{"backup", "-q", "-v"};
         }},
        // --- the store directory
        {"store path is a regular file",
         2,
         {"store.path: $DIR/afile is not a directory (it is a regular file)"},
         [](Scene& s) {
             write_file(s.dir / "afile", "x");
             s.write_config("", "password_command = \"printenv IMAPKEEP_TEST_PASSWORD\"\n",
                            (s.dir / "afile").string());
             return backup_args(s);
         }},
        {"store path under a regular file",
         2,
         {"store.path: cannot create the store $DIR/afile/store: Not a directory"},
         [](Scene& s) {
             write_file(s.dir / "afile", "x");
             s.write_config("", "password_command = \"printenv IMAPKEEP_TEST_PASSWORD\"\n",
                            (s.dir / "afile" / "store").string());
             return backup_args(s);
         }},
        {"store path is a dangling symbolic link",
         2,
         {"store.path: $DIR/store is a symbolic link to $DIR/gone, which does not exist"},
         [](Scene& s) {
             fs::create_symlink(s.dir / "gone", s.store());
             s.write_config();
             return backup_args(s);
         }},
        {"store path is a symbolic link to a directory: followed",
         0,
         {},
         [](Scene& s) {
             fs::create_directories(s.dir / "disk");
             fs::create_symlink(s.dir / "disk", s.store());
             s.write_config();
             return backup_args(s);
         },
         true,
         false,
         [](Scene& s, const Run&) {
             CHECK(fs::is_symlink(s.store()));
             CHECK(fs::exists(s.dir / "disk" / "catalog.sqlite"));
         }},
        {"store directory read-only",
         2,
         {"store.path: ", "$DIR/ro"},
         [](Scene& s) {
             fs::create_directories(s.dir / "ro");
             if (::geteuid() == 0) {
                 // root writes through permissions: a read-only file system it is.
                 REQUIRE(::mount("tmpfs", (s.dir / "ro").c_str(), "tmpfs", MS_RDONLY, "size=64k") ==
                         0);
             } else {
                 ::chmod((s.dir / "ro").c_str(), 0555);
             }
             s.write_config("", "password_command = \"printenv IMAPKEEP_TEST_PASSWORD\"\n",
                            (s.dir / "ro").string());
             return backup_args(s);
         },
         false,
         false,
         [](Scene& s, const Run& r) {
             CHECK((r.err.find("Read-only file system") != std::string::npos ||
                    r.err.find("Permission denied") != std::string::npos));
             if (::geteuid() == 0) ::umount2((s.dir / "ro").c_str(), MNT_DETACH);
         }},
        // --- the catalog
        {"catalog is not an SQLite file",
         2,
         {"$DIR/store/catalog.sqlite is not an imapkeep catalog (not an SQLite database"},
         [](Scene& s) {
             fs::create_directories(s.store());
             write_file(s.store() / "catalog.sqlite", std::string(4096, 'x'));
             s.write_config();
             return backup_args(s);
         },
         false,
         false,
         [](Scene& s, const Run&) {
             CHECK(slurp_file(s.store() / "catalog.sqlite") == std::string(4096, 'x'));
         }},
        {"status on a catalog that is not an SQLite file",
         2,
         {"is not an imapkeep catalog"},
         [](Scene& s) {
             fs::create_directories(s.store());
             write_file(s.store() / "catalog.sqlite", "SQLite format 2\n" + std::string(200, '\0'));
             s.write_config();
             return std::vector<std::string>{"status", "--config", s.config().string()};
         }},
        {"catalog from a newer imapkeep",
         2,
         {"$DIR/store/catalog.sqlite: catalog schema version 99 is newer than this imapkeep knows "
          "(",
          "the catalog was left unchanged"},
         [](Scene& s) {
             s.write_config();
             REQUIRE(s.backup().code == 0);
             set_user_version(s.store() / "catalog.sqlite", 99);
             write_file(s.dir / "sha", sha256_of_file(s.store() / "catalog.sqlite"));
             return backup_args(s);
         },
         true,
         false,
         [](Scene& s, const Run&) {
             CHECK(sha256_of_file(s.store() / "catalog.sqlite") == slurp_file(s.dir / "sha"));
             auto status = run({"status", "--config", s.config().string()}, s.dir);
             CHECK(status.code == 2);
         }},
        // --- files changed under the store
        {"verify: a message file deleted",
         1,
         {"bad: missing: $DIR/store/mail/bad/",
          "(UID 1 of $MAILBOX, Message-ID <bad-input@imapkeep.test>)"},
         [](Scene& s) {
             s.write_config();
             REQUIRE(s.backup().code == 0);
             fs::remove(s.message_file());
             return std::vector<std::string>{"verify", "--config", s.config().string()};
         },
         true},
        {"verify: a message file changed",
         1,
         {"bad: corrupt: $DIR/store/mail/bad/", "(UID 1 of $MAILBOX"},
         [](Scene& s) {
             s.write_config();
             REQUIRE(s.backup().code == 0);
             auto file = s.message_file();
             std::string bytes = slurp_file(file);
             bytes[bytes.size() / 2] ^= 1;
             write_file(file, bytes);
             return std::vector<std::string>{"verify", "--config", s.config().string()};
         },
         true},
        {"verify --repair fetches a deleted file again",
         0,
         {"bad: repaired: $DIR/store/mail/bad/"},
         [](Scene& s) {
             s.write_config();
             REQUIRE(s.backup().code == 0);
             write_file(s.dir / "sha", sha256_of_file(s.message_file()));
             fs::remove(s.message_file());
             return std::vector<std::string>{"verify", "--repair", "--config", s.config().string()};
         },
         true,
         false,
         [](Scene& s, const Run&) {
             CHECK(sha256_of_file(s.message_file()) == slurp_file(s.dir / "sha"));
             CHECK(run({"verify", "--config", s.config().string()}, s.dir).code == 0);
         }},
        {"verify --repair fetches a changed file again",
         0,
         {"bad: repaired: $DIR/store/mail/bad/"},
         [](Scene& s) {
             s.write_config();
             REQUIRE(s.backup().code == 0);
             auto file = s.message_file();
             std::string bytes = slurp_file(file);
             write_file(s.dir / "sha", sha256_of_file(file));
             write_file(file, bytes + "tail");
             return std::vector<std::string>{"verify", "--repair", "--config", s.config().string()};
         },
         true,
         false,
         [](Scene& s, const Run&) {
             CHECK(sha256_of_file(s.message_file()) == slurp_file(s.dir / "sha"));
             CHECK(run({"verify", "--config", s.config().string()}, s.dir).code == 0);
         }},
        {"verify --repair when the server no longer has the message",
         1,
         {"bad: not repaired: $DIR/store/mail/bad/", "the server no longer has UID 1 of "},
         [](Scene& s) {
             auto admin = imap::connect_and_login(dovecot_options());
             s.mailbox = unique_name("ikgone");
             admin->create(s.mailbox);
             admin->append(s.mailbox, {}, std::nullopt, "Subject: soon gone\r\n\r\nbye\r\n");
             s.write_config();
             REQUIRE(s.backup().code == 0);
             admin->select(s.mailbox, false);
             REQUIRE_NOTHROW(admin->uid_store(UidSet::parse("1:4294967295"),
                                              imap::StoreFlags::add({"\\Deleted"}).silent()));
             REQUIRE(admin->run("EXPUNGE", {}).ok());
             admin->logout();
             fs::remove(s.message_file());
             return std::vector<std::string>{"verify", "--repair", "--config", s.config().string()};
         },
         true},
    };
    return table;
}

}  // namespace

TEST_CASE("bad local input: a clear message naming the cause, and the right exit code",
          "[integration][bad_input]") {
    // Catch runs the test case once per section: one mailbox for all of them.
    static std::string shared_mailbox;
    if (have_dovecot() && shared_mailbox.empty()) {
        auto admin = imap::connect_and_login(dovecot_options());
        shared_mailbox = unique_name("ikbad");
        admin->create(shared_mailbox);
        admin->append(
            shared_mailbox, {"\\Seen"}, std::nullopt,
            "Subject: bad input\r\nMessage-ID: <bad-input@imapkeep.test>\r\n\r\nhello\r\n");
        admin->logout();
    }
    for (const auto& c : cases()) {
        DYNAMIC_SECTION(c.name) {
            if (c.server && !test_env_has({"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_IMAPS_PORT"},
                                          "the test Dovecot"))
                return;
            if (std::string(c.name) == "store directory read-only" && ::geteuid() != 0 &&
                servers_required())
                FAIL("a read-only store needs root (a read-only tmpfs) under the test command");
            TempDir dir;
            ::chmod(dir.path.c_str(), 0700);
            Scene scene{dir.path, shared_mailbox.empty() ? "INBOX" : shared_mailbox};
            auto args = c.setup(scene);
            Run r = run(args, dir.path, c.as_nobody);
            INFO("stderr: " << r.err);
            CHECK(r.code == c.exit_code);
            for (const auto& m : c.messages)
                CHECK_THAT(r.err, Catch::Contains(replaced(replaced(m, "$DIR", dir.path.string()),
                                                           "$MAILBOX", scene.mailbox)));
            if (c.after) c.after(scene, r);
            // The table of issue 9, in the test log: case | exit code | first line of stderr.
            std::cout << "bad input | " << c.name << " | " << r.code << " | "
                      << replaced(r.err.substr(0, r.err.find('\n')), dir.path.string(), "$DIR")
                      << "\n";
            // Whatever went wrong, stderr is text for a human: no trace of an
            // exception type or a raw SQLite statement.
            CHECK_THAT(r.err, !Catch::Contains("(in: PRAGMA") && !Catch::Contains("std::"));
            ::chmod(dir.path.c_str(), 0700);
        }
    }
}

TEST_CASE(
    "a store on a full file system: a clear failure, an intact catalog, and the next run completes",
    "[integration][bad_input]") {
    if (!have_dovecot_env() || !can_mount()) return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string mailbox = unique_name("ikfull");
    admin->create(mailbox);
    // 8 messages of 40 KB: more than the 200 KB file system holds.
    for (int i = 0; i < 8; ++i)
        admin->append(mailbox, {}, std::nullopt,
                      "Subject: big " + std::to_string(i) + "\r\n\r\n" +
                          std::string(40 * 1024, char('a' + i)) + "\r\n");
    TempDir dir;
    Scene scene{dir.path, mailbox};
    TmpfsMount disk(dir.path / "disk", "size=200k");
    REQUIRE(disk.mounted);
    const fs::path store = disk.at / "store";
    scene.write_config("", "password_command = \"printenv IMAPKEEP_TEST_PASSWORD\"\n",
                       store.string());

    Run full = run({"backup", "--config", scene.config().string()}, dir.path);
    std::cout << "bad input | store on a full file system | " << full.code << " | "
              << replaced(full.err, dir.path.string(), "$DIR") << "\n";
    INFO("stderr: " << full.err);
    CHECK(full.code != 0);
    CHECK_THAT(full.err, Catch::Contains("No space left on device"));
    CHECK_THAT(full.err, Catch::Contains(store.string()));
    CHECK(integrity_check(store / "catalog.sqlite") == "ok");

    // Space freed: the catalog still verifies, and the next run completes.
    REQUIRE(::mount("tmpfs", disk.at.c_str(), "tmpfs", MS_REMOUNT, "size=8m") == 0);
    Run verify = run({"verify", "--config", scene.config().string()}, dir.path);
    INFO("verify stderr: " << verify.err);
    CHECK(verify.code == 0);
    Run again = run({"backup", "--config", scene.config().string(), "--json"}, dir.path);
    INFO("second stderr: " << again.err);
    CHECK(again.code == 0);
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(store / "mail"))
        if (e.is_regular_file() && e.path().parent_path().filename() == "cur") ++files;
    CHECK(files == 8);
    CHECK(run({"verify", "--config", scene.config().string()}, dir.path).code == 0);
    CHECK(integrity_check(store / "catalog.sqlite") == "ok");
    admin->delete_mailbox(mailbox);
}
