// Ctrl-C through the real binary against the test Dovecot (issue 11): SIGINT
// once the first messages are stored stops the run at a durable boundary with
// "interrupted: N messages saved; the next run resumes" and exit 130; status
// shows the run as interrupted; the next run ends with the store equal to the
// server. --log-file gets the same events, each with its account and mailbox.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "support/scratch_store.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

constexpr int kMessages = 2500;
constexpr const char* kAccount = "ik";

std::string message(int n) {
    std::string m = "From: s@example.org\r\nSubject: interrupt test " + std::to_string(n) +
                    "\r\nMessage-ID: <interrupt." + std::to_string(n) + "@example.org>\r\n\r\n";
    while (m.size() < 8000)
        m += "line of message " + std::to_string(n) + " the quick brown fox\r\n";
    return m;
}

std::string write_config(const fs::path& dir, const std::string& mailbox) {
    auto path = dir / "config.toml";
    std::ofstream(path) << "[store]\npath = \"" << (dir / "store").string() << "\"\n\n"
                        << "[[account]]\nname = \"" << kAccount
                        << "\"\nhost = \"localhost\"\nport = "
                        << env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993")
                        << "\ntls = \"implicit\"\n"
                        << "ca_file = \"" << env("IMAPKEEP_TEST_CA_FILE").value_or("") << "\"\n"
                        << "user = \"" << test_user(1) << "\"\npassword = \"" << test_password(1)
                        << "\"\n"
                        << "connections = 1\nmailboxes = [\"" << mailbox << "\"]\n";
    ::chmod(path.c_str(), 0600);
    ::chmod(dir.c_str(), 0700);
    return path.string();
}

bool any_stored(const fs::path& store) {
    std::error_code ec;
    if (!fs::exists(store / "mail", ec)) return false;
    for (auto it = fs::recursive_directory_iterator(store / "mail", ec); !ec && it != fs::end(it);
         it.increment(ec))
        if (it->is_regular_file(ec) && it->path().parent_path().filename() == "cur") return true;
    return false;
}

// SIGINT as soon as the first message file is in cur/ (its batch is being
// committed), then waits for the process.
ChildResult run_and_interrupt(const std::vector<std::string>& args, const fs::path& dir) {
    std::vector<std::string> argv{std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto started = std::chrono::steady_clock::now();
    pid_t pid = spawn(argv, dir / "out.txt", dir / "err.txt");
    bool sent = false;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (!sent && any_stored(dir / "store")) {
            ::kill(pid, SIGINT);
            sent = true;
        }
        if (std::chrono::steady_clock::now() - started > std::chrono::seconds(120))
            ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ChildResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp_file(dir / "out.txt");
    r.err = slurp_file(dir / "err.txt");
    return r;
}

std::set<std::uint32_t> server_uids(imap::Client& admin, const std::string& mailbox) {
    std::set<std::uint32_t> uids;
    admin.select(mailbox, true);
    for (const auto& uid : admin.uid_search(imap::SearchKey::all()).uids.to_vector(1000000)) uids.insert(uid.value);
    admin.unselect();
    return uids;
}

std::vector<std::uint32_t> stored_uids(const fs::path& store_path, const std::string& mailbox) {
    Store store(store_path);
    std::vector<std::uint32_t> uids;
    auto account = store.catalog->find_account(kAccount);
    if (!account) return uids;
    auto record = store.catalog->find_mailbox(*account, mailbox);
    if (!record) return uids;
    for (const auto& m : store.catalog->messages(record->id)) uids.push_back(m.uid);
    return uids;
}

std::size_t files_in_cur(const fs::path& store) {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(store / "mail"))
        if (e.is_regular_file() && e.path().parent_path().filename() == "cur") ++n;
    return n;
}

}  // namespace

TEST_CASE("Ctrl-C through the binary: stops cleanly, says so, the next run resumes",
          "[integration][cli][interrupt]") {
    if (!testing::have_dovecot_env()) return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string mailbox = unique_name("ikint");
    admin->create(mailbox);
    // MULTIAPPEND in batches: one command (and one server fsync) per 100.
    for (int n = 1; n <= kMessages;) {
        std::vector<imap::AppendMessage> batch;
        for (; n <= kMessages && batch.size() < 100; ++n)
            batch.push_back({{}, std::nullopt, message(n)});
        const auto count = batch.size();
        admin->finish_multiappend(admin->submit_multiappend(mailbox, std::move(batch)), count);
    }
    const auto on_server = server_uids(*admin, mailbox);
    REQUIRE(on_server.size() == static_cast<std::size_t>(kMessages));

    TempDir dir;
    const auto config = write_config(dir.path, mailbox);
    const auto log = (dir.path / "run.log").string();

    auto first = run_and_interrupt({"backup", "--config", config, "--log-file", log}, dir.path);
    INFO("stderr: " << first.err);
    CHECK(first.code == 130);
    std::smatch m;
    const std::string err = first.err;
    REQUIRE(std::regex_search(
        err, m, std::regex("interrupted: (\\d+) messages? saved; the next run resumes\n$")));
    const auto saved = std::stoul(m[1]);
    const auto kept = stored_uids(dir.path / "store", mailbox);
    CHECK(saved == kept.size());
    CHECK(saved > 0);
    CHECK(saved < static_cast<std::size_t>(kMessages));

    auto status = run_imapkeep_binary({"status", "--config", config}, dir.path);
    CHECK(status.code == 0);
    CHECK_THAT(status.out, Catch::Contains("(interrupted; the next backup resumes it)"));

    std::string logged = slurp_file(log);
    CHECK_THAT(logged, Catch::Contains(" info backup started: 1 account (ik)\n"));
    CHECK_THAT(logged, Catch::Contains(" warning " + m[0].str()));
    CHECK_THAT(logged, Catch::Contains(" warning backup finished: interrupted, exit 130;"));

    auto second = run_imapkeep_binary({"backup", "--config", config, "--log-file", log}, dir.path);
    INFO("second run: " << second.err);
    CHECK(second.code == 0);
    auto after = stored_uids(dir.path / "store", mailbox);
    CHECK(std::set<std::uint32_t>(after.begin(), after.end()) == on_server);
    CHECK(after.size() == on_server.size());  // no UID twice
    CHECK(files_in_cur(dir.path / "store") == on_server.size());
    CHECK(run_imapkeep_binary({"verify", "--config", config}, dir.path).code == 0);

    // The second run's mailbox line, with its account and mailbox, and the
    // count it fetched: the rest.
    logged = slurp_file(log);
    const std::string line = " info account=\"ik\" mailbox=\"" + mailbox + "\" ";
    CHECK_THAT(logged, Catch::Contains(line));
    CHECK_THAT(logged, Catch::Contains(std::to_string(kMessages - saved) + " new ("));
    CHECK_THAT(logged, Catch::Contains(" info backup finished: ok, exit 0;"));
    admin->delete_mailbox(mailbox);
}
