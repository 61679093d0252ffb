// SSH user authentication (RFC 4252): ssh-agent, key file, then password or
// keyboard-interactive (RFC 4256) with the configured password. Every attempt
// is recorded so a failure says what was tried and why each method failed.
#include "transport/ssh_detail.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace imapkeep::transport::ssh_detail {
namespace {

struct AgentDeleter {
    void operator()(LIBSSH2_AGENT* agent) const {
        libssh2_agent_disconnect(agent);
        libssh2_agent_free(agent);
    }
};

bool offers(const std::string& methods, std::string_view method) {
    std::size_t start = 0;
    while (start <= methods.size()) {
        std::size_t end = methods.find(',', start);
        if (end == std::string::npos) {
            end = methods.size();
        }
        if (std::string_view(methods).substr(start, end - start) == method) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

// A failure of the connection itself ends authentication at once: no other
// method can succeed on a dead socket.
void rethrow_if_fatal(LIBSSH2_SESSION* session, int rc) {
    if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_SEND ||
        rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
        rc == LIBSSH2_ERROR_SOCKET_TIMEOUT) {
        throw_ssh_error(session, rc, "authentication");
    }
}

std::string why(LIBSSH2_SESSION* session, int rc) {
    switch (rc) {
    case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
    case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
        return "rejected by server";
    case LIBSSH2_ERROR_FILE:
        return "cannot load the key (wrong passphrase or unsupported format)";
    default:
        return last_error(session);
    }
}

// Attempts with ssh-agent; returns true once authenticated.
bool try_agent(LIBSSH2_SESSION* session, const std::string& user, std::vector<std::string>& tried) {
    const char* socket = std::getenv("SSH_AUTH_SOCK");
    if (socket == nullptr || *socket == '\0') {
        tried.push_back("ssh-agent: SSH_AUTH_SOCK not set");
        return false;
    }
    std::unique_ptr<LIBSSH2_AGENT, AgentDeleter> agent(libssh2_agent_init(session));
    if (!agent || libssh2_agent_connect(agent.get()) != 0 ||
        libssh2_agent_list_identities(agent.get()) != 0) {
        tried.push_back("ssh-agent: cannot use " + std::string(socket) + " (" + last_error(session) + ")");
        return false;
    }
    int offered = 0;
    libssh2_agent_publickey* identity = nullptr;
    for (;;) {
        const int next = libssh2_agent_get_identity(agent.get(), &identity, identity);
        if (next != 0) {
            break;  // 1 = no more identities, < 0 = error; either way stop
        }
        ++offered;
        const int rc = libssh2_agent_userauth(agent.get(), user.c_str(), identity);
        if (rc == 0) {
            return true;
        }
        rethrow_if_fatal(session, rc);
    }
    tried.push_back(offered == 0 ? "ssh-agent: no identities"
                                 : "ssh-agent: " + std::to_string(offered) +
                                       " identities rejected by server");
    return false;
}

bool try_key_file(LIBSSH2_SESSION* session, const SshOptions& options,
                  std::vector<std::string>& tried) {
    const std::string path = expand_home(options.identity);
    const std::string label = "publickey (" + options.identity + ")";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        tried.push_back(label + ": file not found");
        return false;
    }
    // Try without a passphrase first so a passphrase_command only runs for an
    // encrypted key. The public key is derived from the private one (OpenSSL).
    int rc = libssh2_userauth_publickey_fromfile(session, options.user.c_str(), nullptr,
                                                 path.c_str(), "");
    if (rc == LIBSSH2_ERROR_FILE && options.passphrase) {
        const std::string passphrase = options.passphrase();
        rc = libssh2_userauth_publickey_fromfile(session, options.user.c_str(), nullptr,
                                                 path.c_str(), passphrase.c_str());
    }
    if (rc == 0) {
        return true;
    }
    rethrow_if_fatal(session, rc);
    tried.push_back(label + ": " + why(session, rc));
    return false;
}

struct KbdContext {
    const std::string* password = nullptr;
};

// Answers every prompt with the password, as ssh(1) does for a PAM password
// prompt. Responses are freed by libssh2 with free().
void kbd_callback(const char*, int, const char*, int, int num_prompts,
                  const LIBSSH2_USERAUTH_KBDINT_PROMPT*,
                  LIBSSH2_USERAUTH_KBDINT_RESPONSE* responses, void** abstract) {
    const auto* context = static_cast<const KbdContext*>(*abstract);
    for (int i = 0; i < num_prompts; ++i) {
        if (context == nullptr || context->password == nullptr) {
            responses[i].text = nullptr;
            responses[i].length = 0;
            continue;
        }
        const std::string& password = *context->password;
        auto* text = static_cast<char*>(std::malloc(password.size() + 1));
        if (text != nullptr) {
            std::memcpy(text, password.c_str(), password.size() + 1);
        }
        responses[i].text = text;
        responses[i].length = text != nullptr ? static_cast<unsigned int>(password.size()) : 0;
    }
}

bool try_password(LIBSSH2_SESSION* session, const SshOptions& options, const std::string& methods,
                  std::vector<std::string>& tried) {
    const bool password_offered = offers(methods, "password");
    const bool kbd_offered = offers(methods, "keyboard-interactive");
    if (!options.password) {
        tried.push_back("password: not configured");
        return false;
    }
    if (!password_offered && !kbd_offered) {
        tried.push_back("password: not offered by server (offers: " + methods + ")");
        return false;
    }
    const std::string password = options.password();
    if (password_offered) {
        const int rc = libssh2_userauth_password(session, options.user.c_str(), password.c_str());
        if (rc == 0) {
            return true;
        }
        rethrow_if_fatal(session, rc);
        tried.push_back("password: " + why(session, rc));
    }
    if (kbd_offered) {
        KbdContext context{&password};
        void** abstract = libssh2_session_abstract(session);
        void* previous = *abstract;
        *abstract = &context;
        const int rc = libssh2_userauth_keyboard_interactive(session, options.user.c_str(),
                                                             &kbd_callback);
        *abstract = previous;
        if (rc == 0) {
            return true;
        }
        rethrow_if_fatal(session, rc);
        tried.push_back("keyboard-interactive: " + why(session, rc));
    }
    return false;
}

}  // namespace

void authenticate(LIBSSH2_SESSION* session, const SshOptions& options) {
    // Asking for the method list sends "none", which some servers accept.
    const char* list = libssh2_userauth_list(session, options.user.c_str(),
                                             static_cast<unsigned int>(options.user.size()));
    if (list == nullptr) {
        if (libssh2_userauth_authenticated(session)) {
            return;
        }
        const int rc = libssh2_session_last_errno(session);
        rethrow_if_fatal(session, rc);
        throw_ssh_error(session, rc, "cannot list authentication methods");
    }
    const std::string methods = list;
    std::vector<std::string> tried;

    if (offers(methods, "publickey")) {
        // The agent goes first: it holds the keys the user has unlocked.
        if ((options.identity.empty() || std::getenv("SSH_AUTH_SOCK") != nullptr) &&
            try_agent(session, options.user, tried)) {
            return;
        }
        if (!options.identity.empty() && try_key_file(session, options, tried)) {
            return;
        }
    } else {
        tried.push_back("publickey: not offered by server (offers: " + methods + ")");
    }
    if (try_password(session, options, methods, tried)) {
        return;
    }

    std::string message = "ssh: authentication as " + options.user + "@" +
                          known_hosts_name(options.host, options.port) + " failed: ";
    for (std::size_t i = 0; i < tried.size(); ++i) {
        message += (i == 0 ? "" : "; ") + tried[i];
    }
    throw TransportError(TransportError::Kind::Auth, message);
}

}  // namespace imapkeep::transport::ssh_detail
