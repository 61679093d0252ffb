// The built imapkeep binary as a child process, run to its end or killed with
// SIGKILL at a chosen moment, as a crash or `kill -9` would stop it. Output
// goes to files in a directory the caller owns.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace imapkeep::testing {

struct ChildResult {
    int code = -1;        // exit status, or 128 + signal
    bool killed = false;  // our SIGKILL ended it (it had not exited yet)
    double seconds = 0;   // from fork to its end
    std::string out, err;
};

inline std::string slurp_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Forks and execs argv[0] (searched in PATH) with stdout/stderr to the given files.
inline pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
                   const std::filesystem::path& err) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0) _exit(126);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

// Waits for `pid`; with `kill_after`, sends SIGKILL at that moment after
// `started` unless the child has exited by then. The child is not reaped
// before the kill, so its pid cannot have been reused.
inline ChildResult wait_child(pid_t pid, std::chrono::steady_clock::time_point started,
                              std::optional<std::chrono::microseconds> kill_after) {
    using Clock = std::chrono::steady_clock;
    int status = 0;
    bool sent_kill = false;
    for (;;) {
        pid_t done = ::waitpid(pid, &status, kill_after && !sent_kill ? WNOHANG : 0);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
        if (done < 0) continue;
        auto deadline = started + *kill_after;
        auto now = Clock::now();
        if (now >= deadline) {
            ::kill(pid, SIGKILL);
            sent_kill = true;
            continue;
        }
        std::this_thread::sleep_for(
            std::min<Clock::duration>(deadline - now, std::chrono::microseconds(500)));
    }
    ChildResult r;
    r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        r.code = 128 + WTERMSIG(status);
        r.killed = sent_kill && WTERMSIG(status) == SIGKILL;
    }
    return r;
}

// Runs `imapkeep ARGS...` from the build tree; output in DIR/out.txt, DIR/err.txt.
inline ChildResult run_imapkeep_binary(const std::vector<std::string>& args,
                                       const std::filesystem::path& dir,
                                       std::optional<std::chrono::microseconds> kill_after = {}) {
    std::vector<std::string> argv{std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto out = dir / "out.txt", err = dir / "err.txt";
    auto started = std::chrono::steady_clock::now();
    pid_t pid = spawn(argv, out, err);
    ChildResult r = wait_child(pid, started, kill_after);
    r.out = slurp_file(out);
    r.err = slurp_file(err);
    return r;
}

// `cp -a FROM/. TO`: a store copy that keeps modes and mtimes (a Maildir file's
// mtime is its INTERNALDATE).
inline void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to);
    auto started = std::chrono::steady_clock::now();
    pid_t pid = spawn({"cp", "-a", (from / ".").string(), to.string()}, "/dev/null", "/dev/null");
    if (wait_child(pid, started, std::nullopt).code != 0)
        throw std::runtime_error("cp -a " + from.string() + " " + to.string() + " failed");
}

}  // namespace imapkeep::testing
