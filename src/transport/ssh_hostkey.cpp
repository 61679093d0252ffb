// Host key verification against an OpenSSH known_hosts file (sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"): plain and hashed ("|1|salt|hash") host names, "[host]:port"
// for ports other than 22, and @revoked markers.
#include "transport/ssh_detail.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace imapkeep::transport::ssh_detail {
namespace {

struct KnownHostsDeleter {
    void operator()(LIBSSH2_KNOWNHOSTS* hosts) const { libssh2_knownhost_free(hosts); }
};
using KnownHostsPtr = std::unique_ptr<LIBSSH2_KNOWNHOSTS, KnownHostsDeleter>;

struct HostKey {
    std::string_view blob;  // raw key as the server sent it
    std::string name;       // "ssh-ed25519", ...
    int knownhost_type = 0; // LIBSSH2_KNOWNHOST_KEY_*
};

HostKey session_host_key(LIBSSH2_SESSION* session) {
    std::size_t length = 0;
    int type = LIBSSH2_HOSTKEY_TYPE_UNKNOWN;
    const char* key = libssh2_session_hostkey(session, &length, &type);
    if (key == nullptr) {
        throw TransportError(TransportError::Kind::Ssh,
                             "ssh: the server sent no host key: " + last_error(session));
    }
    HostKey result;
    result.blob = std::string_view(key, length);
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
        result = {result.blob, "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA};
        break;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
        result = {result.blob, "ssh-dss", LIBSSH2_KNOWNHOST_KEY_SSHDSS};
        break;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
        result = {result.blob, "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256};
        break;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
        result = {result.blob, "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384};
        break;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
        result = {result.blob, "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521};
        break;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
        result = {result.blob, "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519};
        break;
    default:
        throw TransportError(TransportError::Kind::HostKey,
                             "ssh: the server's host key has a type libssh2 cannot check");
    }
    return result;
}

std::string base64(std::string_view bytes, bool pad) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    if (!pad) {
        while (!out.empty() && out.back() == '=') {
            out.pop_back();
        }
    }
    return out;
}

std::string read_file_or_empty(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// Loads known_hosts line by line. libssh2_knownhost_readfile() gives up on the
// first line it cannot parse, and real files hold key types libssh2 1.10 does
// not know (sk-*, certificates): those lines are skipped, not fatal. Returns
// true if an @revoked line lists `key`.
bool load_known_hosts(LIBSSH2_KNOWNHOSTS* hosts, const std::string& content, const HostKey& key) {
    const std::string key_base64 = base64(key.blob, true);
    bool revoked = false;
    std::istringstream lines(content);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.starts_with("@revoked")) {
            // "@revoked hostpatterns keytype base64 [comment]"
            std::istringstream fields(line);
            std::string marker, patterns, type, blob;
            fields >> marker >> patterns >> type >> blob;
            revoked = revoked || blob == key_base64;
            continue;
        }
        if (line.starts_with("@")) {
            continue;  // @cert-authority: no certificate support in libssh2
        }
        libssh2_knownhost_readline(hosts, line.data(), line.size(),
                                   LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    }
    return revoked;
}

// Appends one line, keeping every existing line (including those libssh2
// cannot parse) byte for byte.
void append_line(const std::string& path, const std::string& existing, std::string line) {
    const std::filesystem::path file(path);
    if (file.has_parent_path()) {
        std::error_code ec;
        if (!std::filesystem::exists(file.parent_path(), ec)) {
            std::filesystem::create_directories(file.parent_path(), ec);
            std::filesystem::permissions(file.parent_path(), std::filesystem::perms::owner_all,
                                         ec);
        }
    }
    if (!existing.empty() && existing.back() != '\n') {
        line.insert(0, "\n");
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw TransportError(TransportError::Kind::Io,
                             "ssh: cannot add the host key to " + path + ": " + std::strerror(errno));
    }
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            throw TransportError(TransportError::Kind::Io, "ssh: cannot add the host key to " +
                                                               path + ": " + std::strerror(saved));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        throw TransportError(TransportError::Kind::Io,
                             "ssh: cannot add the host key to " + path + ": " + std::strerror(errno));
    }
}

std::string keyscan_hint(const SshOptions& options) {
    std::string hint = "ssh-keyscan ";
    if (options.port != 22) {
        hint += "-p " + std::to_string(options.port) + " ";
    }
    return hint + options.host;
}

}  // namespace

std::string known_hosts_name(const std::string& host, int port) {
    if (port == 22) {
        return host;
    }
    return "[" + host + "]:" + std::to_string(port);
}

std::string host_key_fingerprint(LIBSSH2_SESSION* session) {
    const char* hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256);
    if (hash == nullptr) {
        return "SHA256:(unavailable)";
    }
    return "SHA256:" + base64(std::string_view(hash, 32), false);
}

void verify_host_key(LIBSSH2_SESSION* session, const SshOptions& options) {
    const HostKey key = session_host_key(session);
    const std::string path = expand_home(options.known_hosts);
    const std::string name = known_hosts_name(options.host, options.port);
    const std::string fingerprint = host_key_fingerprint(session);
    const std::string offered = key.name + " key " + fingerprint;

    KnownHostsPtr hosts(libssh2_knownhost_init(session));
    if (!hosts) {
        throw_ssh_error(session, libssh2_session_last_errno(session), "known_hosts init");
    }
    const std::string content = read_file_or_empty(path);
    if (load_known_hosts(hosts.get(), content, key)) {
        throw TransportError(TransportError::Kind::HostKey,
                             "ssh: the host key of " + name + " (" + offered +
                                 ") is marked @revoked in " + path + "; refusing to connect");
    }

    const int type_mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key.knownhost_type;
    // checkp() matches plain and hashed names, and "[host]:port" when port != 22.
    const int check = libssh2_knownhost_checkp(hosts.get(), options.host.c_str(), options.port,
                                               key.blob.data(), key.blob.size(), type_mask, nullptr);
    switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
        return;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
        throw TransportError(
            TransportError::Kind::HostKey,
            "ssh: the host key of " + name + " has CHANGED: the server offers " + offered +
                ", which differs from the one in " + path +
                ". Someone may be intercepting the connection, or the server was reinstalled. "
                "Check the new fingerprint out of band (on the server: ssh-keygen -lf <host key>.pub), "
                "then remove the old entry (ssh-keygen -R '" + name + "' -f " + path +
                ") and connect again. accept_new_host_key never replaces a changed key.");
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
        break;
    default:
        throw TransportError(TransportError::Kind::HostKey,
                             "ssh: cannot check the host key of " + name + " against " + path +
                                 ": " + last_error(session));
    }

    if (!options.accept_new_host_key) {
        throw TransportError(
            TransportError::Kind::HostKey,
            "ssh: the host key of " + name + " is unknown: the server offers " + offered +
                ". Check the fingerprint out of band, then add the line `" + name + " " +
                key.name + " " + base64(key.blob, true) + "` to " + path + " (e.g. " +
                keyscan_hint(options) + " >> " + path +
                "), or set accept_new_host_key = true to trust a new key on first connect.");
    }

    libssh2_knownhost* added = nullptr;
    const int rc = libssh2_knownhost_addc(hosts.get(), name.c_str(), nullptr, key.blob.data(),
                                          key.blob.size(), nullptr, 0, type_mask, &added);
    if (rc != 0 || added == nullptr) {
        throw_ssh_error(session, rc, "cannot add the host key of " + name);
    }
    std::vector<char> line(64 * 1024);
    std::size_t line_length = 0;
    const int written = libssh2_knownhost_writeline(hosts.get(), added, line.data(), line.size(),
                                                    &line_length, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    if (written != 0) {
        throw_ssh_error(session, written, "cannot format the known_hosts line for " + name);
    }
    append_line(path, content, std::string(line.data(), line_length));
}

}  // namespace imapkeep::transport::ssh_detail
