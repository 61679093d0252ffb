// The config `imapkeep init` writes: one account, every key commented, so the
// file teaches what it sets (the full list: config.example.toml and
// imapkeep.toml(5)).
#include <cstdio>

#include "cli/cmd_init.hpp"

namespace imapkeep::cli {

namespace {

std::string port_of(const InitSettings& s) {
    if (s.port) return std::to_string(*s.port);
    return s.security == "tls" || s.security.empty() ? "993" : "143";
}

std::string tls_value(const std::string& security) {
    if (security == "starttls") return "starttls";
    if (security == "none") return "none";
    return "implicit";
}

std::string password_lines(const InitSettings& s) {
    std::string text =
        "# Where the password comes from (never written here). password_command runs\n"
        "# with /bin/sh -c when a connection needs it; the first line it prints is the\n"
        "# password. password_file: the file's first line (keep it chmod 600).\n";
    if (!s.password_command.empty())
        return text + "password_command = " + toml_string(s.password_command) + "\n";
    return text + "password_file = " + toml_string(s.password_file) + "\n";
}

std::string tls_lines(const InitSettings& s) {
    std::string text =
        "# \"implicit\": TLS from the first byte (port 993); \"starttls\": a plain connection\n"
        "# upgraded with STARTTLS, failing closed; \"none\": no encryption (loopback only).\n"
        "tls = " +
        toml_string(tls_value(s.security)) +
        "\n"
        "port = " +
        port_of(s) + "\n";
    if (s.security == "none")
        text +=
            "# Needed to log in without TLS; set by init only for a loopback host.\n"
            "allow_plaintext_auth = true\n";
    if (!s.ca_file.empty())
        text +=
            "# Trust the CA(s) in this PEM file instead of the system's.\n"
            "ca_file = " +
            toml_string(s.ca_file) + "\n";
    return text;
}

}  // namespace

std::string toml_string(const std::string& value) {
    std::string out = "\"";
    for (unsigned char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string render_init_config(const InitSettings& s) {
    return "# imapkeep configuration, written by `imapkeep init`.\n"
           "# Every key: man 5 imapkeep.toml, or config.example.toml in the package's\n"
           "# documentation (/usr/share/doc/imapkeep/). Check it with: imapkeep doctor\n"
           "\n"
           "[store]\n"
           "# Where the backup goes: a SQLite catalog and a Maildir++ tree (created 0700).\n"
           "path = " +
           toml_string(s.store) +
           "\n"
           "\n"
           "[[account]]\n"
           "# Names the folders STORE/mail/NAME and STORE/attic/NAME.\n"
           "name = " +
           toml_string(s.name) +
           "\n"
           "# The IMAP server and the login name.\n"
           "host = " +
           toml_string(s.host) +
           "\n"
           "user = " +
           toml_string(s.user) + "\n" + tls_lines(s) + password_lines(s) +
           "# LIST patterns of the mailboxes to back up (\"*\": all), and names to skip.\n"
           "mailboxes = [\"*\"]\n"
           "# exclude = [\"Junk\", \"Trash\"]\n";
}

}  // namespace imapkeep::cli
