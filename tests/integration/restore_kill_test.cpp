// issue 8 case 16: `imapkeep restore` killed with SIGKILL at random moments,
// each time followed by one clean run, must leave exactly one copy of each
// backed-up message on the target: 0 lost, 0 duplicated. The moments come
// from a seed that is printed; IMAPKEEP_TEST_SEED=<n> replays a failure.
// On Dovecot, then on Cyrus with fewer kills (IMAPKEEP_TEST_CYRUS_KILL_TRIALS,
// default 6); user1 is backed up, user2 restored into.
#include "integration/restore_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <string_view>
#include <thread>
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using Clock = std::chrono::steady_clock;

namespace {

// 800 messages and 20 kills on Dovecot. Cyrus, the second server, gets fewer
// of both: it fsyncs each APPEND, so a full restore takes longer there.
int messages(ServerKind kind) { return kind == ServerKind::Dovecot ? 800 : 200; }
int kills(ServerKind kind) {
    return kind == ServerKind::Dovecot ? 20 : std::stoi(env("IMAPKEEP_TEST_CYRUS_KILL_TRIALS").value_or("6"));
}

std::string write_config(ServerKind kind, const std::filesystem::path& dir) {
    auto path = dir / "config.toml";
    std::ofstream f(path);
    f << "[store]\npath = \"" << (dir / "store").string() << "\"\n\n"
      << "[[account]]\nname = \"dst\"\nhost = \"" << env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1") << "\"\n"
      << "port = " << env(server_port_variable(kind)).value_or("143") << "\n"
      << "tls = \"none\"\nallow_plaintext_auth = true\n"
      << "user = \"" << env("IMAPKEEP_TEST_USER2").value_or("user2") << "\"\n"
      << "password = \"" << env("IMAPKEEP_TEST_PASSWORD2").value_or("") << "\"\n";
    f.close();
    ::chmod(path.c_str(), 0600);
    ::chmod(dir.c_str(), 0700);
    return path.string();
}

// Starts `imapkeep restore` with its output in dir/out.txt and dir/err.txt.
pid_t start_restore(const std::string& config, const std::string& prefix, const std::filesystem::path& dir) {
    std::vector<std::string> args = {std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep", "restore", "--config", config,
                                     "--account", "src", "--to", "dst", "--prefix", prefix, "-q"};
    std::string out = (dir / "out.txt").string(), err = (dir / "err.txt").string();
    pid_t pid = ::fork();
    if (pid == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(o, 1);
        ::dup2(e, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Messages of a few sizes (so that different messages share one), with and
// without Message-ID, 8-bit ones, and exact duplicates.
std::string message(int i, std::mt19937& rng) {
    std::string head = "From: k@example.org\r\nSubject: kill " + std::to_string(i) + "\r\n";
    if (i % 20 == 3) head += "Message-ID: <\xc3\xa9t\xc3\xa9-" + std::to_string(i) + "@kill>\r\n";
    else if (i % 20 != 7) head += "Message-ID: <" + std::to_string(i) + "@kill>\r\n";
    std::string body(200 + 150 * (i % 5), 'x');
    for (auto& c : body) c = static_cast<char>('a' + rng() % 26);
    for (std::size_t at = 70; at < body.size(); at += 72) body.replace(at, 2, "\r\n");
    // Pad the head so that the size depends on i % 5 (and the Message-ID kind) only.
    head += "X-Pad: " + std::string(2 * (3 - std::to_string(i).size()), '-') + "\r\n";
    return head + "\r\n" + body + "\r\n";
}

std::vector<std::string> flags_for(int i) {
    switch (i % 4) {
    case 0: return {"\\Seen"};
    case 1: return {"\\Flagged", "$Work"};
    case 2: return {};
    default: return {"\\Answered", "\\Seen"};
    }
}

void fill(imap::Client& c, const std::string& mailbox, int first, int count, std::mt19937& rng) {
    std::vector<imap::Client::Tag> tags;
    std::string previous;
    for (int i = first; i < first + count; ++i) {
        std::string m = i % 50 == 9 ? previous : message(i, rng);  // an exact duplicate of the one before
        previous = m;
        tags.push_back(c.submit_append(mailbox, flags_for(i), std::nullopt, std::move(m)));
    }
    for (const auto& t : tags) c.finish_append(t);
}

// IMAP sessions of `user` that Cyrus still runs: each imapd keeps a file in
// its proc dir, "service\thost\tuser\t...", while it serves a client.
int cyrus_sessions_of(const std::string& user) {
    auto conf = env("IMAPKEEP_TEST_CYRUS_CONF");
    REQUIRE(conf);
    int n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(
             std::filesystem::path(*conf).parent_path() / "run" / "proc", ec)) {
        std::ifstream in(e.path());
        std::string service, host, who;
        if (std::getline(in, service, '\t') && std::getline(in, host, '\t') && std::getline(in, who, '\t') &&
            who == user)
            ++n;
    }
    return n;
}

// IMAP sessions of `user` that the server still runs (Dovecot: doveadm who).
int sessions_of(ServerKind kind, const std::string& user) {
    if (kind == ServerKind::Cyrus) return cyrus_sessions_of(user);
    auto doveadm = env("IMAPKEEP_TEST_DOVEADM");
    REQUIRE(doveadm);
    FILE* p = ::popen((*doveadm + " who -1 " + user + " 2>/dev/null").c_str(), "r");
    REQUIRE(p);
    int n = 0;
    char line[512];
    while (std::fgets(line, sizeof line, p))
        if (std::string_view(line).starts_with(user + " ")) ++n;
    ::pclose(p);
    return n;
}

// Until the server has finished the killed client's session: it still executes
// the commands that client had sent (pipelined APPENDs in its socket buffer
// are saved), which no later client can see coming. `own` sessions of the
// test itself stay.
void wait_for_dead_session(ServerKind kind, const std::string& user, int own) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (sessions_of(kind, user) > own) {
        REQUIRE(Clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

struct Difference {
    std::size_t lost = 0, duplicated = 0, other = 0;
};

// By SHA-256 multiset: copies missing, copies too many; then whole messages
// (flags, date) that differ among those with the right count.
Difference compare(const std::vector<TargetMessage>& want, const std::vector<TargetMessage>& got) {
    Difference d;
    auto w = shas(want), g = shas(got);
    for (auto it = w.begin(); it != w.end(); it = w.upper_bound(*it)) {
        auto have = g.count(*it), need = w.count(*it);
        if (have < need) d.lost += need - have;
        if (have > need) d.duplicated += have - need;
    }
    for (auto it = g.begin(); it != g.end(); it = g.upper_bound(*it))
        if (!w.contains(*it)) d.duplicated += g.count(*it);  // something never backed up
    if (d.lost == 0 && d.duplicated == 0 && want != got) d.other = 1;
    return d;
}

}  // namespace

TEST_CASE("restore killed with SIGKILL at random moments converges to one copy of each message",
          "[integration][restore][kill]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            const std::uint64_t seed = env("IMAPKEEP_TEST_SEED") ? std::stoull(*env("IMAPKEEP_TEST_SEED"))
                                                                  : std::random_device{}();
            std::cerr << server_name(kind) << ": restore kill test: IMAPKEEP_TEST_SEED=" << seed << "\n";
            std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));

            auto c1 = imap::connect_and_login(server_options(kind, 1));
            auto c2 = imap::connect_and_login(server_options(kind, 2));
            const std::string d = hierarchy_delimiter(*c1);
            const std::string p = unique_name("ikkill");
            std::vector<std::string> roots;
            struct Cleanup {
                imap::Client& c1;
                imap::Client& c2;
                const std::string& p;
                std::vector<std::string>& roots;
                ~Cleanup() {
                    try {
                        delete_tree(c1, p);
                        for (const auto& r : roots) delete_tree(c2, r);
                    } catch (const std::exception&) {
                    }
                }
            } cleanup{*c1, *c2, p, roots};

            // The source: p (3/4 of the messages) and p/Sub (the rest), backed up.
            const int total = messages(kind), top = total * 3 / 4;
            c1->create(p);
            c1->create(p + d + "Sub");
            fill(*c1, p, 0, top, rng);
            fill(*c1, p + d + "Sub", top, total - top, rng);
            TempDir dir;
            std::filesystem::create_directories(dir.path / "store");
            Store store(dir.path / "store");
            sync::AccountConfig src;
            src.name = "src";
            src.connect = server_options(kind, 1);
            src.mailboxes = {p, p + d + "*"};
            src.connections = 1;
            auto backup = store.backup(src);
            REQUIRE(backup.error.empty());
            const auto want_top = catalog_messages(*store.catalog, "src", p);
            const auto want_sub = catalog_messages(*store.catalog, "src", p + d + "Sub");
            REQUIRE(want_top.size() + want_sub.size() == static_cast<std::size_t>(total));
            const std::string config = write_config(kind, dir.path);

            auto check_target = [&](const std::string& root) {
                for (const auto& [name, want] : {std::pair{p, &want_top}, std::pair{p + d + "Sub", &want_sub}}) {
                    auto got = fetch_messages(*c2, root + d + name);
                    auto diff = compare(*want, got);
                    INFO(name);
                    CHECK(diff.lost == 0);
                    CHECK(diff.duplicated == 0);
                    CHECK(diff.other == 0);  // flags or date differ
                }
            };

            // One uninterrupted run gives the time span the kills are drawn from.
            roots.push_back(unique_name("ikkc"));
            const auto t0 = Clock::now();
            int code = wait_exit(start_restore(config, roots.back() + "/", dir.path));
            const double full = std::chrono::duration<double>(Clock::now() - t0).count();
            INFO("stderr: " << slurp(dir.path / "err.txt"));
            REQUIRE(code == 0);
            check_target(roots.back());
            delete_tree(*c2, roots.back());

            std::uniform_real_distribution<double> moment(0.0, full);
            for (int k = 0; k < kills(kind); ++k) {
                const double delay = moment(rng);
                const std::string root = unique_name("ikk" + std::to_string(k) + "x");
                roots.push_back(root);
                INFO("seed " << seed << ", kill " << k << " after " << delay << " s (a full run takes " << full << " s)");
                pid_t pid = start_restore(config, root + "/", dir.path);
                std::this_thread::sleep_for(std::chrono::duration<double>(delay));
                ::kill(pid, SIGKILL);
                wait_exit(pid);
                // The rerun starts at once: the server may still be executing what the
                // killed client had sent, and the rerun must wait for that itself.
                code = wait_exit(start_restore(config, root + "/", dir.path));
                wait_for_dead_session(kind, env("IMAPKEEP_TEST_USER2").value_or("user2"), 1);  // c2 stays
                // Nothing of the killed run may land after the rerun has finished.
                INFO("stderr: " << slurp(dir.path / "err.txt"));
                REQUIRE(code == 0);
                check_target(root);
                delete_tree(*c2, root);
            }
        }
}
