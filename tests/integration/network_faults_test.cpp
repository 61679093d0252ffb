// Issue 9, "Hostile and broken networks": `imapkeep backup` and `imapkeep
// restore` against the real Dovecot through tests/support/fault_proxy, which
// cuts the connection after exactly K bytes (K spread over a whole run, so
// most cuts land inside FETCH or APPEND literals) or stalls it mid-response.
// Each cut run must retry and complete, leave a store that verifies and equals
// an uncut one, and a target that holds each message exactly once.
//
// Owns user1's mailboxes named iknetNNN (and below), and user2's roots
// iknrNNN and iknhNNN: nothing else touches them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/imapkeep_process.hpp"
#include "integration/restore_support.hpp"
#include "support/fault_proxy.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using Clock = std::chrono::steady_clock;
using Fault = FaultProxy::Fault;
using Action = FaultProxy::Action;
using Direction = FaultProxy::Direction;

namespace {

// Few messages, a few KB each: cut points land inside their literals, and a
// whole backup costs few fsyncs (a hundred of them run per command).
constexpr int kMessages = 16;    // in the top mailbox
constexpr int kSubMessages = 4;  // in its child
// Cut points per command: spread evenly over a whole run, plus some more in
// its first bytes (greeting, login, LIST), where a cut fails the connect itself.
constexpr int kCutPoints = 88;
constexpr int kEarlyCutPoints = 12;
// A restore's: more client to server (inside the APPEND literals) than back.
constexpr int kUpCutPoints = 60;
constexpr int kDownCutPoints = 30;

std::string message(int i) {
    std::string body;
    for (int line = 0; line < 30 + (i % 7) * 15; ++line)
        body += "line " + std::to_string(line) + " of message " + std::to_string(i) +
                ": the quick brown fox jumps over the lazy dog\r\n";
    return "From: net@example.org\r\nTo: user1@example.org\r\nSubject: network fault " +
           std::to_string(i) + "\r\nMessage-ID: <" + std::to_string(i) + "@netfault>\r\n\r\n" +
           body;
}

std::vector<std::string> flags_for(int i) {
    switch (i % 4) {
        case 0:
            return {"\\Seen"};
        case 1:
            return {"\\Flagged", "$Net"};
        case 2:
            return {};
        default:
            return {"\\Answered", "\\Seen"};
    }
}

struct Settings {
    std::filesystem::path store;
    int retries = 3;
    double retry_delay = 0.05;
    int timeout = 10;
};

// Account "src" (user1, the mailboxes under test) and "dst" (user2), both
// through the proxy.
std::string write_config(const std::filesystem::path& path, const Settings& s, int proxy_port,
                         const std::string& mailbox) {
    std::ofstream f(path);
    // A retry settles the target before it compares (as after a kill); 100 ms
    // of quiet is plenty on loopback and keeps a hundred retried restores short.
    f << "retries = " << s.retries << "\nretry_delay = " << s.retry_delay
      << "\nrestore_settle = 0.1\n\n"
      << "[store]\npath = \"" << s.store.string() << "\"\n";
    for (int user : {1, 2}) {
        f << "\n[[account]]\nname = \"" << (user == 1 ? "src" : "dst")
          << "\"\nhost = \"127.0.0.1\"\nport = " << proxy_port
          << "\ntls = \"none\"\nallow_plaintext_auth = true\nconnections = 1\ntimeout = "
          << s.timeout << "\nuser = \"" << test_user(user) << "\"\npassword = \""
          << test_password(user) << "\"\n";
        if (user == 1) f << "mailboxes = [\"" << mailbox << "\", \"" << mailbox << "/*\"]\n";
    }
    f.close();
    ::chmod(path.c_str(), 0600);
    return path.string();
}

// What a store holds of each mailbox: content hash, flags, date; sorted.
using Contents = std::map<std::string, std::vector<TargetMessage>>;

Contents store_contents(const std::filesystem::path& store,
                        const std::vector<std::string>& mailboxes) {
    auto catalog = store::open_sqlite_catalog((store / "catalog.sqlite").string());
    Contents out;
    for (const auto& m : mailboxes) out[m] = catalog_messages(*catalog, "src", m);
    return out;
}

std::uint64_t new_messages(const std::string& json_text) {
    auto json = nlohmann::json::parse(json_text);
    return json["accounts"][0]["totals"]["new"].get<std::uint64_t>();
}

// Cut points: `count` spread evenly over (0, total), plus `early` ones over
// the first `early_span` bytes.
std::vector<std::uint64_t> cut_points(std::uint64_t total, int count, int early,
                                      std::uint64_t early_span) {
    std::vector<std::uint64_t> points;
    for (int i = 1; i <= early; ++i) points.push_back(early_span * i / (early + 1));
    for (int i = 1; i <= count; ++i) points.push_back(total * i / (count + 1));
    return points;
}

struct Differences {
    std::size_t lost = 0, duplicated = 0, other = 0;
};

Differences compare(const std::vector<TargetMessage>& want, const std::vector<TargetMessage>& got) {
    Differences d;
    auto w = shas(want), g = shas(got);
    for (auto it = w.begin(); it != w.end(); it = w.upper_bound(*it)) {
        auto have = g.count(*it), need = w.count(*it);
        if (have < need) d.lost += need - have;
        if (have > need) d.duplicated += have - need;
    }
    for (auto it = g.begin(); it != g.end(); it = g.upper_bound(*it))
        if (!w.contains(*it)) d.duplicated += g.count(*it);
    if (d.lost == 0 && d.duplicated == 0 && want != got) d.other = 1;
    return d;
}

double children_cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The seeded source mailboxes in user1, deleted again at the end.
struct Source {
    std::unique_ptr<imap::Client> admin = imap::connect_and_login(dovecot_options(1));
    std::string top = unique_name("iknet");
    std::vector<std::string> mailboxes{top, top + "/Sub"};

    Source() {
        admin->create(top);
        admin->create(top + "/Sub");
        std::vector<imap::Client::Tag> tags;
        for (int i = 0; i < kMessages + kSubMessages; ++i)
            tags.push_back(admin->submit_append(i < kMessages ? top : top + "/Sub", flags_for(i),
                                                std::nullopt, message(i)));
        for (const auto& t : tags) admin->finish_append(t);
    }
    ~Source() {
        try {
            delete_tree(*admin, top);
        } catch (const std::exception&) {
        }
    }
    Contents on_server() {
        Contents out;
        for (const auto& m : mailboxes) out[m] = fetch_messages(*admin, m);
        return out;
    }
};

// Cut points run on two workers, each with its own proxy, stores and output
// folder: most of a point's time is spent waiting (fsync, the server), and a
// hundred points per command must fit in CI's time.
constexpr int kWorkers = 2;

// Runs check(index, worker) for every index in [0, count) on kWorkers threads.
// Catch2's macros are not thread-safe, so a check returns what went wrong ("":
// all well) and the caller CHECKs the list: "point N: what".
std::vector<std::string> on_workers(
    std::size_t count, const std::function<std::string(std::size_t index, int worker)>& check) {
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back([&, w] {
            for (std::size_t i = next++; i < count; i = next++) {
                std::string why;
                try {
                    why = check(i, w);
                } catch (const std::exception& e) {
                    why = e.what();
                }
                if (why.empty()) continue;
                std::lock_guard lock(mutex);
                failures.push_back("point " + std::to_string(i) + ": " + why);
            }
        });
    for (auto& t : threads) t.join();
    return failures;
}

std::vector<std::unique_ptr<FaultProxy>> proxies() {
    std::vector<std::unique_ptr<FaultProxy>> out;
    for (int w = 0; w < kWorkers; ++w)
        out.push_back(std::make_unique<FaultProxy>(env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1"),
                                                   std::stoi(*env("IMAPKEEP_TEST_IMAP_PORT"))));
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

class Stopwatch {
  public:
    double seconds() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }

  private:
    Clock::time_point m_start = Clock::now();
};

}  // namespace

TEST_CASE("the fault proxy forwards exactly K bytes, then cuts or stalls",
          "[integration][network]") {
    if (!have_dovecot_env()) return;
    auto open = [](const FaultProxy& proxy) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(proxy.port()));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        timeval two{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two, sizeof two);
        return fd;
    };
    auto read_all = [](int fd, bool& timed_out) {
        std::string got;
        char buffer[4096];
        for (;;) {
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n < 0) timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
            if (n <= 0) return got;
            got.append(buffer, static_cast<std::size_t>(n));
        }
    };
    for (Action action : {Action::Cut, Action::Stall}) {
        INFO((action == Action::Cut ? "cut" : "stall"));
        FaultProxy proxy(env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1"),
                         std::stoi(*env("IMAPKEEP_TEST_IMAP_PORT")));
        proxy.set_fault({action, Direction::ServerToClient, 7, false});
        int fd = open(proxy);
        bool timed_out = false;
        std::string got = read_all(fd, timed_out);
        ::close(fd);
        CHECK(got == "* OK [C");  // 7 bytes of Dovecot's greeting
        CHECK(timed_out == (action == Action::Stall));
        // Only the first connection: the next one gets the whole greeting.
        fd = open(proxy);
        char buffer[512];
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        ::close(fd);
        CHECK(n > 7);
        auto counts = proxy.counts();
        CHECK(counts.connections == 2);
        CHECK(counts.faults == 1);
        CHECK(counts.server_to_client == 7 + static_cast<std::uint64_t>(n));
    }
}

TEST_CASE("backup cut after K bytes, for every K over a whole run, retries and completes",
          "[integration][network][backup]") {
    if (!have_dovecot_env()) return;
    const Stopwatch clock;
    Source source;
    FaultProxy proxy(env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1"),
                     std::stoi(*env("IMAPKEEP_TEST_IMAP_PORT")));
    TempDir dir;
    ::chmod(dir.path.c_str(), 0700);
    auto config_for = [&](const std::string& name, Settings s) {
        s.store = dir.path / name;
        return write_config(dir.path / (name + ".toml"), s, proxy.port(), source.top);
    };
    auto backup = [&](const std::string& config, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"backup", "--config", config, "--account", "src"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_imapkeep_binary(args, dir.path);
    };

    // The uncut reference: what a store holds, and how many bytes a whole run reads.
    proxy.reset_counts();
    auto reference_config = config_for("reference", {});
    auto clean = backup(reference_config);
    INFO(clean.err);
    REQUIRE(clean.code == 0);
    const std::uint64_t total = proxy.counts().server_to_client;
    const Contents reference = store_contents(dir.path / "reference", source.mailboxes);
    REQUIRE(reference == source.on_server());
    REQUIRE(reference.at(source.top).size() == kMessages);
    // A run with nothing new reads the greeting, the login and the LIST only.
    proxy.reset_counts();
    REQUIRE(backup(reference_config).code == 0);
    const std::uint64_t prelude = proxy.counts().server_to_client;
    std::cerr << "network faults: an uncut backup reads " << total << " bytes, " << prelude
              << " of them before the first EXAMINE\n";

    // Each cut point against a fresh store: the cut lands at the same place
    // of a whole first backup (a greeting, a LIST, a FETCH literal, a commit).
    const auto points = cut_points(total, kCutPoints, kEarlyCutPoints, prelude);
    auto workers = proxies();
    std::atomic<int> cli_retries{0};
    auto failures = on_workers(points.size(), [&](std::size_t i, int w) -> std::string {
        FaultProxy& proxy = *workers[w];
        const std::string name = "b" + std::to_string(i);
        const auto out = dir.path / ("w" + std::to_string(w));
        std::filesystem::create_directories(out);
        Settings s;
        s.store = dir.path / name;
        auto config = write_config(dir.path / (name + ".toml"), s, proxy.port(), source.top);
        const std::string where =
            "cut after " + std::to_string(points[i]) + " of " + std::to_string(total) + " bytes: ";
        proxy.reset_counts();
        proxy.set_fault({Action::Cut, Direction::ServerToClient, points[i], false});
        auto cut = run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, out);
        if (cut.code != 0) return where + "exit " + std::to_string(cut.code) + ": " + cut.err;
        if (proxy.counts().faults != 1) return where + "the proxy did not cut";
        if (cut.err.find("attempt 1 of 4 failed") != std::string::npos) ++cli_retries;
        auto verify = run_imapkeep_binary({"verify", "--config", config, "--account", "src"}, out);
        if (verify.code != 0) return where + "verify: " + verify.out + verify.err;
        if (store_contents(s.store, source.mailboxes) != reference)
            return where + "the store differs from an uncut one";
        auto again =
            run_imapkeep_binary({"backup", "--config", config, "--account", "src", "--json"}, out);
        if (again.code != 0 || new_messages(again.out) != 0)
            return where + "the next run: " + again.out + again.err;
        std::filesystem::remove_all(s.store);
        return "";
    });
    INFO(joined(failures));
    CHECK(failures.empty());
    std::cerr
        << "network faults: backup cut at " << points.size() << " points (" << cli_retries
        << " recovered by a retry of the whole account, the others by the engine's reconnect) in "
        << clock.seconds() << " s\n";
    CHECK(cli_retries > 0);

    // Every connection cut: the retries run out, with a clear message and 1 or
    // 3; nothing is corrupt, and a run without cuts completes.
    struct Lasting {
        std::uint64_t k;
        int code;
    };
    // 5 bytes: inside the greeting; prelude + 500: past the LIST, before the
    // first batch of bodies is durable, so that no connection makes progress.
    for (auto [k, code] : {Lasting{5, 3}, Lasting{prelude + 500, 1}}) {
        INFO("every connection cut after " << k << " bytes");
        const std::string name = "e" + std::to_string(k);
        Settings s;
        s.retries = 2;
        auto config = config_for(name, s);
        proxy.set_fault({Action::Cut, Direction::ServerToClient, k, true});
        auto cut = backup(config);
        INFO("stderr: " << cut.err);
        CHECK(cut.code == code);
        CHECK(cut.err.find("attempt 2 of 3 failed") != std::string::npos);
        CHECK(cut.err.find("imapkeep: backup src: gave up after 3 attempts: ") !=
              std::string::npos);
        proxy.set_fault({});
        auto verify =
            run_imapkeep_binary({"verify", "--config", config, "--account", "src"}, dir.path);
        CHECK(verify.code == 0);
        auto next = backup(config);
        CHECK(next.code == 0);
        CHECK(run_imapkeep_binary({"verify", "--config", config, "--account", "src"}, dir.path)
                  .code == 0);
        CHECK(store_contents(dir.path / name, source.mailboxes) == reference);
    }
    std::cerr << "network faults: backup part took " << clock.seconds() << " s\n";
}

TEST_CASE(
    "restore cut after K bytes, inside APPEND literals too, retries and appends each message once",
    "[integration][network][restore]") {
    if (!have_dovecot_env()) return;
    const Stopwatch clock;
    Source source;
    FaultProxy proxy(env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1"),
                     std::stoi(*env("IMAPKEEP_TEST_IMAP_PORT")));
    TempDir dir;
    ::chmod(dir.path.c_str(), 0700);
    Settings s;
    s.store = dir.path / "store";
    auto config = write_config(dir.path / "config.toml", s, proxy.port(), source.top);
    REQUIRE(
        run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, dir.path).code ==
        0);
    const Contents want = store_contents(s.store, source.mailboxes);
    auto target = imap::connect_and_login(dovecot_options(2));

    int roots = 0;
    auto restore = [&](const std::string& root) {
        return run_imapkeep_binary({"restore", "--config", config, "--account", "src", "--to",
                                    "dst", "--prefix", root + "/"},
                                   dir.path);
    };
    auto check_target = [&](const std::string& root) {
        for (const auto& [name, messages] : want) {
            INFO(name);
            auto diff = compare(messages, fetch_messages(*target, root + "/" + name));
            CHECK(diff.lost == 0);
            CHECK(diff.duplicated == 0);
            CHECK(diff.other == 0);
            if (diff.lost || diff.duplicated || diff.other) return false;
        }
        return true;
    };
    auto fresh_root = [&] { return unique_name("iknr") + "x" + std::to_string(roots++); };

    proxy.reset_counts();
    std::string root = fresh_root();
    auto clean = restore(root);
    INFO(clean.err);
    REQUIRE(clean.code == 0);
    REQUIRE(check_target(root));
    delete_tree(*target, root);
    const auto counts = proxy.counts();
    std::cerr << "network faults: an uncut restore sends " << counts.client_to_server
              << " bytes and reads " << counts.server_to_client << "\n";

    struct Point {
        Direction direction;
        std::uint64_t k;
    };
    std::vector<Point> points;
    for (auto k : cut_points(counts.client_to_server, kUpCutPoints, kEarlyCutPoints, 400))
        points.push_back({Direction::ClientToServer, k});
    for (auto k : cut_points(counts.server_to_client, kDownCutPoints, 0, 0))
        points.push_back({Direction::ServerToClient, k});
    // Each worker restores from its own copy of the store (one run per store
    // at a time), into roots of its own.
    auto workers = proxies();
    std::vector<std::string> configs;
    std::vector<std::unique_ptr<imap::Client>> targets;
    for (int w = 0; w < kWorkers; ++w) {
        Settings ws = s;
        ws.store = dir.path / ("store" + std::to_string(w));
        copy_tree(s.store, ws.store);
        configs.push_back(write_config(dir.path / ("w" + std::to_string(w) + ".toml"), ws,
                                       workers[w]->port(), source.top));
        targets.push_back(imap::connect_and_login(dovecot_options(2)));
    }
    std::atomic<int> retried{0};
    auto failures = on_workers(points.size(), [&](std::size_t i, int w) -> std::string {
        FaultProxy& proxy = *workers[w];
        const auto& p = points[i];
        const std::string where = "cut after " + std::to_string(p.k) + " bytes " +
                                  (p.direction == Direction::ClientToServer ? "client to server: "
                                                                            : "server to client: ");
        const std::string root = unique_name("iknr") + "w" + std::to_string(i);
        const auto out = dir.path / ("w" + std::to_string(w));
        std::filesystem::create_directories(out);
        proxy.reset_counts();
        proxy.set_fault({Action::Cut, p.direction, p.k, false});
        auto cut = run_imapkeep_binary({"restore", "--config", configs[w], "--account", "src",
                                        "--to", "dst", "--prefix", root + "/"},
                                       out);
        std::string why;
        if (cut.code != 0)
            why = "exit " + std::to_string(cut.code) + ": " + cut.err;
        else if (proxy.counts().faults != 1)
            why = "the proxy did not cut";
        if (cut.err.find("attempt 1 of 4 failed") != std::string::npos) ++retried;
        for (const auto& [name, messages] : want) {
            if (!why.empty()) break;
            auto d = compare(messages, fetch_messages(*targets[w], root + "/" + name));
            if (d.lost || d.duplicated || d.other)
                why = name + ": " + std::to_string(d.lost) + " lost, " +
                      std::to_string(d.duplicated) + " duplicated, " + std::to_string(d.other) +
                      " with other flags or dates; " + cut.err;
        }
        if (why.empty()) {
            // The next run finds everything there and appends nothing.
            auto again = run_imapkeep_binary({"restore", "--config", configs[w], "--account", "src", "--to",
                                              "dst", "--prefix", root + "/", "--json"},
                                             out);
            if (again.code != 0 || nlohmann::json::parse(again.out)["totals"]["appended"] != 0)
                why = "the next run: " + again.out + again.err;
        }
        delete_tree(*targets[w], root);
        return why.empty() ? "" : where + why;
    });
    INFO(joined(failures));
    CHECK(failures.empty());
    std::cerr << "network faults: restore cut at " << points.size() << " points, " << retried
              << " of them retried, in " << clock.seconds() << " s\n";
    CHECK(retried > static_cast<int>(points.size()) / 2);

    // Every connection cut inside the APPENDs: 1, a clear message; the next
    // run completes with one copy of each.
    root = fresh_root();
    proxy.set_fault({Action::Cut, Direction::ClientToServer, counts.client_to_server / 2, true});
    Settings two = s;
    two.retries = 2;
    auto config_two = write_config(dir.path / "two.toml", two, proxy.port(), source.top);
    auto lasting = run_imapkeep_binary({"restore", "--config", config_two, "--account", "src",
                                        "--to", "dst", "--prefix", root + "/"},
                                       dir.path);
    INFO("stderr: " << lasting.err);
    CHECK(lasting.code == 1);
    CHECK(lasting.err.find(
              "imapkeep: restore src -> dst: gave up after 3 attempts: connection lost") !=
          std::string::npos);
    proxy.set_fault({});
    CHECK(restore(root).code == 0);
    CHECK(check_target(root));
    delete_tree(*target, root);
    std::cerr << "network faults: restore part took " << clock.seconds() << " s\n";
}

// Every connection stalls a quarter of a whole backup's bytes in: each stall
// is ended by the read timeout (the client does not spin), and each reconnect
// keeps the bodies that had arrived whole, so the next connection needs less
// and the run completes after a few timeouts instead of giving up.
TEST_CASE("a server that stalls mid-literal: each read timeout ends a connection, without spinning, and the run completes",
          "[integration][network][stall]") {
    if (!have_dovecot_env()) return;
    Source source;
    FaultProxy proxy(env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1"),
                     std::stoi(*env("IMAPKEEP_TEST_IMAP_PORT")));
    TempDir dir;
    ::chmod(dir.path.c_str(), 0700);
    Settings s;
    s.store = dir.path / "reference";
    auto reference = write_config(dir.path / "reference.toml", s, proxy.port(), source.top);
    proxy.reset_counts();
    REQUIRE(
        run_imapkeep_binary({"backup", "--config", reference, "--account", "src"}, dir.path).code ==
        0);
    const std::uint64_t total = proxy.counts().server_to_client;

    s.store = dir.path / "stalled";
    s.timeout = 1;
    s.retries = 1;
    auto config = write_config(dir.path / "stalled.toml", s, proxy.port(), source.top);
    // A quarter of a whole backup is inside a FETCH literal. Not half: the
    // retry after the first timeout keeps what had arrived and fetches only
    // the rest, which must be long enough to stall again.
    proxy.set_fault({Action::Stall, Direction::ServerToClient, total / 4, true});
    const double cpu_before = children_cpu_seconds();
    auto stalled =
        run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, dir.path);
    const double cpu = children_cpu_seconds() - cpu_before;
    INFO("stderr: " << stalled.err);
    std::cerr << "network faults: stalled backup ended after " << stalled.seconds << " s, using "
              << cpu << " s of CPU\n";
    CHECK(stalled.code == 0);
    CHECK(stalled.seconds < 15);
    CHECK(stalled.seconds >= 3);  // each stalled connection waited for its timeout
    CHECK(cpu < 1.0);
    CHECK(proxy.counts().faults >= 3);
    CHECK(store_contents(s.store, source.mailboxes) ==
          store_contents(dir.path / "reference", source.mailboxes));

    proxy.set_fault({});
    CHECK(run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, dir.path).code ==
          0);
    CHECK(run_imapkeep_binary({"verify", "--config", config, "--account", "src"}, dir.path).code ==
          0);
    CHECK(store_contents(s.store, source.mailboxes) ==
          store_contents(dir.path / "reference", source.mailboxes));
}

// Found by the restore cut points: a cut that loses the answer to a CREATE
// (the server executed it) and a retry whose LIST runs before the dead
// session's CREATE lands. The retry's CREATE then says ALREADYEXISTS: the
// mailbox is there, maybe with messages the cut attempt appended, and is
// restored into as an existing one. The proxy hides the mailbox from LIST to
// make that moment happen every time.
TEST_CASE("restore into a mailbox that appears after its LIST: ALREADYEXISTS is not a failure",
          "[integration][network][restore]") {
    if (!have_dovecot_env()) return;
    Source source;
    TempDir dir;
    Store store{dir.path};
    sync::AccountConfig src;
    src.name = "src";
    src.connect = dovecot_options(1);
    src.mailboxes = {source.top, source.top + "/*"};
    src.connections = 1;
    REQUIRE(store.backup(src).error.empty());
    const auto want = catalog_messages(*store.catalog, "src", source.top);

    // What the cut attempt left: the mailbox created, its first half appended.
    auto target = imap::connect_and_login(dovecot_options(2));
    const std::string root = unique_name("iknh");
    target->create(root + "/" + source.top);
    for (int i = 0; i < kMessages / 2; ++i) target->append(root + "/" + source.top, flags_for(i), std::nullopt, message(i));

    ImapProxy proxy({"--hide-listed", root});
    sync::AccountConfig dst;
    dst.name = "dst";
    dst.connect = proxy.options(2);
    archive::RestoreOptions options;
    options.source_account = "src";
    options.prefix = root + "/";
    options.resume_after_kill = true;
    options.settle_quiet = std::chrono::milliseconds(100);
    auto report = archive::restore_account(dst, *store.catalog, *store.messages, options);
    INFO(describe(report));
    CHECK_FALSE(report.failed());
    auto got = fetch_messages(*target, root + "/" + source.top);
    auto diff = compare(want, got);
    CHECK(diff.lost == 0);
    CHECK(diff.duplicated == 0);
    delete_tree(*target, root);
}
