// SSH transport against the real sshd started by scripts/test-env/sshd.sh.
// Skips (with a message) when IMAPKEEP_TEST_SSH_PORT is not set. Where the
// contract is the same, each case runs on both engines (libssh2 and OpenSSH's
// ssh, issue 10): GENERATE runs the test case once per engine.
#include <imapkeep/transport/ssh.hpp>

#include "transport/openssh.hpp"
#include "transport/ssh_detail.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>
#include "test_env.hpp"

namespace {

using imapkeep::transport::SshEngine;
using imapkeep::transport::SshOptions;
using imapkeep::transport::StreamPtr;
using imapkeep::transport::TransportError;
using Kind = TransportError::Kind;
using namespace std::chrono_literals;

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

bool have_sshd() {
    return imapkeep::testing::test_env_has({"IMAPKEEP_TEST_SSH_PORT"}, "the test sshd");
}

int ssh_port() { return std::stoi(env("IMAPKEEP_TEST_SSH_PORT")); }

std::string host_entry_name() { return "[127.0.0.1]:" + env("IMAPKEEP_TEST_SSH_PORT"); }

// The test's ssh never reads the user's ~/.ssh/config: the options say all.
SshOptions base_options(SshEngine engine = SshEngine::Libssh2) {
    SshOptions options;
    options.engine = engine;
    options.ssh_config = "none";
    options.host = "127.0.0.1";
    options.port = ssh_port();
    options.user = env("IMAPKEEP_TEST_SSH_USER");
    options.identity = env("IMAPKEEP_TEST_SSH_KEY");
    options.known_hosts = env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS");
    options.connect_timeout = 10s;
    options.read_timeout = 10s;
    return options;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

std::string run(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        output.append(buffer, n);
    }
    ::pclose(pipe);
    return output;
}

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "imapkeep-ssh-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

// Reads until `needle` shows up or EOF; returns everything read.
std::string read_until(imapkeep::transport::Stream& stream, const std::string& needle) {
    std::string got;
    char buffer[4096];
    while (got.find(needle) == std::string::npos) {
        const std::size_t n = stream.read_some(buffer);
        if (n == 0) {
            break;
        }
        got.append(buffer, n);
    }
    return got;
}

Kind error_kind(const SshOptions& options, std::string& message) {
    try {
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        // Exec failures surface on the first read.
        char buffer[256];
        stream->read_some(buffer);
    } catch (const TransportError& e) {
        message = e.what();
        return e.kind();
    }
    FAIL("no TransportError");
    return Kind::Io;
}

// The fingerprint ssh-keygen computes for the server's key in known_hosts.
std::string expected_fingerprint() {
    const std::string out = run("ssh-keygen -lf '" + env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS") + "'");
    const auto start = out.find("SHA256:");
    REQUIRE(start != std::string::npos);
    return out.substr(start, out.find(' ', start) - start);
}

}  // namespace

TEST_CASE("ssh exec mode echoes through cat", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    struct Case {
        const char* name;
        std::string known_hosts;
    };
    const std::vector<Case> cases = {
        {"plain known_hosts", env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS")},
        {"hashed known_hosts", env("IMAPKEEP_TEST_SSH_HASHED_KNOWN_HOSTS")},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options(engine);
            options.known_hosts = c.known_hosts;
            options.command = "cat";
            StreamPtr stream = imapkeep::transport::connect_ssh(options);
            CHECK(stream->native_handle() >= 0);
            CHECK(stream->describe().find("exec `cat`") != std::string::npos);
            const std::string line = "a001 NOOP\r\n";
            stream->write_all(line);
            CHECK(read_until(*stream, "\r\n") == line);
            stream->close();
            stream->close();  // idempotent
            char buffer[16];
            CHECK_THROWS_AS(stream->read_some(buffer), TransportError);
        }
    }
}

namespace {

// In a child process leading a process group of its own (so no SIGINT reaches
// the test runner): an openssh stream through `cat`, then Ctrl-C as a
// terminal sends it, to the whole foreground group. Exit 0 when the stream
// still echoes afterwards.
int survives_ctrl_c() {
    if (::setpgid(0, 0) != 0) return 3;
    struct sigaction quiet {};
    quiet.sa_handler = [](int) {};  // this process lives on; exec resets it in ssh
    ::sigaction(SIGINT, &quiet, nullptr);
    try {
        SshOptions options = base_options(SshEngine::OpenSsh);
        options.command = "cat";
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        ::killpg(0, SIGINT);
        std::this_thread::sleep_for(300ms);
        const std::string line = "a002 NOOP\r\n";
        stream->write_all(line);
        return read_until(*stream, "\r\n") == line ? 0 : 1;
    } catch (const std::exception&) {
        return 2;
    }
}

}  // namespace

TEST_CASE("ssh (openssh) is out of the terminal's Ctrl-C: imapkeep stops the session itself",
          "[ssh][integration]") {
    if (!have_sshd()) return;
    std::fflush(nullptr);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(survives_ctrl_c());
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    // 1 or 2: ssh died with the Ctrl-C, and the stream with it.
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("ssh exec mode runs the pre-authenticated imap", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    if (!imapkeep::testing::test_env_has({"IMAPKEEP_TEST_SSH_IMAP_COMMAND"}, "the test Dovecot behind sshd")) return;
    SshOptions options = base_options(engine);
    options.command = env("IMAPKEEP_TEST_SSH_IMAP_COMMAND");
    StreamPtr stream = imapkeep::transport::connect_ssh(options);
    const std::string greeting = read_until(*stream, "\r\n");
    CHECK(greeting.rfind("* PREAUTH", 0) == 0);
    stream->write_all("a1 LOGOUT\r\n");
    const std::string bye = read_until(*stream, "a1 OK");
    CHECK(bye.find("* BYE") != std::string::npos);
}

TEST_CASE("ssh forward mode reaches a TCP service as the server sees it", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    struct Case {
        const char* name;
        std::string port;
        std::string greeting;
    };
    // sshd itself is always there to forward to; Dovecot only with the full env.
    std::vector<Case> cases = {{"to sshd's own port", env("IMAPKEEP_TEST_SSH_PORT"), "SSH-2.0-"}};
    if (imapkeep::testing::have_dovecot_env())
        cases.push_back({"to Dovecot", env("IMAPKEEP_TEST_IMAP_PORT"), "* OK"});
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options(engine);
            options.forward_host = "127.0.0.1";
            options.forward_port = std::stoi(c.port);
            StreamPtr stream = imapkeep::transport::connect_ssh(options);
            const std::string greeting = read_until(*stream, "\r\n");
            CHECK(greeting.rfind(c.greeting, 0) == 0);
        }
    }
}

TEST_CASE("ssh forward to a closed port is an Ssh error", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    SshOptions options = base_options(engine);
    options.forward_host = "127.0.0.1";
    options.forward_port = 1;
    std::string message;
    CHECK(error_kind(options, message) == Kind::Ssh);
    CHECK(message.find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("ssh refuses unknown and changed host keys", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    TempDir dir;
    const std::string wrong_public = read_file(env("IMAPKEEP_TEST_SSH_WRONG_KEY") + ".pub");
    const std::string other_key = wrong_public.substr(0, wrong_public.find(' ', wrong_public.find(' ') + 1));
    struct Case {
        const char* name;
        std::string known_hosts;
        bool accept_new;
        std::string expect;
    };
    const std::string hashed = read_file(env("IMAPKEEP_TEST_SSH_HASHED_KNOWN_HOSTS"));
    const std::string hashed_name = hashed.substr(0, hashed.find(' '));
    REQUIRE(hashed_name.rfind("|1|", 0) == 0);
    const std::vector<Case> cases = {
        {"unknown: empty file", "", false, "is unknown"},
        {"unknown: other hosts only", "otherhost " + other_key + "\n", false, "is unknown"},
        {"changed", host_entry_name() + " " + other_key + "\n", false, "has CHANGED"},
        {"changed, accept_new_host_key", host_entry_name() + " " + other_key + "\n", true, "has CHANGED"},
        {"changed, hashed entry", hashed_name + " " + other_key + "\n", true, "has CHANGED"},
    };
    const std::string fingerprint = expected_fingerprint();
    for (const Case& c : cases) {
        SECTION(c.name) {
            const auto path = dir.path() / "known_hosts";
            write_file(path, c.known_hosts);
            SshOptions options = base_options(engine);
            options.command = "cat";
            options.known_hosts = path.string();
            options.accept_new_host_key = c.accept_new;
            std::string message;
            CHECK(error_kind(options, message) == Kind::HostKey);
            CHECK(message.find(c.expect) != std::string::npos);
            CHECK(message.find("ssh-ed25519 key " + fingerprint) != std::string::npos);
            CHECK(message.find(host_entry_name()) != std::string::npos);
            if (c.accept_new) {
                CHECK(message.find("never replaces") != std::string::npos);
            } else if (c.expect == "is unknown") {
                CHECK(message.find("accept_new_host_key = true") != std::string::npos);
            }
            CHECK(read_file(path) == c.known_hosts);  // never modified
        }
    }
}

TEST_CASE("ssh accept_new_host_key adds an unknown key and keeps other lines", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    TempDir dir;
    struct Case {
        const char* name;
        std::filesystem::path file;
        std::optional<std::string> existing;
    };
    const std::vector<Case> cases = {
        {"empty file", dir.path() / "empty", std::string()},
        {"no trailing newline, unparsable line kept", dir.path() / "mixed",
         std::string("# comment\nnot a valid line at all\notherhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPkHPyRmXnDk5N2bsnz3Qccf6AgFz8X5hQ7SFQ+XReoM")},
        {"missing file in a missing directory", dir.path() / "new" / "known_hosts", std::nullopt},
    };
    const std::string server_line = read_file(env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS"));
    for (const Case& c : cases) {
        SECTION(c.name) {
            if (c.existing) {
                write_file(c.file, *c.existing);
            }
            SshOptions options = base_options(engine);
            options.command = "cat";
            options.known_hosts = c.file.string();
            options.accept_new_host_key = true;
            imapkeep::transport::connect_ssh(options)->close();

            const std::string content = read_file(c.file);
            const std::string before = c.existing.value_or("");
            CHECK(content.rfind(before, 0) == 0);
            std::string added = content.substr(before.size());
            if (!before.empty() && before.back() != '\n') {
                CHECK(added.rfind("\n", 0) == 0);
                added.erase(0, 1);
            }
            // Same host name, key type and key as sshd.sh's line (no comment).
            CHECK(added == server_line);

            // The entry now matches without accept_new_host_key.
            options.accept_new_host_key = false;
            StreamPtr again = imapkeep::transport::connect_ssh(options);
            again->write_all("x\n");
            CHECK(read_until(*again, "\n") == "x\n");
            CHECK(read_file(c.file) == content);
        }
    }
}

TEST_CASE("ssh authentication failures name each method", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    struct Case {
        const char* name;
        std::string identity;
        bool with_password;
        std::vector<std::string> expect;
    };
    std::vector<Case> cases = {
        {"wrong key", env("IMAPKEEP_TEST_SSH_WRONG_KEY"), false,
         {"publickey (" + env("IMAPKEEP_TEST_SSH_WRONG_KEY") + "): rejected by server",
          "password: not configured"}},
        {"missing key file", "/nonexistent/id_ed25519", false,
         {"publickey (/nonexistent/id_ed25519): file not found"}},
        {"wrong key, password not offered", env("IMAPKEEP_TEST_SSH_WRONG_KEY"), true,
         {"rejected by server", "password: not offered by server"}},
    };
    if (std::getenv("SSH_AUTH_SOCK") == nullptr) {
        cases.push_back({"no identity, no agent", "", false, {"ssh-agent: SSH_AUTH_SOCK not set"}});
    }
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options();
            options.command = "cat";
            options.identity = c.identity;
            if (c.with_password) {
                options.password = [] { return std::string("secret"); };
            }
            std::string message;
            CHECK(error_kind(options, message) == Kind::Auth);
            CHECK(message.find("authentication as " + options.user + "@") != std::string::npos);
            for (const std::string& text : c.expect) {
                CHECK(message.find(text) != std::string::npos);
            }
            CHECK(message.find("secret") == std::string::npos);
        }
    }
}

TEST_CASE("ssh key file with a passphrase", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    TempDir dir;
    // The authorized key, re-encrypted with a passphrase.
    const auto key = dir.path() / "id_encrypted";
    std::filesystem::copy_file(env("IMAPKEEP_TEST_SSH_KEY"), key);
    std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    REQUIRE(std::system(("ssh-keygen -q -p -P '' -N 'correct horse' -f '" + key.string() + "' >/dev/null").c_str()) == 0);
    struct Case {
        const char* name;
        std::optional<std::string> passphrase;
        bool succeeds;
    };
    const std::vector<Case> cases = {
        {"right passphrase", "correct horse", true},
        {"wrong passphrase", "battery staple", false},
        {"no passphrase source", std::nullopt, false},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options();
            options.command = "cat";
            options.identity = key.string();
            int asked = 0;
            if (c.passphrase) {
                options.passphrase = [&asked, &c] {
                    ++asked;
                    return *c.passphrase;
                };
            }
            if (c.succeeds) {
                StreamPtr stream = imapkeep::transport::connect_ssh(options);
                stream->write_all("ok\n");
                CHECK(read_until(*stream, "\n") == "ok\n");
            } else {
                std::string message;
                CHECK(error_kind(options, message) == Kind::Auth);
                CHECK(message.find("publickey (" + key.string() + "): cannot load the key") != std::string::npos);
            }
            CHECK(asked == (c.passphrase ? 1 : 0));
        }
    }
}

TEST_CASE("ssh exec: a command that fails at once is a clear error, not a hang", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    struct Case {
        std::string command;
        std::vector<std::string> expect;
    };
    const std::vector<Case> cases = {
        {"/nonexistent/imap", {"`/nonexistent/imap`", "exited with status 127", "/nonexistent/imap: "}},
        {"echo 'imap: config missing' >&2; exit 3", {"exited with status 3", ": imap: config missing"}},
        {"true", {"exited with status 0 without any output"}},
    };
    for (const Case& c : cases) {
        SECTION(c.command) {
            SshOptions options = base_options(engine);
            options.command = c.command;
            options.read_timeout = 5s;
            const auto start = std::chrono::steady_clock::now();
            std::string message;
            CHECK(error_kind(options, message) == Kind::Ssh);
            CHECK(std::chrono::steady_clock::now() - start < 4s);
            INFO(message);
            for (const std::string& text : c.expect) {
                CHECK(message.find(text) != std::string::npos);
            }
        }
    }
}

TEST_CASE("ssh read timeout and keepalives", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    SECTION("silent command times out") {
        SshOptions options = base_options(engine);
        options.command = "sleep 10";
        options.read_timeout = 300ms;
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        char buffer[16];
        const auto start = std::chrono::steady_clock::now();
        try {
            stream->read_some(buffer);
            FAIL("read returned");
        } catch (const TransportError& e) {
            CHECK(e.kind() == Kind::Timeout);
        }
        const auto elapsed = std::chrono::steady_clock::now() - start;
        CHECK(elapsed >= 300ms);
        CHECK(elapsed < 3s);
    }
    SECTION("keepalives during a long wait do not disturb the data") {
        SshOptions options = base_options(engine);
        options.command = "sleep 2; echo done";
        options.keepalive_seconds = 1;
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        CHECK(read_until(*stream, "\n") == "done\n");
        char buffer[16];
        CHECK(stream->read_some(buffer) == 0);  // orderly EOF after output
    }
}

TEST_CASE("ssh connection refused is an Io error", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    SshOptions options = base_options(engine);
    options.port = 1;
    options.command = "cat";
    std::string message;
    CHECK(error_kind(options, message) == Kind::Io);
    CHECK(message.find("[127.0.0.1]:1") != std::string::npos);
}

TEST_CASE("ssh throughput", "[ssh][integration][bench]") {
    if (!have_sshd()) {
        return;
    }
    const SshEngine engine = GENERATE(SshEngine::Libssh2, SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    SECTION("50 MB download through head -c") {
        constexpr std::size_t kBytes = 50'000'000;
        SshOptions options = base_options(engine);
        options.command = "head -c " + std::to_string(kBytes) + " /dev/zero";
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        std::vector<char> buffer(256 * 1024);
        std::size_t total = 0;
        std::size_t reads = 0;
        bool all_zero = true;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t n; (n = stream->read_some(buffer)) > 0;) {
            total += n;
            ++reads;
            all_zero = all_zero && std::all_of(buffer.begin(), buffer.begin() + static_cast<long>(n),
                                               [](char ch) { return ch == 0; });
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CHECK(total == kBytes);
        CHECK(all_zero);
        // Large windows: far fewer reads than 32 KiB packets would need one by one.
        CHECK(reads < kBytes / 1024);
        WARN("ssh exec download: " << total / 1e6 / seconds << " MB/s (" << total << " bytes in "
                                  << seconds << " s, " << reads << " reads, avg "
                                  << total / reads << " bytes/read)");
    }
    SECTION("8 MB echo through cat") {
        constexpr std::size_t kBytes = 8 * 1024 * 1024;
        std::string data(kBytes, '\0');
        std::mt19937 random(42);
        for (char& ch : data) {
            ch = static_cast<char>(random());
        }
        SshOptions options = base_options(engine);
        options.command = "cat";
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        std::string echoed;
        echoed.reserve(kBytes);
        std::vector<char> buffer(256 * 1024);
        const auto start = std::chrono::steady_clock::now();
        constexpr std::size_t kChunk = 256 * 1024;
        // Keep at most one window in flight so cat never blocks on its output.
        for (std::size_t sent = 0; sent < kBytes || echoed.size() < kBytes;) {
            if (sent < kBytes && sent - echoed.size() < 1024 * 1024) {
                const std::size_t n = std::min(kChunk, kBytes - sent);
                stream->write_all(std::string_view(data).substr(sent, n));
                sent += n;
                continue;
            }
            const std::size_t n = stream->read_some(buffer);
            REQUIRE(n > 0);
            echoed.append(buffer.data(), n);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CHECK(echoed == data);
        WARN("ssh exec echo: " << 2 * kBytes / 1e6 / seconds << " MB/s both ways");
    }
}

TEST_CASE("ssh host key preference puts the types known_hosts has for the host first", "[ssh]") {
    TempDir dir;
    // Real keys, so that ssh-keygen -H (the reference hashing) accepts the lines.
    const auto ecdsa = dir.path() / "ecdsa";
    REQUIRE(std::system(("ssh-keygen -q -t ecdsa -b 256 -N '' -f '" + ecdsa.string() + "' >/dev/null").c_str()) == 0);
    std::string ecdsa_public = read_file(ecdsa.string() + ".pub");
    ecdsa_public = ecdsa_public.substr(0, ecdsa_public.find(' ', ecdsa_public.find(' ') + 1));

    struct Case {
        const char* name;
        std::string known_hosts;
        bool hash;
        std::string expect_prefix;
    };
    const std::string kDefault = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384";
    const std::vector<Case> cases = {
        {"no entry", "", false, kDefault},
        {"entry for another port only", "[mail.example]:2200 " + ecdsa_public + "\n", false, kDefault},
        {"entry for port 22 is the bare name", "mail.example " + ecdsa_public + "\n", false, kDefault},
        {"plain entry", "other,[mail.example]:2222 " + ecdsa_public + "\n", false,
         "ecdsa-sha2-nistp256,ssh-ed25519,ecdsa-sha2-nistp384"},
        {"hashed entry", "[mail.example]:2222 " + ecdsa_public + "\n", true,
         "ecdsa-sha2-nistp256,ssh-ed25519,ecdsa-sha2-nistp384"},
        {"rsa entry offers the SHA-2 signatures first", "[mail.example]:2222 ssh-rsa AAAAB3NzaC1yc2E\n",
         false, "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ssh-ed25519"},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            const auto path = dir.path() / "known_hosts";
            write_file(path, c.known_hosts);
            if (c.hash) {
                REQUIRE(std::system(("ssh-keygen -q -H -f '" + path.string() + "' >/dev/null 2>&1").c_str()) == 0);
                REQUIRE(read_file(path).rfind("|1|", 0) == 0);
            }
            SshOptions options;
            options.host = "mail.example";
            options.port = 2222;
            options.known_hosts = path.string();
            const std::string preference = imapkeep::transport::ssh_detail::host_key_preference(options);
            INFO(preference);
            CHECK(preference.rfind(c.expect_prefix, 0) == 0);
        }
    }
}

TEST_CASE("ssh known_hosts names and home expansion", "[ssh]") {
    using imapkeep::transport::ssh_detail::expand_home;
    using imapkeep::transport::ssh_detail::known_hosts_name;
    CHECK(known_hosts_name("mail.example", 22) == "mail.example");
    CHECK(known_hosts_name("mail.example", 2222) == "[mail.example]:2222");
    const std::string home = env("HOME");
    if (!home.empty()) {
        CHECK(expand_home("~") == home);
        CHECK(expand_home("~/.ssh/known_hosts") == home + "/.ssh/known_hosts");
    }
    CHECK(expand_home("/etc/ssh/ssh_known_hosts") == "/etc/ssh/ssh_known_hosts");
    CHECK(expand_home("~other/x") == "~other/x");  // other users' homes are not expanded
}

TEST_CASE("openssh: authentication failures are Auth, naming what ssh said", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    struct Case {
        const char* name;
        std::string identity;
    };
    const std::vector<Case> cases = {
        {"wrong key", env("IMAPKEEP_TEST_SSH_WRONG_KEY")},
        {"missing key file", "/nonexistent/id_ed25519"},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options(SshEngine::OpenSsh);
            options.command = "cat";
            options.identity = c.identity;
            std::string message;
            CHECK(error_kind(options, message) == Kind::Auth);
            INFO(message);
            CHECK(message.find("authentication as " + options.user + "@" + host_entry_name() + " failed: ") !=
                  std::string::npos);
            CHECK(message.find("Permission denied (publickey)") != std::string::npos);
        }
    }
}

TEST_CASE("openssh: a passphrase or password source is refused, never prompted for", "[ssh]") {
    struct Case {
        const char* name;
        bool passphrase;
        bool password;
    };
    const std::vector<Case> cases = {{"passphrase", true, false}, {"password", false, true}, {"both", true, true}};
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options(SshEngine::OpenSsh);
            options.port = 22;
            options.command = "cat";
            int asked = 0;
            if (c.passphrase) options.passphrase = [&asked] { ++asked; return std::string("x"); };
            if (c.password) options.password = [&asked] { ++asked; return std::string("x"); };
            std::string message;
            CHECK(error_kind(options, message) == Kind::Auth);
            CHECK(message.find("BatchMode") != std::string::npos);
            CHECK(asked == 0);
        }
    }
}

TEST_CASE("openssh: a missing ssh binary is a clear Ssh error", "[ssh]") {
    struct Case {
        const char* name;
        std::string program;
    };
    const std::vector<Case> cases = {{"absolute path", "/nonexistent/bin/ssh"},
                                     {"name not on PATH", "imapkeep-no-such-ssh"}};
    for (const Case& c : cases) {
        SECTION(c.name) {
            SshOptions options = base_options(SshEngine::OpenSsh);
            options.port = 22;
            options.command = "cat";
            options.program = c.program;
            std::string message;
            CHECK(error_kind(options, message) == Kind::Ssh);
            INFO(message);
            CHECK(message.find("engine = \"openssh\" cannot run `" + c.program + "`") != std::string::npos);
            CHECK(message.find("No such file or directory") != std::string::npos);
        }
    }
}

TEST_CASE("openssh: the argv, built without a shell", "[ssh]") {
    using imapkeep::transport::openssh::build_argv;
    auto joined = [](const std::vector<std::string>& argv) {
        std::string out;
        for (const std::string& arg : argv) out += (out.empty() ? "" : "|") + arg;
        return out;
    };
    auto options = [](std::function<void(SshOptions&)> change) {
        SshOptions o;
        o.engine = SshEngine::OpenSsh;
        o.host = "mail.example";
        o.port = 2222;
        o.user = "backup";
        o.known_hosts = "/k/known_hosts";
        o.command = "/usr/lib/dovecot/imap";
        o.connect_timeout = 10s;
        o.keepalive_seconds = 60;
        change(o);
        return o;
    };
    struct Case {
        const char* name;
        SshOptions options;
        std::vector<std::string> contains;  // runs of adjacent arguments, "|" between
        std::vector<std::string> absent;
    };
    const std::string kTail = "|--|mail.example|/usr/lib/dovecot/imap";
    const std::vector<Case> cases = {
        {"exec, defaults", options([](SshOptions&) {}),
         {"ssh|-T|-x|-a|-p|2222|-l|backup|-o", "|-o|BatchMode=yes|", "|-o|UserKnownHostsFile=\"/k/known_hosts\"|",
          "|-o|GlobalKnownHostsFile=/dev/null|", "|-o|StrictHostKeyChecking=yes|", "|-o|ConnectTimeout=10|",
          "|-o|ServerAliveInterval=60|-o|ServerAliveCountMax=3|",
          "|-o|Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com|",
          "|-o|Compression=no|", "|-o|ControlPath=none|", "|-o|RemoteCommand=none|",
          "|-o|ForkAfterAuthentication=no|", "|-o|SessionType=default|",
          "|-o|LogLevel=DEBUG1" + kTail},
         {"-i", "IdentitiesOnly", "-F", "-W"}},
        {"identity, accept_new_host_key, ssh_config, keepalive off, no timeout",
         options([](SshOptions& o) {
             o.identity = "/keys/id_ed25519";
             o.accept_new_host_key = true;
             o.ssh_config = "none";
             o.keepalive_seconds = 0;
             o.connect_timeout.reset();
             o.program = "/opt/ssh/bin/ssh";
         }),
         {"/opt/ssh/bin/ssh|-F|none|-T|", "|-i|/keys/id_ed25519|-o|IdentitiesOnly=yes|",
          "|-o|StrictHostKeyChecking=accept-new|", "|-o|ServerAliveInterval=0|"},
         {"ConnectTimeout"}},
        {"a timeout under a second rounds up", options([](SshOptions& o) { o.connect_timeout = 300ms; }),
         {"|-o|ConnectTimeout=1|"}, {}},
        {"forward", options([](SshOptions& o) {
             o.command.clear();
             o.forward_host = "127.0.0.1";
             o.forward_port = 143;
         }),
         {"|-W|127.0.0.1:143|--|mail.example"}, {"imap", "SessionType"}},
        {"forward to IPv6", options([](SshOptions& o) {
             o.command.clear();
             o.forward_host = "::1";
             o.forward_port = 993;
         }),
         {"|-W|[::1]:993|--|mail.example"}, {}},
        {"a command is one argument, shell text and all",
         options([](SshOptions& o) { o.command = "-oProxyCommand=x; rm -rf ~ `y` $(z)"; }),
         {"|--|mail.example|-oProxyCommand=x; rm -rf ~ `y` $(z)"}, {}},
        {"a user that looks like an option stays -l's value", options([](SshOptions& o) { o.user = "-oX=y"; }),
         {"|-l|-oX=y|"}, {}},
        {"paths: % doubled, blanks and quotes quoted", options([](SshOptions& o) {
             o.identity = "/keys/100%/id";
             o.known_hosts = "/my dir/it's \"known\"";
         }),
         {"|-i|/keys/100%%/id|", "|UserKnownHostsFile=\"/my dir/it\\'s \\\"known\\\"\"|"}, {}},
        {"IPv6 host", options([](SshOptions& o) { o.host = "::1"; }), {"|--|::1|"}, {}},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            const std::string argv = joined(build_argv(c.options));
            INFO(argv);
            for (const std::string& run : c.contains) CHECK(argv.find(run) != std::string::npos);
            for (const std::string& text : c.absent) CHECK(argv.find(text) == std::string::npos);
            // The destination is the last or next-to-last argument, right after "--".
            CHECK(argv.find("|--|" + c.options.host) != std::string::npos);
        }
    }

    struct Refused {
        const char* name;
        SshOptions options;
        Kind kind;
        std::string says;
    };
    const std::vector<Refused> refused = {
        {"host starting with '-'", options([](SshOptions& o) { o.host = "-oProxyCommand=touch /tmp/x"; }),
         Kind::Ssh, "starts with '-'"},
        {"host with '@'", options([](SshOptions& o) { o.host = "root@evil"; }), Kind::Ssh, "'@'"},
        {"host with a blank", options([](SshOptions& o) { o.host = "a b"; }), Kind::Ssh, "blank"},
        {"host with a newline", options([](SshOptions& o) { o.host = "a\nb"; }), Kind::Ssh, "control"},
        {"empty host", options([](SshOptions& o) { o.host = ""; }), Kind::Ssh, "empty host"},
        {"known_hosts with ${", options([](SshOptions& o) { o.known_hosts = "/k/${HOME}"; }), Kind::Ssh, "${"},
        {"neither command nor forward", options([](SshOptions& o) { o.command.clear(); }), Kind::Ssh,
         "neither a command"},
        {"passphrase source", options([](SshOptions& o) { o.passphrase = [] { return std::string(); }; }),
         Kind::Auth, "BatchMode"},
    };
    for (const Refused& c : refused) {
        SECTION(std::string("refused: ") + c.name) {
            try {
                const std::string argv = joined(build_argv(c.options));
                FAIL("built " << argv);
            } catch (const TransportError& e) {
                INFO(e.what());
                CHECK(e.kind() == c.kind);
                CHECK(std::string(e.what()).find(c.says) != std::string::npos);
            }
        }
    }
}

TEST_CASE("openssh: what ssh says before the session is up sorts into kinds", "[ssh]") {
    using imapkeep::transport::openssh::classify_failure;
    struct Case {
        const char* says;
        Kind kind;
    };
    const std::vector<Case> cases = {
        {"No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\n"
         "Host key verification failed.\n",
         Kind::HostKey},
        {"@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n", Kind::HostKey},
        {"@       WARNING: REVOKED HOST KEY DETECTED!               @\n", Kind::HostKey},
        {"backup@127.0.0.1: Permission denied (publickey).\n", Kind::Auth},
        {"ssh: Could not resolve hostname nosuch.invalid: Name or service not known\n", Kind::Resolve},
        {"ssh: connect to host 127.0.0.1 port 1: Connection refused\n", Kind::Io},
        {"ssh: connect to host 10.0.0.1 port 22: Connection timed out\n", Kind::Timeout},
        {"Connection closed by 127.0.0.1 port 2222\n", Kind::Io},
        {"Unable to negotiate with 127.0.0.1 port 2222: no matching cipher found\n", Kind::Ssh},
        {"", Kind::Ssh},
    };
    for (const Case& c : cases) {
        INFO(c.says);
        CHECK(classify_failure(c.says) == c.kind);
    }
}

namespace {
// Processes whose parent is this one (ssh children not yet reaped count too).
int children() {
    int count = 0;
    const std::string me = std::to_string(::getpid());
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string stat = read_file(entry.path() / "stat");
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(stat.substr(close + 2));
        std::string state, parent;
        fields >> state >> parent;
        if (parent == me) ++count;
    }
    return count;
}
}  // namespace

TEST_CASE("openssh: ssh is reaped after close and after every failure", "[ssh][integration]") {
    if (!have_sshd()) {
        return;
    }
    REQUIRE(children() == 0);
    SECTION("closed while the remote command still runs") {
        SshOptions options = base_options(SshEngine::OpenSsh);
        options.command = "sleep 30";
        StreamPtr stream = imapkeep::transport::connect_ssh(options);
        CHECK(children() == 1);
        const auto start = std::chrono::steady_clock::now();
        stream->close();
        CHECK(std::chrono::steady_clock::now() - start < 3s);
        CHECK(children() == 0);
    }
    SECTION("a refused host key") {
        TempDir dir;
        SshOptions options = base_options(SshEngine::OpenSsh);
        options.command = "cat";
        options.known_hosts = (dir.path() / "empty").string();
        std::string message;
        CHECK(error_kind(options, message) == Kind::HostKey);
        CHECK(children() == 0);
    }
    SECTION("a remote command that fails at once") {
        SshOptions options = base_options(SshEngine::OpenSsh);
        options.command = "exit 3";
        std::string message;
        CHECK(error_kind(options, message) == Kind::Ssh);
        CHECK(children() == 0);
    }
}
