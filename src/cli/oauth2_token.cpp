#include "cli/oauth2_token.hpp"

#include "cli/secrets.hpp"

#include <imapkeep/util/files.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace imapkeep::cli {

namespace {

using nlohmann::json;
using std::chrono::system_clock;
using Kind = imap::ConnectError::Kind;

std::string prefix(const OAuth2Settings& s) { return "account " + s.account + ": "; }

std::string auth_hint(const OAuth2Settings& s) {
    return "run `imapkeep auth " + s.account + "` to authorize imapkeep again";
}

void pipe_to_command(const std::string& command, const std::string& secret, const std::string& what) {
    FILE* pipe = ::popen(command.c_str(), "w");
    if (!pipe) throw OAuth2Error(Kind::Auth, what + ": cannot run the command");
    std::fputs((secret + "\n").c_str(), pipe);
    const int status = ::pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw OAuth2Error(Kind::Auth, what + ": command failed (status " +
                                          std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
}

}  // namespace

TokenCache read_token_cache(const std::string& path) {
    TokenCache cache;
    std::ifstream in(path, std::ios::binary);
    if (!in) return cache;
    std::ostringstream text;
    text << in.rdbuf();
    json j = json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return cache;
    // A field of the wrong type (an edited file) counts as missing.
    auto string_at = [&](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    cache.refresh_token = string_at("refresh_token");
    cache.access_token = string_at("access_token");
    if (auto it = j.find("expires_at"); it != j.end() && it->is_number_integer())
        cache.expires_at = system_clock::time_point(std::chrono::seconds(it->get<long long>()));
    return cache;
}

void write_token_cache(const std::string& path, const TokenCache& cache) {
    json j = json::object();
    if (!cache.refresh_token.empty()) j["refresh_token"] = cache.refresh_token;
    if (!cache.access_token.empty()) {
        j["access_token"] = cache.access_token;
        j["expires_at"] =
            std::chrono::duration_cast<std::chrono::seconds>(cache.expires_at.time_since_epoch()).count();
    }
    util::write_file_atomic(path, j.dump(2) + "\n");
}

void store_refresh_token(const OAuth2Settings& s, const std::string& refresh_token) {
    if (!s.refresh_token_store_command.empty()) {
        pipe_to_command(s.refresh_token_store_command, refresh_token,
                        prefix(s) + "oauth2_refresh_token_store_command");
        return;
    }
    if (!s.refresh_token_file.empty()) {
        try {
            util::write_file_atomic(s.refresh_token_file, refresh_token + "\n");
        } catch (const std::exception& e) {
            throw OAuth2Error(Kind::Auth, prefix(s) + "oauth2_refresh_token_file: " + e.what());
        }
        return;
    }
    if (!s.refresh_token_command.empty())
        throw OAuth2Error(Kind::Auth, prefix(s) +
                                          "the new refresh token has nowhere to go: oauth2_refresh_token_command "
                                          "only reads it; set oauth2_refresh_token_store_command");
    TokenCache cache = read_token_cache(s.cache_file);
    cache.refresh_token = refresh_token;
    try {
        write_token_cache(s.cache_file, cache);
    } catch (const std::exception& e) {
        throw OAuth2Error(Kind::Auth, prefix(s) + "token cache: " + e.what());
    }
}

OAuth2Error token_endpoint_error(const OAuth2Settings& s, const TokenReply& reply) {
    const std::string why = reply.error + (reply.error_description.empty() ? "" : ": " + reply.error_description);
    if (reply.error == "invalid_grant")
        return OAuth2Error(Kind::Auth, prefix(s) + "the OAuth2 refresh token was refused (" + why +
                                           "); it expired or was revoked: " + auth_hint(s));
    if (reply.error == "invalid_client" || reply.error == "unauthorized_client")
        return OAuth2Error(Kind::Auth, prefix(s) + "the token endpoint refused client id " + s.client_id + " (" +
                                           why + "): check oauth2_client_id and oauth2_client_secret");
    // A server in trouble may be fine again on the next attempt.
    if (reply.status >= 500 || reply.status == 429)
        return OAuth2Error(Kind::Network, prefix(s) + "token endpoint " + s.token_url + ": " + why);
    return OAuth2Error(Kind::Auth, prefix(s) + "token endpoint " + s.token_url + " refused: " + why);
}

TokenSource::TokenSource(OAuth2Settings settings, HttpPost post, SystemClock now)
    : m_settings(std::move(settings)), m_post(std::move(post)), m_now(std::move(now)) {}

bool TokenSource::usable(const std::string& token, system_clock::time_point expires_at) const {
    return !token.empty() && token != m_refused && expires_at - m_now() > kMinLifetime;
}

std::string TokenSource::access_token() {
    std::lock_guard lock(m_mutex);
    if (usable(m_token, m_expires_at)) return m_token;
    // Another run, or `imapkeep auth`, may have renewed it since.
    TokenCache cache = read_token_cache(m_settings.cache_file);
    if (usable(cache.access_token, cache.expires_at)) {
        m_token = cache.access_token;
        m_expires_at = cache.expires_at;
        return m_token;
    }
    return refresh(std::move(cache));
}

std::chrono::seconds TokenSource::renew() {
    std::lock_guard lock(m_mutex);
    refresh(read_token_cache(m_settings.cache_file));
    return std::chrono::duration_cast<std::chrono::seconds>(m_expires_at - m_now());
}

void TokenSource::rejected(const std::string& token) {
    std::lock_guard lock(m_mutex);
    m_refused = token;
}

int TokenSource::refreshes() const {
    std::lock_guard lock(m_mutex);
    return m_refreshes;
}

std::string TokenSource::refresh_token(const TokenCache& cache) {
    const auto& s = m_settings;
    if (!s.refresh_token_command.empty()) {
        // Once per run: it may ask for a passphrase.
        if (!m_refresh_token_from_command)
            m_refresh_token_from_command =
                run_secret_command(s.refresh_token_command, prefix(s) + "oauth2_refresh_token_command");
        return *m_refresh_token_from_command;
    }
    if (!s.refresh_token_file.empty()) return read_secret_file(s.refresh_token_file, prefix(s) + "oauth2_refresh_token_file");
    if (cache.refresh_token.empty())
        throw OAuth2Error(Kind::Auth, prefix(s) + "no OAuth2 refresh token yet (" + s.cache_file +
                                          " holds none): " + auth_hint(s));
    return cache.refresh_token;
}

std::string TokenSource::refresh(TokenCache cache) {
    const auto& s = m_settings;
    FormFields form{{"grant_type", "refresh_token"},
                    {"refresh_token", refresh_token(cache)},
                    {"client_id", s.client_id}};
    if (s.client_secret) form.emplace_back("client_secret", s.client_secret());
    TokenReply reply;
    ++m_refreshes;
    try {
        reply = parse_token_reply(m_post(s.token_url, form));
    } catch (const HttpError& e) {
        throw OAuth2Error(Kind::Network, prefix(s) + "cannot renew the OAuth2 access token: " + e.what());
    }
    if (!reply.ok()) throw token_endpoint_error(s, reply);
    m_token = reply.access_token;
    // No lifetime given: good for this connection, asked again for the next.
    m_expires_at = m_now() + reply.expires_in;
    cache.access_token = m_token;
    cache.expires_at = m_expires_at;
    // RFC 6749 §6: the server may issue a new refresh token (Microsoft does).
    if (!reply.refresh_token.empty()) {
        if (s.refresh_token_in_cache()) cache.refresh_token = reply.refresh_token;
        else if (!s.refresh_token_file.empty()) store_refresh_token(s, reply.refresh_token);
    }
    if (!s.refresh_token_in_cache()) cache.refresh_token.clear();
    try {
        write_token_cache(s.cache_file, cache);
    } catch (const std::exception&) {
        // Only a cache: the next run asks the endpoint again.
    }
    return m_token;
}

void use_token_source(imap::ConnectOptions& connect, std::shared_ptr<TokenSource> source) {
    connect.oauth2_token = [source] { return source->access_token(); };
    connect.oauth2_token_rejected = [source](const std::string& token) { source->rejected(token); };
}

}  // namespace imapkeep::cli
