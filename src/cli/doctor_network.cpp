// doctor's per-account checks: DNS, TCP, TLS or SSH, login, capabilities and
// the sync path, each a named step; a step whose prerequisite failed is left
// out (its line would only repeat the cause).
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <imapkeep/transport/ssh.hpp>
#include <imapkeep/transport/tcp.hpp>

#include "cli/doctor.hpp"

namespace imapkeep::cli {

namespace {

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

bool has(const std::vector<std::string>& caps, std::string_view cap) {
    return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

// Where the account's bytes go first: the SSH server, or the IMAP server.
struct Endpoint {
    std::string host;
    int port = 0;
};

CheckResult check_dns(const std::string& name, const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const auto start = Clock::now();
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0)
        return fail(name, host + ": " + ::gai_strerror(rc),
                    "check the host name (and the DNS of this machine)");
    std::vector<std::string> addresses;
    for (addrinfo* a = found; a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* raw =
            a->ai_family == AF_INET
                ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
        if (::inet_ntop(a->ai_family, raw, text, sizeof text) && !has(addresses, text))
            addresses.push_back(text);
    }
    ::freeaddrinfo(found);
    return ok(name, host + " -> " + join(addresses, ", ") + " (" + std::to_string(ms_since(start)) +
                        " ms)");
}

CheckResult check_tcp(const std::string& name, const Endpoint& to,
                      const imap::ConnectOptions& options) {
    const std::string where = to.host + ":" + std::to_string(to.port);
    const auto start = Clock::now();
    try {
        transport::connect_tcp(to.host, to.port, {options.connect_timeout, options.read_timeout})
            ->close();
    } catch (const transport::TransportError& e) {
        return fail(name, where + ": " + e.what(),
                    "is the server up, and the port right? A firewall may drop the connection");
    }
    return ok(name, where + " connected in " + std::to_string(ms_since(start)) + " ms");
}

// SSH alone (host key and authentication), before IMAP runs over it.
CheckResult check_ssh(const std::string& name, const transport::SshOptions& ssh,
                      const imap::ConnectOptions& o) {
    auto options = ssh;
    if (!options.read_timeout) options.read_timeout = o.read_timeout;
    std::string negotiated;
    try {
        negotiated = transport::check_ssh(options);
    } catch (const transport::TransportError& e) {
        using K = transport::TransportError::Kind;
        if (e.kind() == K::HostKey)
            return fail(name, std::string("host key: ") + e.what(),
                        "check the fingerprint with the server's admin, then add it to " +
                            ssh.known_hosts +
                            " (ssh-keyscan) or set accept_new_host_key = true once");
        if (e.kind() == K::Auth)
            return fail(name, std::string("authentication: ") + e.what(),
                        "check [account.ssh] user and identity, or ssh-agent (ssh-add -l)");
        if (std::string(e.what()).find("engine = \"openssh\" cannot run") != std::string::npos)
            return fail(name, e.what(), "install OpenSSH's client (openssh-client), or set engine = \"libssh2\"");
        return fail(name, e.what(), "check [account.ssh] host and port");
    }
    return ok(name, ssh.user + "@" + ssh.host + ":" + std::to_string(ssh.port) +
                        ": host key known, logged in; engine " + negotiated);
}

std::string login_detail(const sync::AccountConfig& account) {
    const auto& o = account.connect;
    if (!o.command.empty() || (o.ssh && !o.ssh->command.empty()))
        return "session ready (the command is PREAUTH)";
    return "logged in as " + o.user + (o.auth.empty() ? "" : " (auth = " + o.auth + ")");
}

bool needs_tls_probe(const imap::ConnectOptions& o) {
    return o.tls != imap::TlsMode::None && !o.ssh && o.command.empty();
}

// DNS, TCP and TLS (or SSH): false when a failure makes logging in pointless.
bool check_transport(const sync::AccountConfig& account, std::vector<CheckResult>& out) {
    const auto& o = account.connect;
    const std::string prefix = account.name + ": ";
    if (!o.ssh && !o.command.empty()) {
        out.push_back(ok(prefix + "transport", "local command: " + o.command));
        return true;
    }
    const Endpoint to = o.ssh ? Endpoint{o.ssh->host, o.ssh->port} : Endpoint{o.host, o.port};
    out.push_back(check_dns(prefix + "dns", to.host));
    if (out.back().status == CheckStatus::Fail) return false;
    out.push_back(check_tcp(prefix + "tcp", to, o));
    if (out.back().status == CheckStatus::Fail) return false;
    if (o.ssh) {
        out.push_back(check_ssh(prefix + "ssh", *o.ssh, o));
        return out.back().status != CheckStatus::Fail;
    }
    if (!needs_tls_probe(o)) {
        out.push_back(warn(prefix + "tls", "none: the connection is not encrypted",
                           "use tls = \"implicit\" or \"starttls\" unless this is loopback"));
        return true;
    }
    out.push_back(tls_check(prefix + "tls", probe_tls(o)));
    return out.back().status != CheckStatus::Fail;
}

}  // namespace

std::string predicted_sync_path(const std::vector<std::string>& caps,
                                const std::string& sync_path) {
    const bool any = sync_path.empty();
    if (has(caps, "QRESYNC") && has(caps, "ENABLE") && (any || sync_path == "qresync"))
        return "QRESYNC";
    if ((has(caps, "CONDSTORE") || has(caps, "QRESYNC")) &&
        (any || sync_path == "qresync" || sync_path == "condstore"))
        return "CONDSTORE";
    return "plain";
}

CheckResult sync_path_check(const std::string& name, const std::vector<std::string>& caps,
                            const std::string& sync_path,
                            const std::vector<std::string>& disabled) {
    std::string detail = predicted_sync_path(caps, sync_path);
    std::vector<std::string> why;
    if (!sync_path.empty()) why.push_back("sync_path = \"" + sync_path + "\"");
    if (!disabled.empty()) why.push_back("disable_extensions = " + join(disabled, ", "));
    if (!why.empty()) detail += " (" + join(why, "; ") + ")";
    if (detail.rfind("plain", 0) == 0 && predicted_sync_path(caps, "") == "plain" &&
        sync_path.empty())
        detail +=
            ": the server offers neither QRESYNC nor CONDSTORE, so flags are compared in full each "
            "run";
    return ok(name, detail);
}

CheckResult connect_failure_check(const std::string& name, imap::ConnectError::Kind kind,
                                  const std::string& message) {
    using K = imap::ConnectError::Kind;
    switch (kind) {
        case K::Auth:
            return fail(
                name, message,
                "check user, and that password_command / password_file gives the right password "
                "(run the command by hand); some servers want an app password");
        case K::Tls:
            return fail(name, message, "check tls, port, ca_file and tls_fingerprint");
        case K::HostKey:
            return fail(name, message, "check the SSH host key and known_hosts");
        case K::Network:
            return fail(name, message, "is the server up and reachable? backup would retry this");
        case K::Protocol:
            break;
    }
    return fail(name, message,
                "the server answered something imapkeep did not expect; try -vv with backup");
}

std::vector<CheckResult> check_account(const sync::AccountConfig& account) {
    std::vector<CheckResult> out;
    if (!check_transport(account, out)) return out;
    const std::string prefix = account.name + ": ";
    std::unique_ptr<imap::Client> client;
    try {
        client = imap::connect_and_login(account.connect);
    } catch (const imap::ConnectError& e) {
        out.push_back(connect_failure_check(prefix + "login", e.kind(), e.what()));
        return out;
    } catch (const std::exception& e) {
        out.push_back(
            connect_failure_check(prefix + "login", imap::ConnectError::Kind::Protocol, e.what()));
        return out;
    }
    out.push_back(ok(prefix + "login", login_detail(account)));
    const std::vector<std::string> caps = client->capabilities();
    out.push_back(ok(prefix + "capabilities", join(caps, " ")));
    out.push_back(sync_path_check(prefix + "sync path", caps, account.sync_path,
                                  account.connect.client.disabled_capabilities));
    client->logout();
    return out;
}

}  // namespace imapkeep::cli
