// The openssh engine (issue 10): `ssh` as a child process. It is spawned from
// an argv (child_process.hpp), never through a shell. Its stderr is read while
// the stream waits: at LogLevel DEBUG1, the lines before "Authenticated to"
// tell the negotiated cipher, the host key it saw and, if it gives up, why; the
// lines after are the remote command's stderr. connect() returns once ssh
// says it has authenticated, so host key and authentication failures surface
// there, with the kinds the libssh2 engine gives.
#include "transport/openssh.hpp"

#include "transport/child_process.hpp"
#include "transport/ssh_detail.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace imapkeep::transport::openssh {
namespace {

using Kind = TransportError::Kind;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The AEAD ciphers first: aes-gcm uses AES-NI and needs no separate MAC. The
// '^' puts them at the head of ssh's default list, so a server offering none
// of them still finds one it has.
constexpr const char* kCiphers = "^aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";
constexpr std::size_t kStderrKept = 4096;
// How long a failed ssh may take to exit and finish its stderr.
constexpr milliseconds kExitWait{2000};

bool has_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

[[noreturn]] void refuse(const std::string& what, const std::string& why) {
    throw TransportError(Kind::Ssh, "ssh: cannot pass " + what + " to OpenSSH's ssh: " + why +
                                        " (the libssh2 engine takes it as it is)");
}

void check_host(const std::string& host) {
    if (host.empty()) refuse("an empty host", "ssh needs a destination");
    if (host.front() == '-') refuse("host \"" + host + "\"", "it starts with '-', which ssh reads as an option");
    if (host.find_first_of("@/ \t") != std::string::npos || has_control(host))
        refuse("host \"" + host + "\"", "a host name holds no '@', '/', blank or control character");
}

// A path ssh expands %-tokens and ${VAR} in (IdentityFile, UserKnownHostsFile).
std::string expansion_escaped(const std::string& path, const std::string& key) {
    if (path.find("${") != std::string::npos) refuse(key + " \"" + path + "\"", "ssh expands \"${\" in it");
    if (has_control(path)) refuse(key, "it holds a control character");
    std::string out;
    for (char c : path) {
        out += c;
        if (c == '%') out += '%';
    }
    return out;
}

// `-o Key=value` is split like a config line: quoted, with \ " ' escaped.
std::string config_quoted(const std::string& value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '\\' || c == '"' || c == '\'') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string forward_target(const SshOptions& o) {
    const bool ipv6 = o.forward_host.find(':') != std::string::npos;
    return (ipv6 ? "[" + o.forward_host + "]" : o.forward_host) + ":" + std::to_string(o.forward_port);
}

std::string first_line(std::string_view text) {
    std::string line(text.substr(0, text.find('\n')));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

bool contains(std::string_view text, std::string_view needle) { return text.find(needle) != std::string_view::npos; }

// What ssh writes on stderr, sorted as it arrives. Lines before "Authenticated
// to" are ssh's own; after it, they come from the remote command too, so
// nothing said there can pose as a host key or authentication failure.
class SshLog {
public:
    void feed(std::string_view chunk) {
        m_partial.append(chunk);
        std::size_t end;
        while ((end = m_partial.find('\n')) != std::string::npos) {
            take(first_line(m_partial));
            m_partial.erase(0, end + 1);
        }
        // A line longer than we keep cannot be told apart anyway.
        if (m_partial.size() > kStderrKept) m_partial.clear();
    }
    void finish() {
        if (!m_partial.empty()) take(first_line(m_partial));
        m_partial.clear();
    }
    bool authenticated() const { return m_authenticated; }
    const std::string& before_auth() const { return m_before; }
    const std::string& after_auth() const { return m_after; }
    const std::string& cipher() const { return m_cipher; }
    const std::string& host_key() const { return m_host_key; }

private:
    void take(const std::string& line) {
        if (line.empty()) return;
        if (m_authenticated) {
            if (!line.starts_with("debug1: ") && line.find("Transferred: ") != 0 &&
                line.find("Bytes per second: ") != 0)
                keep(m_after, line);
            return;
        }
        if (line.starts_with("Authenticated to ")) {
            m_authenticated = true;
        } else if (line.starts_with("debug1: kex: server->client cipher: ")) {
            std::string rest = line.substr(sizeof "debug1: kex: server->client cipher: " - 1);
            m_cipher = rest.substr(0, rest.find(' '));
        } else if (line.starts_with("debug1: Server host key: ")) {
            m_host_key = line.substr(sizeof "debug1: Server host key: " - 1);
        } else if (!line.starts_with("debug")) {
            keep(m_before, line);
        }
    }
    static void keep(std::string& into, const std::string& line) {
        if (into.size() + line.size() + 1 > kStderrKept) return;
        into += line + "\n";
    }

    std::string m_partial;
    std::string m_before;
    std::string m_after;
    std::string m_cipher;
    std::string m_host_key;  // "ssh-ed25519 SHA256:..."
    bool m_authenticated = false;
};

std::string joined(const std::string& lines) {
    std::string out = lines;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

// Where ssh may add a new key as the libssh2 engine would: ssh 9.2 adds it
// only in an existing directory, and right after a last line that has no
// newline, gluing the two.
void prepare_known_hosts(const std::string& path) {
    const std::filesystem::path file(path);
    std::error_code ec;
    if (file.has_parent_path() && !std::filesystem::exists(file.parent_path(), ec)) {
        std::filesystem::create_directories(file.parent_path(), ec);
        std::filesystem::permissions(file.parent_path(), std::filesystem::perms::owner_all, ec);
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) return;  // ssh creates it
    char last = '\n';
    const off_t size = ::lseek(fd, 0, SEEK_END);
    if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n' && ::write(fd, "\n", 1) != 1) {
        const int err = errno;
        ::close(fd);
        throw TransportError(Kind::Io, "ssh: cannot end the last line of " + path + ": " + std::strerror(err));
    }
    ::close(fd);
}

class OpenSshStream final : public Stream {
public:
    explicit OpenSshStream(SshOptions options) : m_options(std::move(options)) {}
    ~OpenSshStream() override { close(); }
    OpenSshStream(const OpenSshStream&) = delete;
    OpenSshStream& operator=(const OpenSshStream&) = delete;

    void open();
    const std::string& cipher() const { return m_log.cipher(); }

    std::size_t read_some(std::span<char> buffer) override;
    void write_all(std::string_view data) override;
    void close() noexcept override {
        if (m_child) m_child->close();
    }
    void set_read_timeout(std::optional<milliseconds> timeout) override {
        m_read_timeout = timeout;
        if (m_child) m_child->set_read_timeout(timeout);
    }
    std::size_t pending() const override { return m_buffered.size(); }
    int native_handle() const override { return m_child ? m_child->native_handle() : -1; }
    std::string describe() const override;

private:
    bool exec_mode() const { return !m_options.command.empty(); }
    std::string name() const { return ssh_detail::known_hosts_name(m_options.host, m_options.port); }
    [[noreturn]] void fail_ended();
    [[noreturn]] void fail_before_auth(int exit_code);
    std::size_t finish_eof();

    SshOptions m_options;
    std::optional<milliseconds> m_read_timeout;
    std::unique_ptr<detail::ChildStream> m_child;
    SshLog m_log;
    std::string m_buffered;  // stdout bytes read while waiting for authentication
    std::uint64_t m_received = 0;
    bool m_eof = false;
};

void OpenSshStream::open() {
    std::vector<std::string> argv = build_argv(m_options);
    if (m_options.accept_new_host_key) prepare_known_hosts(ssh_detail::expand_home(m_options.known_hosts));
    detail::ChildSpec spec;
    spec.argv = std::move(argv);
    spec.on_stderr = [this](std::string_view chunk) { m_log.feed(chunk); };
    spec.description = describe();
    spec.own_process_group = true;  // BatchMode: it never reads the terminal
    spec.read_timeout = m_read_timeout = m_options.read_timeout;
    spec.environment = ssh_environment(std::getenv("GLIBC_TUNABLES"));
    try {
        m_child = std::make_unique<detail::ChildStream>(std::move(spec));
    } catch (const TransportError& e) {
        throw TransportError(Kind::Ssh, std::string("ssh: engine = \"openssh\" cannot run `") +
                                            m_options.program + "`: " + e.what() +
                                            " (install OpenSSH's client, or use the libssh2 engine)");
    }
    std::optional<Clock::time_point> deadline;
    if (m_options.connect_timeout) deadline = Clock::now() + *m_options.connect_timeout;
    while (!m_log.authenticated()) {
        switch (m_child->wait_event(deadline)) {
        case detail::ChildStream::Event::Stderr:
            continue;
        case detail::ChildStream::Event::Timeout: {
            std::string message = "ssh: connecting to " + name() + " timed out";
            if (!m_log.before_auth().empty()) message += ": " + joined(m_log.before_auth());
            throw TransportError(Kind::Timeout, message);
        }
        case detail::ChildStream::Event::Stdout: {
            char buffer[4096];
            const std::size_t n = m_child->read_some(buffer);
            if (n == 0) fail_ended();
            m_buffered.append(buffer, n);  // bytes before the log line: the session is up
            m_received += n;
            return;
        }
        }
    }
}

// ssh ended: its exit status and stderr say why.
void OpenSshStream::fail_ended() {
    m_eof = true;
    const auto deadline = Clock::now() + kExitWait;
    m_child->drain_stderr_until(deadline);
    m_log.finish();
    int code = -1;
    if (m_child->wait_exit(kExitWait) && m_child->exit_status() && WIFEXITED(*m_child->exit_status()))
        code = WEXITSTATUS(*m_child->exit_status());
    if (!m_log.authenticated()) fail_before_auth(code);
    std::string message;
    if (exec_mode() && code != 255) {
        // The remote command ended before a single byte, as in the libssh2 engine.
        std::string status = code >= 0 ? "exited with status " + std::to_string(code) : "closed its output";
        message = "ssh: remote command `" + m_options.command + "` on " + m_options.user + "@" + name() + " " +
                  status + " without any output";
        if (const std::string line = first_line(m_log.after_auth()); !line.empty()) message += ": " + line;
    } else {
        message = "ssh: " + describe() + " ended";
        if (code >= 0) message += " (ssh exited with status " + std::to_string(code) + ")";
        if (!m_log.after_auth().empty()) message += ": " + joined(m_log.after_auth());
    }
    throw TransportError(Kind::Ssh, message);
}

void OpenSshStream::fail_before_auth(int exit_code) {
    const std::string said = joined(m_log.before_auth());
    const std::string offered = m_log.host_key().empty()
                                    ? std::string("a key")
                                    : m_log.host_key().substr(0, m_log.host_key().find(' ')) + " key " +
                                          m_log.host_key().substr(m_log.host_key().find(' ') + 1);
    const std::string path = ssh_detail::expand_home(m_options.known_hosts);
    switch (classify_failure(m_log.before_auth())) {
    case Kind::HostKey:
        if (contains(said, "HAS CHANGED") || contains(said, "has changed"))
            throw TransportError(
                Kind::HostKey,
                "ssh: the host key of " + name() + " has CHANGED: the server offers " + offered +
                    ", which differs from the one in " + path +
                    ". Someone may be intercepting the connection, or the server was reinstalled. "
                    "Check the new fingerprint out of band, then remove the old entry (ssh-keygen -R '" +
                    name() + "' -f " + path +
                    ") and connect again. accept_new_host_key never replaces a changed key.");
        if (contains(said, "is known for"))
            throw TransportError(Kind::HostKey,
                                 "ssh: the host key of " + name() + " is unknown: the server offers " + offered +
                                     ". Check the fingerprint out of band, then add it to " + path +
                                     " (e.g. ssh-keyscan" +
                                     (m_options.port != 22 ? " -p " + std::to_string(m_options.port) : "") + " " +
                                     m_options.host + " >> " + path +
                                     "), or set accept_new_host_key = true to trust a new key on first connect.");
        throw TransportError(Kind::HostKey, "ssh: the host key of " + name() + " (" + offered +
                                                ") was refused: " + said);
    case Kind::Auth:
        throw TransportError(Kind::Auth, "ssh: authentication as " + m_options.user + "@" + name() +
                                             " failed: " + said);
    default:
        break;
    }
    std::string message = "ssh: cannot connect to " + name();
    if (!said.empty()) message += ": " + said;
    if (exit_code >= 0 && exit_code != 255) message += " (ssh exited with status " + std::to_string(exit_code) + ")";
    throw TransportError(classify_failure(m_log.before_auth()), message);
}

std::size_t OpenSshStream::finish_eof() {
    if (m_received == 0) fail_ended();
    m_eof = true;
    return 0;
}

std::size_t OpenSshStream::read_some(std::span<char> buffer) {
    if (!m_child) throw TransportError(Kind::Closed, "ssh: stream is closed");
    if (!m_buffered.empty() && !buffer.empty()) {
        const std::size_t n = std::min(buffer.size(), m_buffered.size());
        std::copy_n(m_buffered.data(), n, buffer.data());
        m_buffered.erase(0, n);
        return n;
    }
    if (m_eof) {
        m_child->read_some(buffer);  // Closed after close(), else EOF again
        return 0;
    }
    const std::size_t n = m_child->read_some(buffer);
    if (n == 0 && !buffer.empty()) return finish_eof();
    m_received += n;
    return n;
}

void OpenSshStream::write_all(std::string_view data) {
    if (!m_child) throw TransportError(Kind::Closed, "ssh: stream is closed");
    m_child->write_all(data);
}

std::string OpenSshStream::describe() const {
    std::string text = "ssh (openssh) " + m_options.user + "@" + name();
    if (exec_mode()) return text + " exec `" + m_options.command + "`";
    return text + " forward " + m_options.forward_host + ":" + std::to_string(m_options.forward_port);
}

}  // namespace

std::vector<std::string> ssh_environment(const char* inherited_tunables) {
    if (inherited_tunables) return {};
    // 32 MiB, glibc's largest dynamic threshold; trimming the heap's top only
    // past twice that.
    return {
        "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864"};
}

std::vector<std::string> build_argv(const SshOptions& o) {
    check_host(o.host);
    if (o.user.empty() || has_control(o.user)) refuse("user \"" + o.user + "\"", "it is empty or holds a control character");
    if (o.passphrase || o.password)
        throw TransportError(Kind::Auth, "ssh: engine = \"openssh\" runs ssh in BatchMode, which never asks for a "
                                         "passphrase or password: load the key into ssh-agent (ssh-add), or use "
                                         "engine = \"libssh2\" for passphrase_command / password_command");
    const bool exec = !o.command.empty();
    if (!exec && (o.forward_host.empty() || o.forward_port <= 0))
        throw TransportError(Kind::Ssh, "ssh: neither a command (exec mode) nor a forward target is set");
    if (!exec && (o.forward_host.find_first_of("@/ \t") != std::string::npos || has_control(o.forward_host)))
        refuse("forward host \"" + o.forward_host + "\"", "a host name holds no '@', '/', blank or control character");

    std::vector<std::string> argv = {o.program};
    auto option = [&argv](const std::string& setting) {
        argv.push_back("-o");
        argv.push_back(setting);
    };
    if (!o.ssh_config.empty()) {
        argv.push_back("-F");
        argv.push_back(o.ssh_config == "none" ? "none" : ssh_detail::expand_home(o.ssh_config));
    }
    // No tty (the stream is binary), no X11 or agent forwarding.
    argv.insert(argv.end(), {"-T", "-x", "-a"});
    argv.insert(argv.end(), {"-p", std::to_string(o.port), "-l", o.user});
    if (!o.identity.empty()) {
        argv.push_back("-i");
        argv.push_back(expansion_escaped(ssh_detail::expand_home(o.identity), "identity"));
        option("IdentitiesOnly=yes");
    }
    option("BatchMode=yes");
    option("UserKnownHostsFile=" +
           config_quoted(expansion_escaped(ssh_detail::expand_home(o.known_hosts), "known_hosts")));
    option("GlobalKnownHostsFile=/dev/null");
    option("KnownHostsCommand=none");
    option(std::string("StrictHostKeyChecking=") + (o.accept_new_host_key ? "accept-new" : "yes"));
    // What the libssh2 engine does with a new key: one plain line, nothing else.
    option("HashKnownHosts=no");
    option("UpdateHostKeys=no");
    option("CheckHostIP=no");
    option("VerifyHostKeyDNS=no");
    if (o.connect_timeout) {
        const auto seconds = std::max<long long>(1, (o.connect_timeout->count() + 999) / 1000);
        option("ConnectTimeout=" + std::to_string(seconds));
    }
    option("ConnectionAttempts=1");
    option("ServerAliveInterval=" + std::to_string(std::max(0, o.keepalive_seconds)));
    option("ServerAliveCountMax=3");
    option(std::string("Ciphers=") + kCiphers);
    option("Compression=no");  // IMAP has COMPRESS=DEFLATE
    // Nothing from an ssh_config may turn this into another kind of session.
    option("ClearAllForwardings=yes");
    option("ExitOnForwardFailure=yes");
    option("ControlMaster=no");
    option("ControlPath=none");
    option("PermitLocalCommand=no");
    option("RemoteCommand=none");
    option("RequestTTY=no");
    option("EscapeChar=none");
    option("ForkAfterAuthentication=no");
    option("StdinNull=no");
    if (exec) option("SessionType=default");  // -W sets its own
    // DEBUG1 tells the cipher and the host key; the lines are sorted (SshLog).
    option("LogLevel=DEBUG1");
    if (!exec) {
        argv.push_back("-W");
        argv.push_back(forward_target(o));
    }
    argv.push_back("--");
    argv.push_back(o.host);
    if (exec) argv.push_back(o.command);  // run by the remote user's shell, as with libssh2
    return argv;
}

TransportError::Kind classify_failure(std::string_view text) {
    if (contains(text, "Host key verification failed") || contains(text, "REMOTE HOST IDENTIFICATION HAS CHANGED") ||
        contains(text, "REVOKED HOST KEY"))
        return Kind::HostKey;
    if (contains(text, "Permission denied")) return Kind::Auth;
    if (contains(text, "Could not resolve hostname")) return Kind::Resolve;
    if (contains(text, "timed out")) return Kind::Timeout;
    if (contains(text, "Connection refused") || contains(text, "Network is unreachable") ||
        contains(text, "No route to host") || contains(text, "Connection reset") ||
        contains(text, "Connection closed"))
        return Kind::Io;
    return Kind::Ssh;
}

StreamPtr connect(const SshOptions& options) {
    auto stream = std::make_unique<OpenSshStream>(options);
    stream->open();
    return stream;
}

std::string check(const SshOptions& options) {
    OpenSshStream stream(options);
    stream.open();
    std::string cipher = stream.cipher().empty() ? "unknown" : stream.cipher();
    stream.close();
    return "openssh (" + options.program + "), cipher " + cipher;
}

}  // namespace imapkeep::transport::openssh
