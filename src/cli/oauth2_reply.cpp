#include "cli/oauth2_reply.hpp"

#include <imapkeep/util/utf8.hpp>

#include <nlohmann/json.hpp>

namespace imapkeep::cli {

namespace {

using nlohmann::json;

std::optional<json> json_object(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

std::string string_field(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// RFC 6749 says a number; some servers send "3599" (Quirk(various)).
std::chrono::seconds seconds_field(const json& j, const char* key, std::chrono::seconds fallback) {
    auto it = j.find(key);
    if (it == j.end()) return fallback;
    long long n = -1;
    if (it->is_number_integer()) n = it->get<long long>();
    if (it->is_number_float()) n = static_cast<long long>(it->get<double>());
    if (it->is_string()) {
        const auto& s = it->get_ref<const std::string&>();
        if (!s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos) n = std::stoll(s);
    }
    return n >= 0 ? std::chrono::seconds(n) : fallback;
}

std::string description_of(const json& j) {
    std::string d = util::printable_utf8(string_field(j, "error_description"));
    if (d.size() > 200) d = d.substr(0, 200) + "...";
    return d;
}

// An error (RFC 6749 §5.2), or "invalid_response" when the body says nothing usable.
template <typename Reply>
bool read_error(const std::optional<json>& j, const HttpResponse& response, Reply& reply) {
    if (j) reply.error = util::printable_utf8(string_field(*j, "error"));
    if (!reply.error.empty()) {
        if (reply.error.size() > 64) reply.error.resize(64);
        reply.error_description = description_of(*j);
        return true;
    }
    if (j && response.status == 200) return false;
    reply.error = "invalid_response";
    reply.error_description = j ? "HTTP " + std::to_string(response.status) + " without an error code"
                                : "HTTP " + std::to_string(response.status) + ", not a JSON object";
    return true;
}

}  // namespace

TokenReply parse_token_reply(const HttpResponse& response) {
    TokenReply reply;
    reply.status = response.status;
    auto j = json_object(response.body);
    if (read_error(j, response, reply)) return reply;
    reply.access_token = string_field(*j, "access_token");
    reply.refresh_token = string_field(*j, "refresh_token");
    reply.expires_in = seconds_field(*j, "expires_in", std::chrono::seconds(0));
    if (reply.access_token.empty()) {
        reply.error = "invalid_response";
        reply.error_description = "no access_token in the answer";
    }
    return reply;
}

DeviceReply parse_device_reply(const HttpResponse& response) {
    DeviceReply reply;
    reply.status = response.status;
    auto j = json_object(response.body);
    if (read_error(j, response, reply)) return reply;
    DeviceGrant grant;
    grant.device_code = string_field(*j, "device_code");
    grant.user_code = string_field(*j, "user_code");
    grant.verification_uri = string_field(*j, "verification_uri");
    // Quirk(google): "verification_url", as in the draft before RFC 8628.
    if (grant.verification_uri.empty()) grant.verification_uri = string_field(*j, "verification_url");
    grant.verification_uri_complete = string_field(*j, "verification_uri_complete");
    grant.expires_in = seconds_field(*j, "expires_in", std::chrono::seconds(600));
    grant.interval = seconds_field(*j, "interval", std::chrono::seconds(5));
    if (grant.interval < std::chrono::seconds(1)) grant.interval = std::chrono::seconds(1);
    if (grant.device_code.empty() || grant.user_code.empty() || grant.verification_uri.empty()) {
        reply.error = "invalid_response";
        reply.error_description = "device_code, user_code or verification_uri missing";
        return reply;
    }
    reply.grant = std::move(grant);
    return reply;
}

}  // namespace imapkeep::cli
