// `imapkeep doctor` as a user runs it: the built binary against the test
// Dovecot (TLS with the test CA, STARTTLS), and the ways it goes wrong: no CA,
// a wrong password, a closed port, a readable config, a held lock.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "test_env.hpp"

using namespace imapkeep::testing;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The test certificate verified: OK, or WARN when scripts/test-env/ca.sh kept
// one that has less than 14 of its 30 days left.
bool tls_verified(const std::string& out) {
    return (contains(out, "OK   d: tls ") &&
            contains(out, "CN=localhost issued by /CN=imapkeep test CA, verified, expires in")) ||
           (contains(out, "WARN d: tls ") &&
            contains(out, "CN=localhost issued by /CN=imapkeep test CA: certificate expires in"));
}

class DoctorDir {
  public:
    DoctorDir() {
        std::string templ =
            (std::filesystem::temp_directory_path() / "imapkeep-doctor-XXXXXX").string();
        m_dir = ::mkdtemp(templ.data());
        std::ofstream(password_file()) << test_password(1) << "\n";
        ::chmod(password_file().c_str(), 0600);
    }
    ~DoctorDir() { std::filesystem::remove_all(m_dir); }

    std::string password_file() const { return (m_dir / "pw").string(); }
    std::string store() const { return (m_dir / "store").string(); }
    std::string config() const { return (m_dir / "config.toml").string(); }

    // One account on the test Dovecot; `account` replaces the defaults.
    void write(const std::string& account) {
        std::ofstream(config()) << "[store]\npath = \"" << store()
                                << "\"\n\n[[account]]\nname = \"d\"\n"
                                << "user = \"" << test_user(1) << "\"\n"
                                << account << "\n";
        ::chmod(config().c_str(), 0600);
    }
    // Implicit TLS to "localhost" (the test certificate's name), the test CA.
    std::string tls_account(const std::string& password_line = "") const {
        return "host = \"localhost\"\nport = " + env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993") +
               "\nca_file = \"" + env("IMAPKEEP_TEST_CA_FILE").value_or("") + "\"\n" +
               (password_line.empty() ? "password_file = \"" + password_file() + "\""
                                      : password_line);
    }

    ChildResult doctor() { return run_imapkeep_binary({"doctor", "--config", config()}, m_dir); }

  private:
    std::filesystem::path m_dir;
};

}  // namespace

TEST_CASE("doctor against Dovecot: TLS verified with the test CA, login, QRESYNC, exit 0",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write(d.tls_account());
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "OK   d: tcp "));
    CHECK(tls_verified(r.out));
    CHECK(contains(r.out, "OK   d: login               logged in as " + test_user(1)));
    CHECK(contains(r.out, "OK   d: capabilities        IMAP4REV1"));
    CHECK(contains(r.out, "OK   d: sync path           QRESYNC"));
    CHECK_FALSE(contains(r.out + r.err, test_password(1)));
    CHECK_FALSE(std::filesystem::exists(d.store()));  // doctor writes nothing
}

TEST_CASE("doctor against Dovecot: STARTTLS, and sync_path caps the method",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write("host = \"localhost\"\ntls = \"starttls\"\nport = " +
            env("IMAPKEEP_TEST_IMAP_PORT").value_or("143") + "\nca_file = \"" +
            env("IMAPKEEP_TEST_CA_FILE").value_or("") + "\"\npassword_file = \"" +
            d.password_file() + "\"\nsync_path = \"condstore\"");
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(tls_verified(r.out));
    CHECK(contains(r.out, "OK   d: sync path           CONDSTORE (sync_path = \"condstore\")"));
}

TEST_CASE("doctor against Dovecot: without the CA the certificate FAILs, named by fingerprint",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write("host = \"localhost\"\nport = " + env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993") +
            "\npassword_file = \"" + d.password_file() + "\"");
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.out, "FAIL d: tls "));
    CHECK(contains(r.out, "certificate verify failed"));
    CHECK(contains(r.out, "(sha256:"));
    CHECK(contains(r.out, "-- hint: set ca_file"));
    CHECK_FALSE(contains(r.out, "d: login"));  // not tried over a connection that fails
}

TEST_CASE("doctor against Dovecot: a wrong password FAILs login with a hint, never shown",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write(d.tls_account("password_command = \"echo not-the-Pw-123\""));
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.out, "FAIL d: login "));
    CHECK(contains(r.out, "authentication failed for " + test_user(1)));
    CHECK(contains(r.out, "-- hint: check user, and that password_command"));
    CHECK_FALSE(contains(r.out + r.err, "not-the-Pw-123"));
}

TEST_CASE("doctor: a closed port FAILs tcp", "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    // Port 1 (tcpmux): nothing listens there on a test machine.
    d.write("host = \"127.0.0.1\"\nport = 1\npassword_file = \"" + d.password_file() + "\"");
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.out, "OK   d: dns "));
    CHECK(contains(r.out, "FAIL d: tcp                 127.0.0.1:1: "));
    CHECK(contains(r.out, "Connection refused"));
    CHECK_FALSE(contains(r.out, "d: tls"));
}

TEST_CASE("doctor: a readable config WARNs (FAILs when it holds a password)",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write(d.tls_account());
    ::chmod(d.config().c_str(), 0644);
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "WARN config permissions "));
    CHECK(contains(r.out, "-- hint: chmod 600 " + d.config()));

    d.write(d.tls_account("password = \"" + test_password(1) + "\""));
    ::chmod(d.config().c_str(), 0644);
    r = d.doctor();
    CHECK(r.code == 1);
    CHECK(contains(r.out, "FAIL secret permissions "));
    CHECK_FALSE(contains(r.out + r.err, test_password(1)));
}

TEST_CASE("doctor: a held lock is a WARN naming the holder; exit stays 0",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write(d.tls_account());
    std::filesystem::create_directories(d.store());
    ::chmod(d.store().c_str(), 0700);
    int fd = ::open((d.store() + "/.lock").c_str(), O_RDWR | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    const std::string pid = std::to_string(::getpid());
    REQUIRE(::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size()));
    auto r = d.doctor();
    ::close(fd);
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out,
                   "WARN store: lock            held by pid " + pid + ": a run is in progress"));
    r = d.doctor();
    CHECK(contains(r.out, "OK   store: lock            free"));
}

TEST_CASE("doctor over SSH: host key and login OK; an unknown host key or a wrong key FAILs ssh",
          "[integration][doctor]") {
    if (!test_env_has({"IMAPKEEP_TEST_SSH_PORT", "IMAPKEEP_TEST_SSH_IMAP_COMMAND"},
                      "the test sshd"))
        return;
    // Both engines (issue 10); doctor names the one in use and its cipher.
    const std::string engine = GENERATE(as<std::string>{}, "libssh2", "openssh");
    INFO("engine " << engine);
    DoctorDir d;
    const std::string empty_known_hosts = d.store() + ".known_hosts";
    std::ofstream(empty_known_hosts).close();
    struct Row {
        std::string identity, known_hosts;
        int code;
        std::string line;
    };
    const Row rows[] = {
        {env("IMAPKEEP_TEST_SSH_KEY").value_or(""),
         env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS").value_or(""), 0, "OK   d: ssh "},
        {env("IMAPKEEP_TEST_SSH_KEY").value_or(""), empty_known_hosts, 1,
         "FAIL d: ssh                 host key: "},
        {env("IMAPKEEP_TEST_SSH_WRONG_KEY").value_or(""),
         env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS").value_or(""), 1,
         "FAIL d: ssh                 authentication: "},
    };
    for (const auto& row : rows) {
        d.write("[account.ssh]\nengine = \"" + engine + "\"\nhost = \"127.0.0.1\"\nport = " +
                env("IMAPKEEP_TEST_SSH_PORT").value_or("22") + "\nuser = \"" +
                env("IMAPKEEP_TEST_SSH_USER").value_or("") + "\"\nidentity = \"" + row.identity +
                "\"\nknown_hosts = \"" + row.known_hosts + "\"\ncommand = \"" +
                env("IMAPKEEP_TEST_SSH_IMAP_COMMAND").value_or("") + "\"");
        auto r = d.doctor();
        INFO(r.out << r.err);
        CHECK(r.code == row.code);
        CHECK(contains(r.out, row.line));
        if (row.code == 0) {
            CHECK(contains(r.out, "OK   d: sync path           QRESYNC"));
            CHECK(contains(r.out, "host key known, logged in; engine " + engine));
            CHECK(contains(r.out, engine == "openssh" ? ", cipher aes128-gcm@openssh.com" : ", cipher aes128-ctr"));
        } else {
            CHECK_FALSE(contains(r.out, "d: login"));
        }
    }
}

TEST_CASE("doctor against Dovecot: implicit TLS to the plain port FAILs the handshake",
          "[integration][doctor]") {
    if (!have_dovecot_env()) return;
    DoctorDir d;
    d.write("host = \"localhost\"\nport = " + env("IMAPKEEP_TEST_IMAP_PORT").value_or("143") +
            "\nca_file = \"" + env("IMAPKEEP_TEST_CA_FILE").value_or("") +
            "\"\npassword_file = \"" + d.password_file() + "\"");
    auto r = d.doctor();
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.out, "FAIL d: tls                 no TLS handshake: "));
    CHECK(contains(r.out, "-- hint: check port and tls (implicit on 993, starttls on 143)"));
}
