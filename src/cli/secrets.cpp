#include "cli/secrets.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <mutex>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace imapkeep::cli {

namespace {

std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace

namespace {

// The command's stdout (only as much as can hold the first line) and the first
// line of its stderr. Its stderr is passed on to ours as it comes, so a prompt
// still shows; it is kept only to name the cause when the command fails.
struct CommandOutput {
    std::string out;
    std::string err_first_line;
};

CommandOutput collect(int out_fd, int err_fd) {
    CommandOutput output;
    std::string err;
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    char buffer[4096];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (auto& f : fds) {
            if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(f.fd, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ::close(f.fd);
                f.fd = -1;
                continue;
            }
            // Read to EOF so the command never dies of SIGPIPE, but only hold
            // on to what can be the first line.
            std::string& keep = &f == &fds[0] ? output.out : err;
            if (keep.find('\n') == std::string::npos) keep.append(buffer, static_cast<size_t>(n));
            if (&f == &fds[1]) {
                ssize_t ignored = ::write(STDERR_FILENO, buffer, static_cast<size_t>(n));
                (void)ignored;
            }
        }
    }
    output.err_first_line = first_line(err);
    return output;
}

std::string because(const std::string& err_first_line) {
    return err_first_line.empty() ? "" : ": " + err_first_line;
}

}  // namespace

std::string run_secret_command(const std::string& command, const std::string& what) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        throw SecretError(what + ": cannot create a pipe: " + std::strerror(errno));
    if (pipe2(err, O_CLOEXEC) != 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        throw SecretError(what + ": cannot create a pipe: " + std::strerror(e));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
        throw SecretError(what + ": cannot fork: " + std::strerror(e));
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: the engine may
        // have threads running.
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    CommandOutput output = collect(out[0], err[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status))
        throw SecretError(what + ": command killed by signal " + std::to_string(WTERMSIG(status)) +
                          because(output.err_first_line));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw SecretError(what + ": command exited with status " +
                          std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                          because(output.err_first_line));
    std::string line = first_line(output.out);
    if (line.empty()) throw SecretError(what + ": command printed nothing" + because(output.err_first_line));
    return line;
}

std::string read_secret_file(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SecretError(what + ": cannot read " + path + ": " + std::strerror(errno));
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw SecretError(what + ": " + path + " is empty");
    return line;
}

std::function<std::string()> once(std::function<std::string()> fetch) {
    struct State {
        std::mutex mutex;
        bool done = false;
        std::string value;
        std::string error;
        std::function<std::string()> fetch;
    };
    auto state = std::make_shared<State>();
    state->fetch = std::move(fetch);
    return [state]() -> std::string {
        std::lock_guard lock(state->mutex);
        if (!state->done) {
            try {
                state->value = state->fetch();
            } catch (const std::exception& e) {
                state->error = e.what();
            }
            state->done = true;
        }
        if (!state->error.empty()) throw SecretError(state->error);
        return state->value;
    };
}

std::function<std::string()> make_password_function(const PasswordSource& source,
                                                    const std::string& account) {
    const std::string prefix = "account " + account + ": ";
    if (source.inline_value) {
        std::string value = *source.inline_value;
        return [value] { return value; };
    }
    if (!source.file.empty()) {
        std::string file = source.file;
        std::string what = prefix + "password_file";
        return once([file, what] { return read_secret_file(file, what); });
    }
    if (!source.command.empty()) {
        std::string command = source.command;
        std::string what = prefix + "password_command";
        return once([command, what] { return run_secret_command(command, what); });
    }
    return once([prefix]() -> std::string {
        if (const char* env = std::getenv("IMAPKEEP_PASSWORD"); env && *env) return env;
        throw SecretError(prefix +
                          "no password: set password_command, password_file or password, "
                          "or IMAPKEEP_PASSWORD");
    });
}

}  // namespace imapkeep::cli
