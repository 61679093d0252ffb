// SASL mechanisms for AUTHENTICATE (RFC 3501 §6.2.2, RFC 4959 SASL-IR).
// Challenges and responses here are decoded bytes; the client does base64.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::imap {

class SaslMechanism {
public:
    virtual ~SaslMechanism() = default;
    virtual std::string name() const = 0;  // "PLAIN", "XOAUTH2", ...
    // The initial response for SASL-IR, if the mechanism has one.
    virtual std::optional<std::string> initial_response() { return std::nullopt; }
    // Answers a server challenge; nullopt cancels the exchange ("*").
    virtual std::optional<std::string> respond(std::string_view challenge) = 0;
};

// RFC 4616. authzid may be empty.
std::unique_ptr<SaslMechanism> sasl_plain(std::string user, std::string password,
                                          std::string authzid = "");
// The de-facto LOGIN mechanism: answers "Username:" then "Password:".
std::unique_ptr<SaslMechanism> sasl_login(std::string user, std::string password);
// RFC 2195. Throws Error if MD5 is unavailable (FIPS).
std::unique_ptr<SaslMechanism> sasl_cram_md5(std::string user, std::string password);
// Google/Microsoft XOAUTH2: "user=U^Aauth=Bearer T^A^A". On an error challenge
// (JSON), answers empty so the server sends the tagged NO.
std::unique_ptr<SaslMechanism> sasl_xoauth2(std::string user, std::string token);
// RFC 7628. On the JSON error challenge, answers "\x01".
std::unique_ptr<SaslMechanism> sasl_oauthbearer(std::string user, std::string token,
                                                std::string host = "", int port = 0);
// Wraps a callable (imaplib's authobject).
std::unique_ptr<SaslMechanism> sasl_callback(
    std::string name, std::function<std::optional<std::string>(std::string_view)> fn);

}  // namespace imapkeep::imap
