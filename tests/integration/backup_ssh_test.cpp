// Backups over SSH (exec and forward) equal a backup over plain TCP of the same
// Dovecot; SSH failures are connect failures with the right kind.
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/util/imap_date.hpp>

#include <catch2/catch.hpp>

#include <fstream>

#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

transport::SshOptions ssh_base(transport::SshEngine engine) {
    transport::SshOptions s;
    s.engine = engine;
    s.ssh_config = "none";
    s.host = env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1");
    s.port = std::stoi(env("IMAPKEEP_TEST_SSH_PORT").value_or("22"));
    s.user = env("IMAPKEEP_TEST_SSH_USER").value_or("root");
    s.identity = env("IMAPKEEP_TEST_SSH_KEY").value_or("");
    s.known_hosts = env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS").value_or("");
    s.read_timeout = std::chrono::seconds(20);
    return s;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Message rows without the store-specific parts: what the server had.
std::multiset<std::tuple<std::string, std::uint32_t, std::string, std::string>> rows(Store& s) {
    std::multiset<std::tuple<std::string, std::uint32_t, std::string, std::string>> out;
    auto id = s.catalog->find_account("it");
    if (!id) return out;
    for (const auto& mb : s.catalog->mailboxes(*id))
        for (const auto& m : s.catalog->messages(mb.id)) {
            std::string flags;
            for (const auto& f : m.flags) flags += f + " ";
            out.emplace(mb.name, m.uid, m.sha256, flags);
        }
    return out;
}

}  // namespace

TEST_CASE("backup over ssh exec and ssh forward equals a backup over TCP", "[integration][ssh]") {
    if (!testing::test_env_has({"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_SSH_PORT"}, "the test Dovecot and sshd"))
        return;
    // The same backup and the same failure kinds whichever engine carries SSH (issue 10).
    const auto engine = GENERATE(transport::SshEngine::Libssh2, transport::SshEngine::OpenSsh);
    INFO("engine " << transport::engine_name(engine));
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string p = unique_name("iks");
    admin->create(p);
    for (int i = 0; i < 4; ++i) {
        std::string body = "Subject: ssh " + std::to_string(i) + "\r\nMessage-ID: <" + p +
                           std::to_string(i) + "@x>\r\n\r\nbody " + std::string(i * 1000, 'z') + "\r\n";
        admin->append(p, i % 2 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{},
                      util::format_imap_datetime(1700000000 + i, 0), body);
    }

    sync::AccountConfig tcp;
    tcp.name = "it";
    tcp.connect = dovecot_options();
    tcp.mailboxes = {p};
    TempDir tcp_dir;
    Store tcp_store(tcp_dir.path);
    REQUIRE(tcp_store.backup(tcp).error.empty());
    auto expected = rows(tcp_store);
    REQUIRE(expected.size() == 4);

    SECTION("exec") {
        auto a = tcp;
        a.connect.ssh = ssh_base(engine);
        a.connect.ssh->command = env("IMAPKEEP_TEST_SSH_IMAP_COMMAND").value_or("");
        TempDir dir;
        Store s(dir.path);
        auto report = s.backup(a);
        INFO(report.error);
        REQUIRE(report.error.empty());
        CHECK(rows(s) == expected);
    }
    SECTION("forward") {
        auto a = tcp;
        a.connect.ssh = ssh_base(engine);
        a.connect.ssh->forward_host = "127.0.0.1";
        a.connect.ssh->forward_port = std::stoi(env("IMAPKEEP_TEST_IMAP_PORT").value_or("143"));
        TempDir dir;
        Store s(dir.path);
        auto report = s.backup(a);
        INFO(report.error);
        REQUIRE(report.error.empty());
        CHECK(rows(s) == expected);
    }
    SECTION("unknown host key is a HostKey connect failure naming the fingerprint") {
        auto a = tcp;
        a.connect.ssh = ssh_base(engine);
        TempDir dir;
        a.connect.ssh->known_hosts = (dir.path / "empty_known_hosts").string();
        a.connect.ssh->command = env("IMAPKEEP_TEST_SSH_IMAP_COMMAND").value_or("");
        Store s(dir.path);
        auto report = s.backup(a);
        CHECK(report.connect_failed);
        CHECK(report.error_kind == imap::ConnectError::Kind::HostKey);
        CHECK(report.error.find("SHA256:") != std::string::npos);
    }
    SECTION("a changed host key is a HostKey connect failure, also with accept_new_host_key") {
        auto a = tcp;
        a.connect.ssh = ssh_base(engine);
        TempDir dir;
        const std::string wrong = slurp(env("IMAPKEEP_TEST_SSH_WRONG_KEY").value_or("") + ".pub");
        const std::string known = slurp(env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS").value_or(""));
        a.connect.ssh->known_hosts = (dir.path / "changed_known_hosts").string();
        std::ofstream(a.connect.ssh->known_hosts)
            << known.substr(0, known.find(' ')) << " " << wrong.substr(0, wrong.find(' ', wrong.find(' ') + 1)) << "\n";
        a.connect.ssh->accept_new_host_key = true;
        a.connect.ssh->command = env("IMAPKEEP_TEST_SSH_IMAP_COMMAND").value_or("");
        Store s(dir.path);
        auto report = s.backup(a);
        INFO(report.error);
        CHECK(report.connect_failed);
        CHECK(report.error_kind == imap::ConnectError::Kind::HostKey);
        CHECK(report.error.find("has CHANGED") != std::string::npos);
    }
    SECTION("a wrong key is an Auth connect failure") {
        auto a = tcp;
        a.connect.ssh = ssh_base(engine);
        a.connect.ssh->identity = env("IMAPKEEP_TEST_SSH_WRONG_KEY").value_or("");
        a.connect.ssh->command = env("IMAPKEEP_TEST_SSH_IMAP_COMMAND").value_or("");
        TempDir dir;
        Store s(dir.path);
        auto report = s.backup(a);
        CHECK(report.connect_failed);
        CHECK(report.error_kind == imap::ConnectError::Kind::Auth);
    }
    admin->delete_mailbox(p);
}
