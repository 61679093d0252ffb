// Host key verification against an OpenSSH known_hosts file (sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"): plain and hashed ("|1|salt|hash") host names, "[host]:port"
// for ports other than 22, and @revoked markers.
#include "transport/ssh_detail.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

std::string base64_decode(std::string_view text) {
    std::string out(3 * (text.size() / 4) + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return {};
    }
    // EVP_DecodeBlock counts the padding as zero bytes.
    std::size_t length = static_cast<std::size_t>(n);
    for (auto it = text.rbegin(); it != text.rend() && *it == '=' && length > 0; ++it) {
        --length;
    }
    out.resize(length);
    return out;
}

// Does one known_hosts host field name `name`? Plain comma-separated names
// (exact match only, like libssh2) or a hashed "|1|base64(salt)|base64(hmac)"
// where hmac = HMAC-SHA1(salt, name).
bool host_field_matches(std::string_view field, const std::string& name) {
    if (field.starts_with("|1|")) {
        const std::string_view rest = field.substr(3);
        const std::size_t bar = rest.find('|');
        if (bar == std::string_view::npos) {
            return false;
        }
        const std::string salt = base64_decode(rest.substr(0, bar));
        const std::string expected = base64_decode(rest.substr(bar + 1));
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_length = 0;
        if (HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()),
                 reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest,
                 &digest_length) == nullptr) {
            return false;
        }
        return expected == std::string_view(reinterpret_cast<char*>(digest), digest_length);
    }
    std::size_t start = 0;
    while (start <= field.size()) {
        std::size_t end = field.find(',', start);
        if (end == std::string_view::npos) {
            end = field.size();
        }
        if (field.substr(start, end - start) == name) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

// Host key algorithms for one key type as known_hosts names it.
std::string algorithms_for(const std::string& key_type) {
    if (key_type == "ssh-rsa") {
        return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
    }
    return key_type;
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

std::string host_key_preference(const SshOptions& options) {
    // OpenSSH's default order, minus what libssh2 1.10 lacks. libssh2's own
    // default puts ECDSA first, so a server with several host keys would show
    // one known_hosts does not have and be refused as "unknown".
    static const char* const kDefaultOrder[] = {
        "ssh-ed25519",  "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"};
    const std::string name = known_hosts_name(options.host, options.port);
    std::vector<std::string> order;
    auto add = [&order](const std::string& algorithms) {
        std::size_t start = 0;
        while (start < algorithms.size()) {
            std::size_t end = algorithms.find(',', start);
            if (end == std::string::npos) {
                end = algorithms.size();
            }
            std::string algorithm = algorithms.substr(start, end - start);
            if (std::find(order.begin(), order.end(), algorithm) == order.end()) {
                order.push_back(std::move(algorithm));
            }
            start = end + 1;
        }
    };
    // Types already known for this host go first, as ssh(1) does, so the
    // server presents a key we can check.
    std::istringstream lines(read_file_or_empty(expand_home(options.known_hosts)));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#' || line[0] == '@') {
            continue;
        }
        std::istringstream fields(line);
        std::string hosts, type;
        fields >> hosts >> type;
        if (!type.empty() && host_field_matches(hosts, name)) {
            add(algorithms_for(type));
        }
    }
    for (const char* algorithm : kDefaultOrder) {
        add(algorithm);
    }
    std::string result;
    for (const std::string& algorithm : order) {
        result += (result.empty() ? "" : ",") + algorithm;
    }
    return result;
}

}  // namespace imapkeep::transport::ssh_detail
