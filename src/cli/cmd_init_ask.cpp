// init's questions: each value comes from its flag, else from the terminal,
// else (no terminal) it is a usage error naming the flag.
#include "cli/cmd_init_ask.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

namespace imapkeep::cli {

namespace {

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// A name the loader accepts (letters, digits and . _ - @ +, not starting
// with . or -), made from the login name.
std::string account_name_from(const std::string& user) {
    std::string name;
    for (char c : user)
        name += std::isalnum(static_cast<unsigned char>(c)) ||
                        std::string_view("._-@+").find(c) != std::string_view::npos
                    ? c
                    : '-';
    name.erase(0, name.find_first_not_of(".-"));
    return name.empty() ? "mail" : name;
}

std::string default_store() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg && xdg[0] == '/')
        return std::string(xdg) + "/imapkeep";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + "/.local/share/imapkeep";
}

// "~/x" and relative paths as the user meant them at the prompt: from $HOME
// and the current folder (the config anchors relative paths elsewhere).
std::string absolute(const std::string& path) {
    if (path.empty()) return path;
    return std::filesystem::path(resolve_path(path, std::filesystem::current_path().string()))
        .lexically_normal()
        .string();
}

}  // namespace

Asker::Asker(bool interactive, std::istream* in, std::ostream& out)
    : m_interactive(interactive && in != nullptr), m_in(in), m_out(out) {}

std::string Asker::answer(const std::string& question, const std::string& fallback) {
    m_out << question << (fallback.empty() ? "" : " [" + fallback + "]") << ": " << std::flush;
    std::string line;
    if (!std::getline(*m_in, line)) throw InitUsage("no answer (end of input)");
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    return line.empty() ? fallback : line;
}

std::string Asker::value(const std::string& given, const std::string& question,
                         const std::string& flag, const std::string& fallback) {
    if (!given.empty()) return given;
    if (!m_interactive) {
        if (!fallback.empty()) return fallback;
        throw InitUsage(flag + " is required (no terminal to ask on)");
    }
    for (;;) {
        std::string v = answer(question, fallback);
        if (!v.empty()) return v;
    }
}

bool Asker::yes_no(const std::string& question, bool fallback) {
    if (!m_interactive) return fallback;
    for (;;) {
        std::string v;
        try {
            v = answer(question + (fallback ? " [Y/n]" : " [y/N]"), "");
        } catch (const InitUsage&) {
            m_out << "\n";
            return fallback;  // end of input: the default, as for an empty answer
        }
        if (v.empty()) return fallback;
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(v[0])));
        if (c == 'y') return true;
        if (c == 'n') return false;
    }
}

namespace {

void ask_password_source(InitSettings& s, Asker& ask) {
    if (!s.password_command.empty() && !s.password_file.empty())
        throw InitUsage("--password-command and --password-file: give one of them");
    if (!s.password_command.empty() || !s.password_file.empty()) return;
    if (!ask.interactive())
        throw InitUsage(
            "--password-command or --password-file is required (no terminal to ask on)");
    std::string kind = ask.value(
        "", "Password source: a command that prints it, or a file holding it (command/file)", "",
        "command");
    if (kind == "file")
        s.password_file =
            ask.value("", "Password file (first line; keep it chmod 600)", "--password-file");
    else
        s.password_command = ask.value("", "Command printing the password (e.g. pass show mail)",
                                       "--password-command");
}

void ask_security(InitSettings& s, Asker& ask) {
    s.security = ask.value(s.security, "Security: tls (port 993) or starttls (port 143)",
                           "--security", "tls");
    if (s.security != "tls" && s.security != "starttls" && s.security != "none")
        throw InitUsage("--security: \"" + s.security + "\" is not tls, starttls or none");
    if (s.security == "none" && !is_loopback(s.host))
        throw InitUsage(
            "--security none sends the password in clear: only for a loopback host, not " + s.host);
    if (s.port) return;
    const std::string fallback = s.security == "tls" ? "993" : "143";
    const std::string port = ask.value("", "Port", "--port", fallback);
    try {
        std::size_t used = 0;
        s.port = std::stoi(port, &used);
        if (used != port.size() || *s.port < 1 || *s.port > 65535) throw std::out_of_range(port);
    } catch (const std::exception&) {
        throw InitUsage("--port: \"" + port + "\" is not a port number (1 to 65535)");
    }
}

}  // namespace

InitSettings gather_settings(InitSettings s, Asker& ask) {
    s.host = ask.value(s.host, "IMAP server (host name)", "--host");
    ask_security(s, ask);
    s.user = ask.value(s.user, "User name (login)", "--user");
    ask_password_source(s, ask);
    s.store =
        absolute(ask.value(s.store, "Store: where the backup goes", "--store", default_store()));
    s.name = ask.value(s.name, "Account name (names its folders in the store)", "--name",
                       account_name_from(s.user));
    s.password_file = absolute(s.password_file);
    s.ca_file = absolute(s.ca_file);
    return s;
}

}  // namespace imapkeep::cli
