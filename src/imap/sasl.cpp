// SASL mechanisms. Each answers challenges with raw bytes; the client does the
// base64 framing (RFC 3501 §6.2.2).
#include <imapkeep/imap/errors.hpp>
#include <imapkeep/imap/sasl.hpp>
#include <imapkeep/util/md5.hpp>

namespace imapkeep::imap {

namespace {

// RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd
class Plain : public SaslMechanism {
public:
    Plain(std::string user, std::string password, std::string authzid)
        : m_message(authzid + '\0' + user + '\0' + password) {}
    std::string name() const override { return "PLAIN"; }
    std::optional<std::string> initial_response() override { return m_message; }
    std::optional<std::string> respond(std::string_view) override { return m_message; }

private:
    std::string m_message;
};

class Login : public SaslMechanism {
public:
    Login(std::string user, std::string password)
        : m_user(std::move(user)), m_password(std::move(password)) {}
    std::string name() const override { return "LOGIN"; }
    std::optional<std::string> respond(std::string_view challenge) override {
        // Quirk(various): the prompts are not standardised ("Username:", "User
        // Name", empty); answer by position, with a hint from the text.
        bool wants_password = m_step > 0 || challenge.find("assword") != std::string_view::npos;
        ++m_step;
        return wants_password ? m_password : m_user;
    }

private:
    std::string m_user, m_password;
    int m_step = 0;
};

// RFC 2195: response = user SP hex(HMAC-MD5(password, challenge))
class CramMd5 : public SaslMechanism {
public:
    CramMd5(std::string user, std::string password)
        : m_user(std::move(user)), m_password(std::move(password)) {}
    std::string name() const override { return "CRAM-MD5"; }
    std::optional<std::string> respond(std::string_view challenge) override {
        try {
            return m_user + " " + util::hmac_md5_hex(m_password, challenge);
        } catch (const std::exception& e) {
            throw Error(std::string("CRAM-MD5 unavailable: ") + e.what());
        }
    }

private:
    std::string m_user, m_password;
};

class XOAuth2 : public SaslMechanism {
public:
    XOAuth2(std::string user, std::string token)
        : m_message("user=" + user + "\x01" + "auth=Bearer " + token + "\x01\x01") {}
    std::string name() const override { return "XOAUTH2"; }
    std::optional<std::string> initial_response() override { return m_message; }
    std::optional<std::string> respond(std::string_view) override {
        // The only later challenge is the JSON error; an empty answer makes the
        // server send its tagged NO.
        if (m_sent) return std::string();
        m_sent = true;
        return m_message;
    }

private:
    std::string m_message;
    bool m_sent = false;
};

// RFC 5801 §4: saslname = 1*(UTF8-char-safe / "=2C" / "=3D"); a "," would
// end the GS2 header early and an "=" would read as the start of an escape.
std::string gs2_saslname(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (c == ',') out += "=2C";
        else if (c == '=') out += "=3D";
        else out += c;
    }
    return out;
}

// RFC 7628 §3.1: gs2-header kvsep *kvpair kvsep
class OAuthBearer : public SaslMechanism {
public:
    OAuthBearer(std::string user, std::string token, std::string host, int port) {
        m_message = "n,a=" + gs2_saslname(user) + ",\x01";
        if (!host.empty()) m_message += "host=" + host + "\x01";
        if (port > 0) m_message += "port=" + std::to_string(port) + "\x01";
        m_message += "auth=Bearer " + token + "\x01\x01";
    }
    std::string name() const override { return "OAUTHBEARER"; }
    std::optional<std::string> initial_response() override { return m_message; }
    std::optional<std::string> respond(std::string_view) override {
        if (m_sent) return std::string("\x01");  // RFC 7628 §3.2.3: acknowledge the error
        m_sent = true;
        return m_message;
    }

private:
    std::string m_message;
    bool m_sent = false;
};

class Callback : public SaslMechanism {
public:
    Callback(std::string name, std::function<std::optional<std::string>(std::string_view)> fn)
        : m_name(std::move(name)), m_fn(std::move(fn)) {}
    std::string name() const override { return m_name; }
    std::optional<std::string> respond(std::string_view challenge) override { return m_fn(challenge); }

private:
    std::string m_name;
    std::function<std::optional<std::string>(std::string_view)> m_fn;
};

}  // namespace

std::unique_ptr<SaslMechanism> sasl_plain(std::string user, std::string password,
                                          std::string authzid) {
    return std::make_unique<Plain>(std::move(user), std::move(password), std::move(authzid));
}
std::unique_ptr<SaslMechanism> sasl_login(std::string user, std::string password) {
    return std::make_unique<Login>(std::move(user), std::move(password));
}
std::unique_ptr<SaslMechanism> sasl_cram_md5(std::string user, std::string password) {
    return std::make_unique<CramMd5>(std::move(user), std::move(password));
}
std::unique_ptr<SaslMechanism> sasl_xoauth2(std::string user, std::string token) {
    return std::make_unique<XOAuth2>(std::move(user), std::move(token));
}
std::unique_ptr<SaslMechanism> sasl_oauthbearer(std::string user, std::string token,
                                                std::string host, int port) {
    return std::make_unique<OAuthBearer>(std::move(user), std::move(token), std::move(host), port);
}
std::unique_ptr<SaslMechanism> sasl_callback(
    std::string name, std::function<std::optional<std::string>(std::string_view)> fn) {
    return std::make_unique<Callback>(std::move(name), std::move(fn));
}

}  // namespace imapkeep::imap
