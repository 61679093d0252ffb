#include "cli/oauth2_device.hpp"

#include "cli/oauth2_token.hpp"

namespace imapkeep::cli {

namespace {

using Kind = imap::ConnectError::Kind;
using std::chrono::seconds;

inline constexpr const char* kDeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code";

std::string prefix(const OAuth2Settings& s) { return "account " + s.account + ": "; }

FormFields with_client(const OAuth2Settings& s, FormFields form) {
    form.emplace_back("client_id", s.client_id);
    if (s.client_secret) form.emplace_back("client_secret", s.client_secret());
    return form;
}

template <typename Reply>
Reply posted(const OAuth2Settings& s, const HttpPost& post, const std::string& url, const FormFields& form,
             Reply (*parse)(const HttpResponse&)) {
    try {
        return parse(post(url, form));
    } catch (const HttpError& e) {
        throw OAuth2Error(Kind::Network, prefix(s) + e.what());
    }
}

// RFC 8628 §3.1: client_id and scope; Google wants its client_secret here too.
DeviceGrant request_code(const OAuth2Settings& s, const HttpPost& post) {
    FormFields form;
    if (!s.scopes.empty()) form.emplace_back("scope", s.scopes);
    auto reply = posted(s, post, s.device_url, with_client(s, form), parse_device_reply);
    if (!reply.grant) {
        TokenReply as_token;
        as_token.error = reply.error;
        as_token.error_description = reply.error_description;
        as_token.status = reply.status;
        throw token_endpoint_error(s, as_token);
    }
    return *reply.grant;
}

void show(const DeviceGrant& grant, std::ostream& out) {
    out << "To authorize imapkeep, open " << grant.verification_uri << "\nand enter the code " << grant.user_code
        << "\n";
    if (!grant.verification_uri_complete.empty())
        out << "(or open " << grant.verification_uri_complete << ")\n";
    out << "Waiting for the authorization (the code is valid for " << grant.expires_in.count() / 60
        << " min)...\n";
    out.flush();
}

OAuth2Error refused(const OAuth2Settings& s, const TokenReply& reply) {
    const std::string why = reply.error_description.empty() ? "" : " (" + reply.error_description + ")";
    if (reply.error == "access_denied")
        return OAuth2Error(Kind::Auth, prefix(s) + "the authorization was denied" + why);
    if (reply.error == "expired_token")
        return OAuth2Error(Kind::Auth, prefix(s) + "the code expired before it was entered" + why +
                                           "; run `imapkeep auth " + s.account + "` again");
    return token_endpoint_error(s, reply);
}

}  // namespace

TokenReply run_device_flow(const OAuth2Settings& s, const HttpPost& post, std::ostream& out,
                           const SleepFor& sleep) {
    if (s.device_url.empty())
        throw OAuth2Error(Kind::Auth, prefix(s) + "no device authorization endpoint: set provider or oauth2_device_url");
    const DeviceGrant grant = request_code(s, post);
    show(grant, out);
    seconds interval = grant.interval;
    // The code's lifetime, counted in the waits themselves (no clock needed).
    seconds waited{0};
    for (;;) {
        if (waited >= grant.expires_in) {
            TokenReply expired;
            expired.error = "expired_token";
            throw refused(s, expired);
        }
        sleep(interval);
        waited += interval;
        auto reply = posted(s, post, s.token_url,
                            with_client(s, {{"grant_type", kDeviceGrantType}, {"device_code", grant.device_code}}),
                            parse_token_reply);
        if (reply.ok()) return reply;
        if (reply.error == "authorization_pending") continue;
        if (reply.error == "slow_down") {
            interval += seconds(5);  // RFC 8628 §3.5
            continue;
        }
        throw refused(s, reply);
    }
}

}  // namespace imapkeep::cli
