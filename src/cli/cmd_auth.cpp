#include "cli/cmd_auth.hpp"

#include "cli/exit_codes.hpp"
#include "cli/oauth2_token.hpp"

#include <thread>

namespace imapkeep::cli {

namespace {

std::string where_kept(const OAuth2Settings& s) {
    if (!s.refresh_token_store_command.empty()) return "given to oauth2_refresh_token_store_command";
    if (!s.refresh_token_file.empty()) return "kept in " + s.refresh_token_file;
    return "kept in " + s.cache_file;
}

// The access token that came with it saves the first backup a round trip.
void cache_access_token(const OAuth2Settings& s, const TokenReply& reply) {
    TokenCache cache = read_token_cache(s.cache_file);
    cache.access_token = reply.access_token;
    cache.expires_at = std::chrono::system_clock::now() + reply.expires_in;
    try {
        write_token_cache(s.cache_file, cache);
    } catch (const std::exception&) {
        // Only a cache.
    }
}

}  // namespace

int run_auth(const Config& config, const AuthArgs& args, Io& io) {
    if (!config.find_account(args.account)) {
        select_accounts(config, {args.account});  // throws ConfigError naming the configured ones
        return kExitUsage;
    }
    auto it = config.oauth2.find(args.account);
    if (it == config.oauth2.end()) {
        io.err << "imapkeep auth: account " << args.account
               << " has no OAuth2 client: set auth = \"oauth2\", oauth2_client_id and provider (or "
                  "oauth2_token_url and oauth2_device_url); see imapkeep.toml(5)\n";
        return kExitUsage;
    }
    const OAuth2Settings& s = it->second;
    HttpPost post = args.post ? args.post : https_poster(s.ca_file);
    SleepFor sleep = args.sleep ? args.sleep : [](std::chrono::seconds d) { std::this_thread::sleep_for(d); };
    try {
        TokenReply reply = run_device_flow(s, post, io.out, sleep);
        if (reply.refresh_token.empty())
            throw OAuth2Error(imap::ConnectError::Kind::Auth,
                              "account " + s.account +
                                  ": the provider gave no refresh token (does oauth2_scopes ask for offline access?)");
        store_refresh_token(s, reply.refresh_token);
        cache_access_token(s, reply);
        io.out << "account " << s.account << ": authorized; the refresh token is " << where_kept(s) << "\n";
        return kExitOk;
    } catch (const OAuth2Error& e) {
        io.err << "imapkeep auth: " << e.what() << "\n";
        return kExitConnect;
    }
}

}  // namespace imapkeep::cli
