// TLS (OpenSSL 3) over any Stream, for implicit TLS (port 993, RFC 8314) and
// STARTTLS (RFC 3501 §6.2.1). Certificate chain and host name are verified and
// SNI is sent unless the caller turns verification off explicitly.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include <string>
#include <vector>

namespace imapkeep::transport {

struct TlsOptions {
    bool verify = true;              // chain + host name (RFC 7817); off is loud
    std::string ca_file;             // PEM bundle; empty = system default paths
    std::string ca_dir;              // hashed directory; empty = none
    std::string client_cert_file;    // PEM, optional
    std::string client_key_file;     // PEM, optional
    std::string min_version = "1.2"; // "1.2" or "1.3"
    std::string server_name;         // SNI and name to verify; empty = the host connected to
    // SHA-256 fingerprints of the server's own (leaf) certificate, as 64 hex
    // digits, optionally with "sha256:" and colons (util::normalize_fingerprint). When set, the certificate
    // must be one of these, and chain and host name are not checked: a pin
    // trusts exactly that certificate (self-signed ones included).
    std::vector<std::string> pinned_sha256;
};


// Performs the handshake over `inner` (which it owns). `host` is used for SNI and
// verification unless options.server_name is set; an IP literal ("127.0.0.1",
// "::1" or "[::1]") is checked against the certificate's IP SANs and sends no
// SNI (RFC 6066 §3). Throws TransportError(Tls) with OpenSSL's reason, e.g.
// "certificate verify failed: hostname mismatch". Errors of `inner` (Io,
// Timeout, ...) pass through with their own kind; after a read Timeout the
// stream may be read again. pending() = decrypted bytes + inner->pending().
// A peer closing without close_notify reads as EOF (IMAP frames its own data).
// A certificate that fails verification or a pin is named by its SHA-256
// fingerprint in the error, so a user can decide to pin it.
StreamPtr wrap_tls(StreamPtr inner, const std::string& host, const TlsOptions& options);

}  // namespace imapkeep::transport
