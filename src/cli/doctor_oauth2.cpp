// doctor's OAuth2 checks (doctor.hpp): where the refresh token comes from,
// and whether the token endpoint renews the access token with it.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "cli/doctor.hpp"
#include "cli/oauth2_token.hpp"

namespace imapkeep::cli {

namespace {

std::string auth_hint(const OAuth2Settings& s) {
    return "run `imapkeep auth " + s.account + "` to authorize imapkeep";
}

// A refresh token file: there, a regular file, not empty. Its content is not read.
std::optional<std::string> file_problem(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (st.st_size == 0) return "the file is empty";
    return std::nullopt;
}

CheckResult refresh_token_source(const OAuth2Settings& s) {
    const std::string name = s.account + ": oauth2 token";
    if (!s.refresh_token_command.empty())
        return ok(name, "the refresh token comes from oauth2_refresh_token_command");
    if (!s.refresh_token_file.empty()) {
        if (auto problem = file_problem(s.refresh_token_file))
            return fail(name, "oauth2_refresh_token_file " + s.refresh_token_file + ": " + *problem, auth_hint(s));
        return ok(name, "the refresh token is in " + s.refresh_token_file);
    }
    if (auto problem = file_problem(s.cache_file))
        return fail(name, "no refresh token yet: token cache " + s.cache_file + ": " + *problem, auth_hint(s));
    if (read_token_cache(s.cache_file).refresh_token.empty())
        return fail(name, "no refresh token in the token cache " + s.cache_file, auth_hint(s));
    return ok(name, "the refresh token is in the token cache " + s.cache_file);
}

CheckResult token_endpoint(const OAuth2Settings& s, const HttpPost& post) {
    const std::string name = s.account + ": token endpoint";
    try {
        TokenSource source(s, post);
        const auto lifetime = source.renew();
        return ok(name, s.token_url + " renewed the access token (valid for " + std::to_string(lifetime.count()) +
                            " s)");
    } catch (const OAuth2Error& e) {
        if (e.kind() == imap::ConnectError::Kind::Network)
            return fail(name, e.what(), "check the network and oauth2_token_url (or oauth2_ca_file)");
        return fail(name, e.what(), "check oauth2_client_id and the client secret, or " + auth_hint(s));
    } catch (const std::exception& e) {
        // A refresh token or client secret command that failed.
        return fail(name, e.what(), "check the command in the account");
    }
}

}  // namespace

std::vector<CheckResult> check_oauth2(const OAuth2Settings& settings, const HttpPost& post) {
    std::vector<CheckResult> out{refresh_token_source(settings)};
    if (out.back().status == CheckStatus::Ok) out.push_back(token_endpoint(settings, post));
    return out;
}

}  // namespace imapkeep::cli
