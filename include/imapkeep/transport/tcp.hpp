// Plain TCP stream. Resolves host (IPv4/IPv6), connects with a deadline.
#pragma once

#include <imapkeep/transport/stream.hpp>

namespace imapkeep::transport {

struct TcpOptions {
    std::optional<std::chrono::milliseconds> connect_timeout = std::chrono::seconds(30);
    std::optional<std::chrono::milliseconds> read_timeout;  // none = block
};

// Throws TransportError(Resolve|Io|Timeout). Empty host means "localhost" as in imaplib.
// connect_timeout covers all resolved addresses together. The read timeout also
// bounds how long write_all waits for a peer that stops reading (-> Timeout).
// describe() is "tcp HOST:PORT" ("tcp [::1]:143" for IPv6 literals).
StreamPtr connect_tcp(const std::string& host, int port, const TcpOptions& options = {});

}  // namespace imapkeep::transport
