// The --url of a one-shot export (export.hpp).
#include <imapkeep/archive/export.hpp>

#include <charconv>
#include <stdexcept>

namespace imapkeep::archive {

namespace {

// RFC 3986 §2.1 pct-encoded = "%" HEXDIG HEXDIG
std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) throw std::invalid_argument("bad %-escape in the URL");
        int v = 0;
        auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (r.ec != std::errc() || r.ptr != s.data() + i + 3) throw std::invalid_argument("bad %-escape in the URL");
        out += static_cast<char>(v);
        i += 2;
    }
    return out;
}

// This machine only: "localhost", 127.0.0.0/8 in dotted decimal, "::1". By
// name, not by what a resolver says: a resolver can be told anything.
bool is_loopback(std::string_view host) {
    if (host == "localhost" || host == "::1") return true;
    if (!host.starts_with("127.")) return false;
    int parts = 0;
    for (std::size_t at = 0; at <= host.size(); ++parts) {
        auto end = host.find('.', at);
        if (end == std::string_view::npos) end = host.size();
        auto part = host.substr(at, end - at);
        int value = -1;
        auto r = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || part.size() > 3 || r.ptr != part.data() + part.size() || value > 255) return false;
        at = end + 1;
    }
    return parts == 4;
}

}  // namespace

ExportUrl parse_export_url(std::string_view url, bool allow_plaintext) {
    ExportUrl u;
    std::string_view rest;
    if (url.starts_with("imaps://")) {
        u.tls = imap::TlsMode::Implicit;
        u.port = 993;
        rest = url.substr(8);
    } else if (url.starts_with("imap://")) {
        u.tls = allow_plaintext ? imap::TlsMode::None : imap::TlsMode::StartTls;
        u.port = 143;
        rest = url.substr(7);
    } else {
        throw std::invalid_argument("the URL must start with imaps:// or imap://");
    }
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) u.mailbox = percent_decode(rest.substr(slash + 1));
    auto at = authority.rfind('@');
    if (at == std::string_view::npos || at == 0) throw std::invalid_argument("the URL needs a user: imaps://USER@HOST");
    auto userinfo = authority.substr(0, at);
    if (userinfo.find(':') != std::string_view::npos)
        throw std::invalid_argument(
            "no password in the URL (it would show in the process list): use --password-command, "
            "--password-file or IMAPKEEP_PASSWORD");
    // RFC 5092 §3.2 allows ";AUTH=" in the user part; only plain login is offered here.
    if (userinfo.find(';') != std::string_view::npos) throw std::invalid_argument(";AUTH= in the URL is not supported");
    u.user = percent_decode(userinfo);
    auto hostport = authority.substr(at + 1);
    std::string_view host = hostport;
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("unterminated [IPv6] host in the URL");
        host = hostport.substr(1, close - 1);
        hostport.remove_prefix(close + 1);
        if (!hostport.empty() && hostport.front() != ':') throw std::invalid_argument("bad host in the URL");
    } else {
        auto colon = hostport.rfind(':');
        host = hostport.substr(0, colon);
        hostport = colon == std::string_view::npos ? std::string_view{} : hostport.substr(colon);
    }
    if (!hostport.empty()) {
        auto digits = hostport.substr(1);
        int port = 0;
        auto r = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() || port < 1 || port > 65535)
            throw std::invalid_argument("bad port in the URL");
        u.port = port;
    }
    if (host.empty()) throw std::invalid_argument("the URL needs a host");
    u.host = std::string(host);
    if (u.tls == imap::TlsMode::None && !is_loopback(host))
        throw std::invalid_argument("--plaintext sends the password in clear: only to a loopback host "
                                    "(localhost, 127.x.x.x, [::1]), not " + u.host +
                                    "; for a server without TLS on your network, configure an "
                                    "[[account]] with tls = \"none\" and allow_plaintext_auth = true");
    return u;
}

}  // namespace imapkeep::archive
