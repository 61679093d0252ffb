#include "cli/config.hpp"

#include "cli/gc_grace.hpp"
#include "cli/oauth2_token.hpp"
#include "cli/provider_presets.hpp"
#include "cli/providers.hpp"
#include "cli/secrets.hpp"

#include <imapkeep/util/fingerprint.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <pwd.h>
#include <set>
#include <sstream>
#include <unistd.h>

namespace imapkeep::cli {

namespace {

// Levenshtein distance, for "did you mean" (keys are short).
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The 'name' in toml++'s "cannot redefine existing string 'name'", as "name".
std::string quoted_name_in(std::string_view description) {
    auto open = description.rfind('\'', description.size() > 1 ? description.size() - 2 : 0);
    auto close = description.rfind('\'');
    if (open == std::string_view::npos || close == open) return "(unknown)";
    return "\"" + std::string(description.substr(open + 1, close - open - 1)) + "\"";
}

// toml++ describes what its parser met; say what the user has to fix.
std::string syntax_error_in_plain_words(std::string_view description) {
    auto has = [&](std::string_view text) { return description.find(text) != std::string_view::npos; };
    if (has("parsing string") && has("control character"))
        return "unterminated string: the closing \" is missing on this line";
    if (has("parsing literal string") && has("control character"))
        return "unterminated string: the closing ' is missing on this line";
    if (has("parsing string") && has("end-of-file"))
        return "unterminated multi-line string: the closing \"\"\" is missing";
    if (has("parsing array"))
        return "unterminated array: the closing ] is missing, or a comma between two items";
    if (has("parsing table header")) return "a [table] header is missing its closing ]";
    if (has("parsing inline table")) return "an inline table { ... } must close with } on the same line";
    if (has("cannot redefine existing")) return "key " + quoted_name_in(description) + " is set twice in the same table";
    return std::string(description);
}

// What a wrong value is, for "expected ..., not the string "abc"".
std::string describe_value(const toml::node& n) {
    if (auto s = n.value<std::string>(); n.is_string() && s) return "the string \"" + *s + "\"";
    if (n.is_integer()) return std::to_string(n.as_integer()->get());
    if (n.is_floating_point()) return "a decimal number";
    if (n.is_boolean()) return n.as_boolean()->get() ? "true" : "false";
    if (n.is_array()) return "an array";
    if (n.is_table()) return "a table";
    return "a date or time";
}

// Reads one TOML table, remembers which keys were asked for so the rest can be
// reported as unknown, and prefixes every error with "FILE:LINE: KEY: ".
class TableReader {
public:
    // `keys`, when given, collects the keys this table was asked for
    // (accepted_config_keys()).
    TableReader(const toml::table& table, std::string prefix, const std::string& file, ConfigKeys* keys = nullptr)
        : m_table(table), m_prefix(std::move(prefix)), m_file(file), m_keys(keys) {}

    [[noreturn]] void fail_at(int line, std::string_view key, const std::string& message) const {
        std::string full = m_prefix.empty() ? std::string(key) : m_prefix + "." + std::string(key);
        throw ConfigError(m_file + ":" + std::to_string(line) + ": " + full + ": " + message);
    }
    [[noreturn]] void fail(std::string_view key, const std::string& message) const {
        fail_at(line_of(key), key, message);
    }
    // The line of a key (or, when absent, of the table header).
    int line_of(std::string_view key) const {
        if (auto it = m_table.find(key); it != m_table.end()) {
            if (it->first.source().begin.line) return static_cast<int>(it->first.source().begin.line);
            if (it->second.source().begin.line) return static_cast<int>(it->second.source().begin.line);
        }
        return table_line();
    }
    int table_line() const {
        int line = static_cast<int>(m_table.source().begin.line);
        return line > 0 ? line : 1;
    }
    bool has(std::string_view key) const { return m_table.contains(key); }

    const toml::node* node(std::string_view key) {
        m_seen.insert(std::string(key));
        return m_table.get(key);
    }

    std::optional<std::string> string(std::string_view key, bool allow_empty = false) {
        const toml::node* n = node(key);
        if (!n) return std::nullopt;
        auto v = n->value<std::string>();
        if (!n->is_string() || !v) fail(key, "expected a string");
        if (!allow_empty && v->empty()) fail(key, "must not be empty");
        return v;
    }
    std::optional<bool> boolean(std::string_view key) {
        const toml::node* n = node(key);
        if (!n) return std::nullopt;
        if (!n->is_boolean()) fail(key, "expected true or false");
        return n->as_boolean()->get();
    }
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
        const toml::node* n = node(key);
        if (!n) return std::nullopt;
        if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max)
            fail(key, "expected an integer between " + std::to_string(min) + " and " +
                          std::to_string(max) + ", not " + describe_value(*n));
        return n->as_integer()->get();
    }
    // An integer or a float (e.g. a delay in seconds: 5, 0.05).
    std::optional<double> number(std::string_view key, double min, double max) {
        const toml::node* n = node(key);
        if (!n) return std::nullopt;
        std::optional<double> v;
        if (n->is_integer()) v = static_cast<double>(n->as_integer()->get());
        if (n->is_floating_point()) v = n->as_floating_point()->get();
        if (!v || !(*v >= min && *v <= max)) {
            std::ostringstream range;
            range << "expected a number between " << min << " and " << max;
            fail(key, range.str());
        }
        return v;
    }
    std::optional<std::string> choice(std::string_view key, std::initializer_list<const char*> allowed) {
        auto v = string(key, true);
        if (!v) return v;
        for (const char* a : allowed)
            if (*v == a) return v;
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + "\"" + a + "\"";
        fail(key, "expected one of " + list + ", not \"" + *v + "\"");
    }
    std::optional<std::vector<std::string>> strings(std::string_view key) {
        const toml::node* n = node(key);
        if (!n) return std::nullopt;
        const toml::array* array = n->as_array();
        if (!array) fail(key, "expected an array of strings");
        std::vector<std::string> out;
        for (const toml::node& item : *array) {
            auto v = item.value<std::string>();
            if (!item.is_string() || !v || v->empty()) fail(key, "expected an array of non-empty strings");
            out.push_back(*v);
        }
        return out;
    }
    const toml::table* table(std::string_view key) {
        const toml::node* n = node(key);
        if (!n) return nullptr;
        if (!n->is_table()) fail(key, "expected a table");
        return n->as_table();
    }

    // Every key that was not asked for is unknown: a typo must not silently
    // turn into a default (e.g. "tls_verfy = true").
    void reject_unknown() const {
        if (m_keys) (*m_keys)[m_prefix].insert(m_seen.begin(), m_seen.end());
        for (const auto& [key, value] : m_table)
            if (!m_seen.count(std::string(key.str()))) fail(key.str(), unknown_key_message(key.str()));
    }

    // "unknown key (did you mean "tls_verify"?)" for a likely typo, else the
    // keys this table takes.
    std::string unknown_key_message(std::string_view key) const {
        std::string best;
        std::size_t best_distance = 3;  // more than two edits is not a typo
        for (const auto& known : m_seen) {
            auto d = edit_distance(key, known);
            if (d < best_distance) {
                best_distance = d;
                best = known;
            }
        }
        if (!best.empty()) return "unknown key (did you mean \"" + best + "\"?)";
        std::string list;
        for (const auto& known : m_seen) list += (list.empty() ? "" : ", ") + known;
        return "unknown key; known keys here: " + list;
    }

    const std::string& prefix() const { return m_prefix; }
    const std::string& file() const { return m_file; }
    ConfigKeys* keys() const { return m_keys; }

private:
    const toml::table& m_table;
    std::string m_prefix;
    const std::string& m_file;
    ConfigKeys* m_keys;
    std::set<std::string> m_seen;
};

std::string base_dir_of(const std::string& file) {
    std::filesystem::path p(file);
    std::filesystem::path parent = p.parent_path();
    if (parent.empty()) parent = ".";
    return std::filesystem::absolute(parent).lexically_normal().string();
}

// An account name becomes a folder (STORE/mail/NAME), so it must stay one.
bool valid_account_name(const std::string& name) {
    if (name.empty() || name.size() > 100 || name[0] == '.' || name[0] == '-') return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
    });
}

// "host:port" or "[v6addr]:port".
bool parse_forward(const std::string& text, std::string& host, int& port) {
    std::string port_text;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) return false;
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    if (host.empty() || port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), [](unsigned char c) { return std::isdigit(c); }))
        return false;
    port = std::stoi(port_text);
    return port >= 1 && port <= 65535;
}

std::string local_user() {
    if (const char* u = std::getenv("USER"); u && *u) return u;
    if (const char* u = std::getenv("LOGNAME"); u && *u) return u;
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
    return "";
}

constexpr std::int64_t kMaxTimeout = 24 * 3600;
constexpr std::int64_t kMaxRetries = 100;

// retries, retry_delay and restore_settle, over `defaults` (the top-level keys for an account).
RetryPolicy parse_retry(TableReader& r, RetryPolicy defaults) {
    if (auto n = r.integer("retries", 0, kMaxRetries)) defaults.retries = static_cast<int>(*n);
    if (auto d = r.number("retry_delay", 0, RetryPolicy::kMaxDelaySeconds)) defaults.delay_seconds = *d;
    if (auto d = r.number("restore_settle", 0, RetryPolicy::kMaxDelaySeconds)) defaults.settle_seconds = *d;
    return defaults;
}

// provider, max_bytes_per_second, max_messages_per_second, daily_download_mb,
// daily_upload_mb:
// the keys set here win over the provider's preset (provider_presets.hpp).
void parse_pacing(TableReader& r, sync::AccountConfig& account, bool connections_set) {
    sync::PacingLimits& p = account.pacing;
    if (auto provider = r.choice("provider", {kProviderNames[0], kProviderNames[1]})) {
        const ProviderPacing preset = *provider_pacing(*provider);
        if (preset.max_connections != 0 && !connections_set)
            account.connections = std::min(account.connections, preset.max_connections);
        p.max_messages_per_second = preset.max_messages_per_second;
        p.daily_download_bytes = preset.daily_download_mb << 20;
        p.daily_upload_bytes = preset.daily_upload_mb << 20;
    }
    if (auto n = r.number("max_bytes_per_second", 0, 1e12)) p.max_bytes_per_second = *n;
    if (auto n = r.number("max_messages_per_second", 0, 1e6)) p.max_messages_per_second = *n;
    if (auto mb = r.integer("daily_download_mb", 0, 1ll << 30)) p.daily_download_bytes = static_cast<std::uint64_t>(*mb) << 20;
    if (auto mb = r.integer("daily_upload_mb", 0, 1ll << 30)) p.daily_upload_bytes = static_cast<std::uint64_t>(*mb) << 20;
}

transport::SshOptions parse_ssh(TableReader& r, const std::string& account_host,
                                const std::string& base_dir, const std::string& account) {
    transport::SshOptions ssh;
    ssh.host = r.string("host").value_or(account_host);
    if (ssh.host.empty()) r.fail("host", "missing (and the account has no host to default to)");
    ssh.port = static_cast<int>(r.integer("port", 1, 65535).value_or(22));
    ssh.user = r.string("user").value_or(local_user());
    if (ssh.user.empty()) r.fail("user", "missing (and the local user name is unknown)");
    if (auto identity = r.string("identity")) ssh.identity = resolve_path(*identity, base_dir);
    const bool openssh = r.choice("engine", {"libssh2", "openssh"}).value_or("libssh2") == "openssh";
    if (openssh) ssh.engine = transport::SshEngine::OpenSsh;
    // ssh runs in BatchMode (a cron run never waits at a prompt), so it has no
    // way to take a secret from us.
    for (const char* key : {"passphrase_command", "password_command"})
        if (openssh && r.string(key))
            r.fail(key, "cannot be used with engine = \"openssh\": ssh runs in BatchMode and never asks; load "
                        "the key into ssh-agent (ssh-add), or use engine = \"libssh2\"");
    if (auto file = r.string("ssh_config")) {
        if (!openssh) r.fail("ssh_config", "applies to engine = \"openssh\" only");
        ssh.ssh_config = *file == "none" ? *file : resolve_path(*file, base_dir);
    }
    if (auto command = r.string("passphrase_command")) {
        std::string what = "account " + account + ": ssh.passphrase_command";
        ssh.passphrase = once([c = *command, what] { return run_secret_command(c, what); });
    }
    if (auto command = r.string("password_command")) {
        std::string what = "account " + account + ": ssh.password_command";
        ssh.password = once([c = *command, what] { return run_secret_command(c, what); });
    }
    ssh.known_hosts = resolve_path(r.string("known_hosts").value_or("~/.ssh/known_hosts"), base_dir);
    ssh.accept_new_host_key = r.boolean("accept_new_host_key").value_or(false);
    auto command = r.string("command");
    auto forward = r.string("forward");
    if (command && forward) r.fail("forward", "only one of command and forward may be set");
    if (!command && !forward) r.fail_at(r.table_line(), "command", "missing: set command (exec mode) or forward");
    if (command) ssh.command = *command;
    if (forward && !parse_forward(*forward, ssh.forward_host, ssh.forward_port))
        r.fail("forward", "expected \"host:port\"");
    if (auto t = r.integer("timeout", 1, kMaxTimeout)) {
        ssh.connect_timeout = std::chrono::seconds(*t);
        ssh.read_timeout = std::chrono::seconds(*t);
    }
    if (auto k = r.integer("keepalive", 0, 3600)) ssh.keepalive_seconds = static_cast<int>(*k);
    r.reject_unknown();
    return ssh;
}

const Provider* parse_provider(TableReader& r) {
    auto name = r.string("provider");
    if (!name) return nullptr;
    if (const Provider* p = find_provider(*name)) return p;
    std::string list;
    for (const auto& n : provider_names()) list += std::string(list.empty() ? "" : ", ") + "\"" + n + "\"";
    r.fail("provider", "expected one of " + list + ", not \"" + *name + "\"");
}

// The first of `keys` that is set, or nullptr; two set -> "only one of".
const char* one_of(TableReader& r, std::initializer_list<const char*> keys) {
    const char* first = nullptr;
    for (const char* key : keys) {
        if (!r.has(key)) continue;
        if (first) r.fail(key, std::string("only one of ") + first + " and " + key + " may be set");
        first = key;
    }
    return first;
}

std::string https_url(TableReader& r, const char* key, std::string_view preset) {
    std::string url = r.string(key).value_or(std::string(preset));
    if (!url.empty() && url.rfind("https://", 0) != 0) r.fail(key, "must be an https:// URL (tokens travel in it)");
    return url;
}

// auth = "oauth2" | "xoauth2" | "oauthbearer" with an OAuth2 client (issue 12):
// a TokenSource renews the access token. Returns nullopt when the account uses
// oauth2_token_command or no OAuth2 at all.
std::optional<OAuth2Settings> parse_oauth2(TableReader& r, const Provider* provider, const std::string& auth,
                                           const std::string& base_dir, const std::string& account,
                                           Config& config) {
    static constexpr const char* kClientKeys[] = {
        "oauth2_client_id", "oauth2_client_secret", "oauth2_client_secret_command", "oauth2_token_url",
        "oauth2_device_url", "oauth2_scopes", "oauth2_refresh_token_command", "oauth2_refresh_token_file",
        "oauth2_refresh_token_store_command", "oauth2_token_cache", "oauth2_ca_file"};
    const bool oauth = auth == "oauth2" || auth == "xoauth2" || auth == "oauthbearer";
    OAuth2Settings s;
    s.account = account;
    auto client_id = r.string("oauth2_client_id");
    s.token_url = https_url(r, "oauth2_token_url", provider ? provider->token_url : "");
    s.device_url = https_url(r, "oauth2_device_url", provider ? provider->device_url : "");
    s.scopes = r.string("oauth2_scopes").value_or(provider ? std::string(provider->scopes) : "");
    auto secret = r.string("oauth2_client_secret");
    auto secret_command = r.string("oauth2_client_secret_command");
    s.refresh_token_command = r.string("oauth2_refresh_token_command").value_or("");
    if (auto f = r.string("oauth2_refresh_token_file")) s.refresh_token_file = resolve_path(*f, base_dir);
    s.refresh_token_store_command = r.string("oauth2_refresh_token_store_command").value_or("");
    s.cache_file = resolve_path(r.string("oauth2_token_cache").value_or(account + ".oauth2.json"), base_dir);
    if (auto ca = r.string("oauth2_ca_file")) s.ca_file = resolve_path(*ca, base_dir);

    for (const char* key : kClientKeys) {
        if (!r.has(key)) continue;
        if (!oauth) r.fail(key, "only used with auth = \"oauth2\", \"xoauth2\" or \"oauthbearer\"");
        if (r.has("oauth2_token_command"))
            r.fail(key, "oauth2_token_command already gives the tokens: set one or the other");
    }
    if (!oauth || r.has("oauth2_token_command")) return std::nullopt;
    if (!client_id)
        r.fail("auth", "auth = \"" + auth + "\" needs oauth2_token_command, or oauth2_client_id with provider or oauth2_token_url");
    if (s.token_url.empty()) r.fail("oauth2_client_id", "needs provider or oauth2_token_url");
    s.client_id = *client_id;
    one_of(r, {"oauth2_client_secret", "oauth2_client_secret_command"});
    one_of(r, {"oauth2_refresh_token_command", "oauth2_refresh_token_file"});
    if (!s.refresh_token_store_command.empty() && s.refresh_token_command.empty())
        r.fail("oauth2_refresh_token_store_command", "only used with oauth2_refresh_token_command");
    const bool readable_ok = r.boolean("allow_readable_secrets").value_or(false);
    // The tokens are secrets like a password: the same refusal when others can read them.
    for (const auto& file : {s.cache_file, s.refresh_token_file})
        if (!file.empty())
            config.secret_files.push_back({file, "the OAuth2 tokens of account " + account, readable_ok, /*token=*/true});
    if (secret) {
        config.secret_files.push_back({config.file, "the OAuth2 client secret of account " + account, readable_ok,
                                       /*token=*/false});
        s.client_secret = [value = *secret] { return value; };
    }
    if (secret_command)
        s.client_secret = once([c = *secret_command, what = "account " + account + ": oauth2_client_secret_command"] {
            return run_secret_command(c, what);
        });
    return s;
}

sync::AccountConfig parse_account(TableReader& r, const std::string& base_dir, Config& config) {
    sync::AccountConfig account;
    auto name = r.string("name");
    if (!name) r.fail_at(r.table_line(), "name", "missing");
    if (!valid_account_name(*name))
        r.fail("name", "must be letters, digits and . _ - @ + (not starting with . or -): it names a folder");
    account.name = *name;
    imap::ConnectOptions& c = account.connect;

    auto local_command = r.string("command");
    const toml::table* ssh_table = r.table("ssh");
    bool preauth = local_command.has_value() || (ssh_table && ssh_table->contains("command"));

    const Provider* provider = parse_provider(r);
    c.host = r.string("host").value_or(provider ? std::string(provider->imap_host) : "");
    if (c.host.empty() && !local_command && !(ssh_table && ssh_table->contains("host")))
        r.fail_at(r.table_line(), "host", "missing");

    auto tls = r.choice("tls", {"implicit", "starttls", "none"});
    if (tls) {
        c.tls = *tls == "implicit" ? imap::TlsMode::Implicit
                : *tls == "starttls" ? imap::TlsMode::StartTls
                                     : imap::TlsMode::None;
    } else {
        // A local or SSH exec command is already a private channel.
        c.tls = preauth ? imap::TlsMode::None : imap::TlsMode::Implicit;
    }
    // An explicit tls with a local command runs TLS over the command's stream
    // (it may be "nc host 143"), and the certificate is checked against host.
    if (local_command && c.tls != imap::TlsMode::None && c.host.empty())
        r.fail("tls", "with command, tls = \"" + *tls +
                          "\" runs TLS over the command's stream and checks the server's certificate "
                          "against host: set host (or remove tls to trust the command as a private channel)");
    // An SSH exec command speaks IMAP on the SSH channel itself: there is no
    // TLS endpoint to talk to, and accepting the key would pretend there is.
    if (ssh_table && ssh_table->contains("command") && c.tls != imap::TlsMode::None)
        r.fail("tls", "does not apply to ssh.command: IMAP runs inside the encrypted SSH session; "
                      "remove tls (or use ssh.forward to reach a TLS port through the tunnel)");
    c.port = static_cast<int>(
        r.integer("port", 1, 65535).value_or(c.tls == imap::TlsMode::Implicit ? 993 : 143));
    if (auto verify = r.boolean("tls_verify")) {
        c.tls_options.verify = *verify;
        if (!*verify)
            config.warnings.push_back(
                "account " + account.name +
                ": tls_verify = false: the server's certificate is NOT checked, so anyone on "
                "the path can read this account's mail and password");
    }
    if (auto ca = r.string("ca_file")) c.tls_options.ca_file = resolve_path(*ca, base_dir);
    if (auto pins = r.strings("tls_fingerprint")) {
        for (const auto& pin : *pins) {
            if (!util::normalize_fingerprint(pin))
                r.fail("tls_fingerprint", "\"" + pin + "\" is not a SHA-256 fingerprint (64 hex digits, "
                                          "e.g. as `openssl x509 -fingerprint -sha256` prints it)");
            c.tls_options.pinned_sha256.push_back(pin);
        }
    }
    c.user = r.string("user").value_or("");
    if (c.user.empty() && !preauth) r.fail_at(r.table_line(), "user", "missing");

    PasswordSource source;
    const char* first_source = nullptr;
    for (const char* key : {"password", "password_file", "password_command"}) {
        if (!r.has(key)) continue;
        if (first_source)
            r.fail(key, std::string("only one of password, password_file, password_command may be set (") +
                            first_source + " is set too)");
        first_source = key;
    }
    source.inline_value = r.string("password");
    if (auto file = r.string("password_file")) source.file = resolve_path(*file, base_dir);
    const bool readable_ok = r.boolean("allow_readable_secrets").value_or(false);
    const std::string holds = "the password of account " + account.name;
    if (source.inline_value) config.secret_files.push_back({config.file, holds, readable_ok, /*token=*/false});
    if (!source.file.empty()) config.secret_files.push_back({source.file, holds, readable_ok, /*token=*/false});
    source.command = r.string("password_command").value_or("");
    c.password = make_password_function(source, account.name);
    const bool needs_password = !first_source && !preauth;

    c.auth = r.choice("auth", {"plain", "login", "cram-md5", "oauth2", "xoauth2", "oauthbearer"}).value_or("");
    auto token_command = r.string("oauth2_token_command");
    bool oauth = c.auth == "oauth2" || c.auth == "xoauth2" || c.auth == "oauthbearer";
    c.master_user = r.string("master_user").value_or("");
    if (!c.master_user.empty() && !c.auth.empty() && c.auth != "plain")
        r.fail("master_user", "logs in with SASL PLAIN (authzid = user): set auth = \"plain\" or remove auth");
    if (token_command && !oauth)
        r.fail("oauth2_token_command", "only used with auth = \"oauth2\", \"xoauth2\" or \"oauthbearer\"");
    if (needs_password && !oauth)
        config.accounts_without_password.push_back(
            r.file() + ":" + std::to_string(r.table_line()) + ": account.password: account " + account.name +
            " has no password source: set password_command, password_file or password (or export "
            "IMAPKEEP_PASSWORD)");
    if (token_command) {
        // Not cached: a token may expire during a long run, and each new
        // connection should get a fresh one.
        std::string what = "account " + account.name + ": oauth2_token_command";
        c.oauth2_token = [cmd = *token_command, what] { return run_secret_command(cmd, what); };
    }
    if (auto oauth2 = parse_oauth2(r, provider, c.auth, base_dir, account.name, config)) {
        use_token_source(c, std::make_shared<TokenSource>(*oauth2, https_poster(oauth2->ca_file)));
        config.oauth2.emplace(account.name, std::move(*oauth2));
    }

    if (auto mailboxes = r.strings("mailboxes")) {
        if (mailboxes->empty()) r.fail("mailboxes", "must list at least one pattern (\"*\" for all)");
        account.mailboxes = *mailboxes;
    }
    account.exclude = r.strings("exclude").value_or(std::vector<std::string>{});
    account.expunged = r.choice("expunged", {"keep", "mirror"}).value_or("keep") == "mirror"
                           ? sync::ExpungedPolicy::Mirror
                           : sync::ExpungedPolicy::Keep;
    account.connections = static_cast<int>(r.integer("connections", 1, 16).value_or(4));
    if (auto ms = r.integer("connection_cost_ms", 0, 60000))
        account.connection_cost = std::chrono::milliseconds(*ms);
    parse_pacing(r, account, r.has("connections"));
    if (auto t = r.integer("timeout", 1, kMaxTimeout)) {
        c.connect_timeout = std::chrono::seconds(*t);
        c.read_timeout = std::chrono::seconds(*t);
    }
    config.account_retry[account.name] = parse_retry(r, config.retry);
    c.allow_plaintext_auth = r.boolean("allow_plaintext_auth").value_or(false);
    c.compress = r.boolean("compress").value_or(false);
    for (auto& e : r.strings("disable_extensions").value_or(std::vector<std::string>{})) {
        for (auto& ch : e) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        c.client.disabled_capabilities.push_back(e);
    }
    account.sync_path = r.choice("sync_path", {"qresync", "condstore", "plain"}).value_or("");
    account.gmail_trash_and_junk = r.boolean("gmail_trash_and_junk").value_or(false);
    account.restore_labels = r.choice("restore_labels", {"folders", "keywords"}).value_or("folders");
    if (local_command) c.command = *local_command;

    if (ssh_table) {
        if (local_command) r.fail("ssh", "cannot be combined with command");
        TableReader sr(*ssh_table, r.prefix() + ".ssh", r.file(), r.keys());
        c.ssh = parse_ssh(sr, c.host, base_dir, account.name);
        if (c.host.empty()) c.host = c.ssh->host;
        if (!c.ssh->forward_host.empty()) {
            // The tunnel is encrypted and authenticated end to end; what runs
            // inside it is between the SSH server and its IMAP server.
            c.allow_plaintext_auth = true;
            if (!tls) c.tls = imap::TlsMode::None;
        }
        if (!c.ssh->read_timeout) c.ssh->read_timeout = c.read_timeout;
    }
    r.reject_unknown();
    return account;
}

}  // namespace

const sync::AccountConfig* Config::find_account(std::string_view name) const {
    for (const auto& a : accounts)
        if (a.name == name) return &a;
    return nullptr;
}

RetryPolicy Config::retry_for(std::string_view account) const {
    auto it = account_retry.find(account);
    return it == account_retry.end() ? retry : it->second;
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
    if (path == "~" || path.rfind("~/", 0) == 0) {
        const char* home = std::getenv("HOME");
        std::string h = home ? home : "";
        return path == "~" ? h : h + path.substr(1);
    }
    if (!path.empty() && path[0] != '/') return (std::filesystem::path(base_dir) / path).lexically_normal().string();
    return path;
}

namespace {

// [store] catalog = "sqlite" (the default) or a PostgreSQL connection string
// or URI; catalog_schema names the PostgreSQL schema (a plain identifier).
void parse_catalog_place(TableReader& sr, Config& config) {
    if (auto catalog = sr.string("catalog")) {
        const bool uri = catalog->starts_with("postgresql://") || catalog->starts_with("postgres://");
        if (uri || catalog->find('=') != std::string::npos)
            config.catalog_postgres = *catalog;
        else if (*catalog != "sqlite")
            sr.fail("catalog",
                    "expected \"sqlite\" or a PostgreSQL connection string "
                    "(\"postgresql://user@host/db\" or \"host=... dbname=...\")");
    }
    if (auto schema = sr.string("catalog_schema")) {
        if (config.catalog_postgres.empty())
            sr.fail("catalog_schema", "only for a PostgreSQL catalog (set store.catalog)");
        const bool plain = std::all_of(schema->begin(), schema->end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        });
        if (!plain || std::isdigit(static_cast<unsigned char>(schema->front())))
            sr.fail("catalog_schema", "expected lower-case letters, digits and _ (not first a digit)");
        config.catalog_schema = *schema;
    }
}

// [store] backend and its [store.s3] table. "postgres+s3" needs a
// PostgreSQL catalog (several machines share it) and the S3 settings.
void parse_store_backend(TableReader& sr, const std::string& base_dir, Config& config) {
    if (auto backend = sr.choice("backend", {"local", "postgres+s3"})) config.store_backend = *backend;
    const toml::table* table = sr.table("s3");
    const bool s3 = config.store_backend == "postgres+s3";
    // An empty [store.s3] is allowed (config.example.toml has one).
    if (table && !table->empty() && !s3) sr.fail("s3", "only for backend = \"postgres+s3\"");
    if (!s3) return;
    if (config.catalog_postgres.empty())
        sr.fail("backend", "\"postgres+s3\" keeps the catalog in PostgreSQL: set store.catalog to its connection string");
    if (!table) sr.fail("backend", "\"postgres+s3\" needs a [store.s3] table (endpoint, bucket, access_key, secret_key_command)");
    TableReader r(*table, "store.s3", sr.file(), sr.keys());
    auto required = [&](const char* key) {
        auto v = r.string(key);
        if (!v) r.fail_at(r.table_line(), key, "missing");
        return *v;
    };
    S3StoreConfig& c = config.s3;
    c.endpoint = required("endpoint");
    if (!c.endpoint.starts_with("https://") && !c.endpoint.starts_with("http://"))
        r.fail("endpoint", "expected an http:// or https:// URL");
    c.bucket = required("bucket");
    c.region = r.string("region").value_or(c.region);
    c.prefix = r.string("prefix").value_or("");
    c.access_key = required("access_key");
    if (auto ca = r.string("ca_file")) c.ca_file = resolve_path(*ca, base_dir);
    if (auto grace = r.string("gc_grace")) {
        auto parsed = parse_gc_grace(*grace);
        if (!parsed) r.fail("gc_grace", "expected a duration like \"7d\", \"36h\", \"90m\" or \"3600s\"");
        c.gc_grace = *parsed;
    }
    if (r.boolean("path_style").value_or(true) == false)
        r.fail("path_style", "only path-style addressing (ENDPOINT/BUCKET/KEY) is supported");
    const auto command = r.string("secret_key_command");
    const auto file = r.string("secret_key_file");
    if (!one_of(r, {"secret_key_command", "secret_key_file"}))
        r.fail_at(r.table_line(), "secret_key_command", "missing: set secret_key_command or secret_key_file");
    if (command) {
        c.secret_key = once([command = *command] {
            return run_secret_command(command, "store.s3.secret_key_command");
        });
    } else {
        const std::string path = resolve_path(*file, base_dir);
        config.secret_files.push_back({path, "the S3 secret key", false, /*token=*/false});
        c.secret_key = once([path] { return read_secret_file(path, "store.s3.secret_key_file"); });
    }
    r.reject_unknown();
}

Config parse_config_collecting(std::string_view text, const std::string& file, ConfigKeys* keys) {
    toml::table root;
    try {
        root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        throw ConfigError(file + ":" + std::to_string(e.source().begin.line) +
                          ": syntax error: " + syntax_error_in_plain_words(e.description()));
    }
    Config config;
    config.file = file;
    const std::string base_dir = base_dir_of(file);
    TableReader top(root, "", file, keys);
    config.retry = parse_retry(top, RetryPolicy{});
    if (auto log = top.string("log_file")) config.log_file = resolve_path(*log, base_dir);
    if (auto mode = top.choice("syslog", {"auto", "yes", "no"})) config.syslog = *mode;

    const toml::table* store = top.table("store");
    if (!store) top.fail_at(1, "store.path", "missing: where should the backup go?");
    TableReader sr(*store, "store", file, keys);
    auto path = sr.string("path");
    if (!path) sr.fail_at(sr.table_line(), "path", "missing");
    config.store_path = resolve_path(*path, base_dir);
    parse_catalog_place(sr, config);
    parse_store_backend(sr, base_dir, config);
    sr.reject_unknown();

    const toml::node* accounts = top.node("account");
    // A worker fleet's accounts live in its PostgreSQL catalog (`imapkeep
    // accounts`); its config may hold none, or only templates.
    if (!accounts && !config.catalog_postgres.empty()) {
        top.reject_unknown();
        return config;
    }
    if (!accounts) top.fail_at(1, "account", "missing: add at least one [[account]]");
    const toml::array* array = accounts->as_array();
    if (!array || !array->is_array_of_tables())
        top.fail("account", "expected [[account]] tables");
    for (const toml::node& item : *array) {
        TableReader ar(*item.as_table(), "account", file, keys);
        sync::AccountConfig account = parse_account(ar, base_dir, config);
        if (config.find_account(account.name))
            ar.fail("name", "duplicate account name \"" + account.name + "\"");
        config.accounts.push_back(std::move(account));
    }
    top.reject_unknown();
    return config;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& file) {
    return parse_config_collecting(text, file, nullptr);
}

ConfigKeys accepted_config_keys() {
    // Uses every table; the readers ask for every key of their table whatever
    // its value, so what they asked for is what reject_unknown() accepts.
    static constexpr std::string_view kEveryTable =
        "[store]\npath = \"/\"\nbackend = \"postgres+s3\"\ncatalog = \"postgresql://h/d\"\n"
        "[store.s3]\nendpoint = \"http://h\"\nbucket = \"b\"\naccess_key = \"k\"\n"
        "secret_key_command = \"c\"\n"
        "[[account]]\nname = \"a\"\n"
        "[account.ssh]\nhost = \"h\"\nuser = \"u\"\ncommand = \"imap\"\n";
    ConfigKeys keys;
    parse_config_collecting(kEveryTable, "accepted_config_keys.toml", &keys);
    return keys;
}

Config load_config(const std::string& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        throw ConfigError(file + ": is a directory, not a config file; pass --config FILE");
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        const int error = errno;
        // A first run: say how to get a config, not only that there is none.
        const std::string hint = error == ENOENT
                                     ? "run `imapkeep init` to write one, or pass --config FILE "
                                       "(config.example.toml, installed with the documentation, lists every key)"
                                     : "see config.example.toml, or pass --config FILE";
        throw ConfigError(file + ": cannot read the config file (" + std::strerror(error) + "); " + hint);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), file);
}

std::string default_config_path() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg && xdg[0] == '/')
        return std::string(xdg) + "/imapkeep/config.toml";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + "/.config/imapkeep/config.toml";
}

}  // namespace imapkeep::cli
