#include "cli/secrets.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <mutex>
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

std::string run_secret_command(const std::string& command, const std::string& what) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw SecretError(what + ": cannot create a pipe: " + std::strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        throw SecretError(what + ": cannot fork: " + std::strerror(e));
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: the engine may
        // have threads running.
        dup2(fds[1], STDOUT_FILENO);
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    std::string output;
    char buffer[4096];
    for (;;) {
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n > 0) {
            // Keep reading to EOF so the command never dies of SIGPIPE, but
            // only hold on to what can be the first line.
            if (output.find('\n') == std::string::npos) output.append(buffer, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status))
        throw SecretError(what + ": command killed by signal " + std::to_string(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw SecretError(what + ": command exited with status " +
                          std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    std::string line = first_line(output);
    if (line.empty()) throw SecretError(what + ": command printed nothing");
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
