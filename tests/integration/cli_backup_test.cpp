// The imapkeep binary as cron runs it: exit codes, quiet output, the lock, a
// bad password, and memory that stays flat for a 100 MB message.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <imapkeep/store/message_reader.hpp>

#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct RunResult {
    int code = -1;
    std::string out, err;
    long max_rss_kb = 0;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs the built binary with stdout/stderr to files, reporting its own peak RSS.
RunResult run_imapkeep(const std::vector<std::string>& args, const std::filesystem::path& dir,
                       const std::vector<std::string>& extra_env = {}) {
    std::string out_path = (dir / "out.txt").string(), err_path = (dir / "err.txt").string();
    pid_t pid = fork();
    if (pid == 0) {
        int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        for (const auto& kv : extra_env) putenv(const_cast<char*>(kv.c_str()));
        std::vector<char*> argv;
        std::string bin = std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep";
        argv.push_back(bin.data());
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    RunResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    r.max_rss_kb = usage.ru_maxrss;
    return r;
}

std::string write_config(const std::filesystem::path& dir, const std::string& mailbox,
                         const std::string& password) {
    auto path = dir / "config.toml";
    std::ofstream f(path);
    f << "[store]\npath = \"" << (dir / "store").string() << "\"\n\n"
      << "[[account]]\nname = \"cli\"\nhost = \"" << env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1")
      << "\"\nport = " << env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993") << "\n"
      << "tls = \"implicit\"\nca_file = \"" << env("IMAPKEEP_TEST_CA_FILE").value_or("") << "\"\n"
      << "user = \"" << env("IMAPKEEP_TEST_USER").value_or("user1") << "\"\n"
      << "password = \"" << password << "\"\n"
      << "mailboxes = [\"" << mailbox << "\"]\n";
    f.close();
    ::chmod(path.c_str(), 0600);
    ::chmod(dir.c_str(), 0700);
    return path.string();
}

}  // namespace

TEST_CASE("imapkeep backup from the command line", "[integration][cli]") {
    if (!testing::have_dovecot_env()) return;
    // The server cert is for "localhost"; implicit TLS with verification on.
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string p = unique_name("ikcli");
    admin->create(p);
    admin->append(p, {"\\Seen"}, std::nullopt, "Subject: hi\r\n\r\nhello\r\n");
    TempDir dir;
    std::string password = env("IMAPKEEP_TEST_PASSWORD").value_or("");

    SECTION("a clean run exits 0 and -q prints nothing") {
        // Connect by name so the certificate's host name matches.
        auto config = write_config(dir.path, p, password);
        std::string text = slurp(config);
        auto at = text.find("host = \"127.0.0.1\"");
        if (at != std::string::npos) text.replace(at, 18, "host = \"localhost\"");
        std::ofstream(config) << text;
        auto r = run_imapkeep({"backup", "--config", config, "-q"}, dir.path);
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK(r.out.empty());
        CHECK(r.err.empty());
        auto json = run_imapkeep({"backup", "--config", config, "--json"}, dir.path);
        CHECK(json.code == 0);
        CHECK(json.out.find("\"accounts\"") != std::string::npos);
        CHECK(json.out.find(password) == std::string::npos);
        auto status = run_imapkeep({"status", "--config", config}, dir.path);
        CHECK(status.code == 0);
        CHECK(status.out.find(p) != std::string::npos);
        auto verify = run_imapkeep({"verify", "--config", config}, dir.path);
        CHECK(verify.code == 0);
    }
    SECTION("a host name that does not match the certificate is exit 3") {
        auto config = write_config(dir.path, p, password);  // 127.0.0.1 is not in the cert
        auto r = run_imapkeep({"backup", "--config", config}, dir.path);
        CHECK(r.code == 3);
        CHECK(r.err.find("certificate") != std::string::npos);
    }
    SECTION("a bad password is exit 3 with a clear message and no secret") {
        auto config = write_config(dir.path, p, "wrong-password-123");
        std::string text = slurp(config);
        text.replace(text.find("127.0.0.1"), 9, "localhost");
        std::ofstream(config) << text;
        auto r = run_imapkeep({"backup", "--config", config}, dir.path);
        CHECK(r.code == 3);
        CHECK(r.err.find("authentication failed") != std::string::npos);
        CHECK(r.err.find("wrong-password-123") == std::string::npos);
    }
    SECTION("a second concurrent run gets exit 75") {
        auto config = write_config(dir.path, p, password);
        std::filesystem::create_directories(dir.path / "store");
        int fd = ::open((dir.path / "store" / ".lock").c_str(), O_RDWR | O_CREAT, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
        auto r = run_imapkeep({"backup", "--config", config}, dir.path);
        CHECK(r.code == 75);
        CHECK(r.err.find("lock") != std::string::npos);
        ::close(fd);
    }
    SECTION("a config error is exit 2 naming file, line and key") {
        auto path = dir.path / "bad.toml";
        std::ofstream(path) << "[store]\npath = \"/tmp/x\"\n[[account]]\nname = \"a\"\nhost = \"h\"\n"
                                "user = \"u\"\npassword = \"p\"\nport = \"x\"\n";
        ::chmod(path.c_str(), 0600);
        auto r = run_imapkeep({"backup", "--config", path.string()}, dir.path);
        CHECK(r.code == 2);
        CHECK(r.err.find("bad.toml:8") != std::string::npos);
        CHECK(r.err.find("port") != std::string::npos);
    }
    admin->delete_mailbox(p);
}

TEST_CASE("a 100 MB message does not raise peak memory by 100 MB", "[integration][cli][memory]") {
    if (!testing::have_dovecot_env()) return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string small = unique_name("iksmall");
    const std::string big = unique_name("ikbig");
    admin->create(small);
    admin->create(big);
    admin->append(small, {}, std::nullopt, "Subject: small\r\n\r\nsmall\r\n");
    std::string body = "Subject: big\r\nContent-Type: text/plain\r\n\r\n";
    std::string line(998, 'a');
    line += "\r\n";
    while (body.size() < 100u * 1024 * 1024) body += line;
    admin->append(big, {}, std::nullopt, body);
    const auto big_size = body.size();
    body.clear();
    body.shrink_to_fit();

    TempDir dir_small, dir_big;
    std::string password = env("IMAPKEEP_TEST_PASSWORD").value_or("");
    auto fix = [](const std::string& config) {
        std::string text = slurp(config);
        text.replace(text.find("127.0.0.1"), 9, "localhost");
        std::ofstream(config) << text;
    };
    auto c1 = write_config(dir_small.path, small, password);
    fix(c1);
    auto c2 = write_config(dir_big.path, big, password);
    fix(c2);
    auto r1 = run_imapkeep({"backup", "--config", c1, "-q"}, dir_small.path);
    auto r2 = run_imapkeep({"backup", "--config", c2, "-q"}, dir_big.path);
    REQUIRE(r1.code == 0);
    REQUIRE(r2.code == 0);
    INFO("peak RSS small " << r1.max_rss_kb << " KiB, big " << r2.max_rss_kb << " KiB");
    WARN("peak RSS: small mailbox " << r1.max_rss_kb << " KiB, 100 MB message " << r2.max_rss_kb << " KiB");
    CHECK(r2.max_rss_kb - r1.max_rss_kb < 20 * 1024);
    // And the message arrived whole: the store gives back every byte (its file
    // may hold them with LF endings, store/line_endings.hpp).
    std::uintmax_t stored = 0;
    {
        auto catalog = store::open_sqlite_catalog((dir_big.path / "store" / "catalog.sqlite").string());
        auto messages = store::open_maildir_store((dir_big.path / "store").string());
        const auto account = catalog->find_account("cli");
        REQUIRE(account);
        for (const auto& mb : catalog->mailboxes(*account, false))
            for (const auto& m : catalog->messages(mb.id))
                stored += store::digest_original(messages->absolute(m.file), m.line_endings).size;
    }
    CHECK(stored == big_size);

    // Restoring it streams the stored file too (issue 10: restore held the
    // body whole, and more than once): peak RSS stays far below its size.
    const std::string prefix = unique_name("ikrestored");
    auto r3 = run_imapkeep({"restore", "--config", c2, "--account", "cli", "--to", "cli", "--prefix", prefix + "/"},
                           dir_big.path);
    INFO("restore stderr: " << r3.err);
    REQUIRE(r3.code == 0);
    WARN("peak RSS: restore of the 100 MB message " << r3.max_rss_kb << " KiB");
    CHECK(r3.max_rss_kb < 64 * 1024);
    std::vector<std::uint64_t> restored_sizes;
    const auto restored = prefix + "/" + big;
    auto sel = admin->select(restored, true);
    REQUIRE(sel.exists == 1);
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    admin->uid_fetch(all, imap::FetchItems().uid().rfc822_size(),
                     [&](imap::FetchData& fd) { restored_sizes.push_back(fd.rfc822_size.value_or(0)); });
    admin->unselect();
    CHECK(restored_sizes == std::vector<std::uint64_t>{big_size});
    admin->delete_mailbox(restored);
    admin->delete_mailbox(small);
    admin->delete_mailbox(big);
}

TEST_CASE("imapkeep backup over SSH: host key and key failures are exit 3", "[integration][cli][ssh]") {
    if (!testing::test_env_has({"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_SSH_PORT"}, "the test Dovecot and sshd"))
        return;
    // The same exit codes whichever engine carries SSH (issue 10).
    const std::string engine = GENERATE(as<std::string>{}, "libssh2", "openssh");
    INFO("engine " << engine);
    TempDir dir;
    auto write = [&](const std::string& known_hosts, const std::string& key, bool accept_new,
                     const std::string& more = "") {
        auto path = dir.path / "ssh.toml";
        std::ofstream f(path);
        f << "[store]\npath = \"" << (dir.path / "store").string() << "\"\n\n"
          << "[[account]]\nname = \"viassh\"\nmailboxes = [\"INBOX\"]\nretries = 0\n"
          << "[account.ssh]\nengine = \"" << engine << "\"\n" << more
          << "host = \"127.0.0.1\"\nport = " << *env("IMAPKEEP_TEST_SSH_PORT") << "\n"
          << "user = \"" << env("IMAPKEEP_TEST_SSH_USER").value_or("root") << "\"\n"
          << "identity = \"" << key << "\"\nknown_hosts = \"" << known_hosts << "\"\n"
          << "accept_new_host_key = " << (accept_new ? "true" : "false") << "\n"
          << "command = \"" << env("IMAPKEEP_TEST_SSH_IMAP_COMMAND").value_or("") << "\"\n";
        f.close();
        ::chmod(path.c_str(), 0600);
        ::chmod(dir.path.c_str(), 0700);
        return path.string();
    };
    const std::string good_key = env("IMAPKEEP_TEST_SSH_KEY").value_or("");
    const std::string known = env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS").value_or("");

    SECTION("a good key and known host back up") {
        auto r = run_imapkeep({"backup", "--config", write(known, good_key, false), "-q"}, dir.path);
        INFO(r.err);
        CHECK(r.code == 0);
    }
    SECTION("an unknown host key is refused with its fingerprint") {
        auto empty = (dir.path / "empty_known_hosts").string();
        std::ofstream(empty).close();
        auto r = run_imapkeep({"backup", "--config", write(empty, good_key, false)}, dir.path);
        CHECK(r.code == 3);
        CHECK(r.err.find("SHA256:") != std::string::npos);
        // accept_new_host_key takes it, and the next run needs nothing more.
        auto accepted = run_imapkeep({"backup", "--config", write(empty, good_key, true), "-q"}, dir.path);
        INFO(accepted.err);
        CHECK(accepted.code == 0);
        CHECK(slurp(empty).find("ssh-ed25519") != std::string::npos);
    }
    SECTION("a changed host key is refused even with accept_new_host_key") {
        // The right host, somebody else's key.
        std::string line = slurp(known);
        auto type_at = line.find("ssh-ed25519 ");
        REQUIRE(type_at != std::string::npos);
        auto changed = (dir.path / "changed_known_hosts").string();
        std::ofstream(changed) << line.substr(0, type_at)
                               << "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
        auto r = run_imapkeep({"backup", "--config", write(changed, good_key, true)}, dir.path);
        CHECK(r.code == 3);
        CHECK(r.err.find("SHA256:") != std::string::npos);
    }
    SECTION("a wrong key is exit 3 naming the method") {
        auto r = run_imapkeep(
            {"backup", "--config", write(known, env("IMAPKEEP_TEST_SSH_WRONG_KEY").value_or(""), false)},
            dir.path);
        CHECK(r.code == 3);
        CHECK(r.err.find("publickey") != std::string::npos);
    }
    if (engine == "openssh") {
        SECTION("openssh: a passphrase_command is a config error, exit 2") {
            auto r = run_imapkeep(
                {"backup", "--config", write(known, good_key, false, "passphrase_command = \"echo x\"\n")}, dir.path);
            CHECK(r.code == 2);
            CHECK(r.err.find("cannot be used with engine = \"openssh\"") != std::string::npos);
        }
        SECTION("openssh: no ssh on PATH is exit 3 saying so") {
            auto r = run_imapkeep({"backup", "--config", write(known, good_key, false)}, dir.path,
                                  {"PATH=/nonexistent"});
            CHECK(r.code == 3);
            CHECK(r.err.find("engine = \"openssh\" cannot run `ssh`") != std::string::npos);
        }
    }
}

TEST_CASE("imapkeep verify finds a corrupt file and a server that moved on", "[integration][cli][verify]") {
    if (!testing::have_dovecot_env()) return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string p = unique_name("ikv");
    admin->create(p);
    admin->append(p, {}, std::nullopt, "Subject: one\r\n\r\nfirst\r\n");
    admin->append(p, {}, std::nullopt, "Subject: two\r\n\r\nsecond\r\n");
    TempDir dir;
    auto config = write_config(dir.path, p, env("IMAPKEEP_TEST_PASSWORD").value_or(""));
    {
        std::string text = slurp(config);
        text.replace(text.find("127.0.0.1"), 9, "localhost");
        std::ofstream(config) << text;
    }
    REQUIRE(run_imapkeep({"backup", "--config", config, "-q"}, dir.path).code == 0);
    auto clean = run_imapkeep({"verify", "--config", config, "--server"}, dir.path);
    INFO(clean.err);
    CHECK(clean.code == 0);

    // The server moves on: a flag set, a message expunged.
    admin->select(p, false);
    REQUIRE_NOTHROW(admin->uid_store(UidSet::parse("1"), imap::StoreFlags::add({"\\Flagged"})));
    REQUIRE_NOTHROW(admin->uid_store(UidSet::parse("2"), imap::StoreFlags::add({"\\Deleted"})));
    REQUIRE(admin->run("EXPUNGE", {}).ok());
    admin->close();
    auto moved = run_imapkeep({"verify", "--config", config, "--server"}, dir.path);
    CHECK(moved.code == 1);
    CHECK(moved.err.find(p) != std::string::npos);

    // A stored file changes behind imapkeep's back.
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path / "store" / "mail")) {
        if (!e.is_regular_file() || e.path().parent_path().filename() != "cur") continue;
        // Same size, other bytes: only the hash can tell.
        std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(0);
        f.put('X');
        break;
    }
    auto corrupt = run_imapkeep({"verify", "--config", config}, dir.path);
    CHECK(corrupt.code == 1);
    CHECK(corrupt.err.find("corrupt") != std::string::npos);
    admin->delete_mailbox(p);
}
