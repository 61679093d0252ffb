// A byte stream to an IMAP server. Every transport (TCP, TLS, child process,
// SSH, DEFLATE, fault injection) implements this one interface so the IMAP
// layers above never know how the bytes travel.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace imapkeep::transport {

// Every transport failure. The IMAP layer turns any of these into `abort`.
class TransportError : public std::runtime_error {
public:
    enum class Kind {
        Io,        // socket/pipe error, connection refused, reset
        Timeout,   // connect or read deadline passed
        Tls,       // handshake, certificate chain or host name check failed
        Resolve,   // host name lookup failed
        Ssh,       // SSH protocol or channel failure
        HostKey,   // SSH host key unknown or changed
        Auth,      // SSH authentication failed (all methods)
        Closed,    // used after close()
    };
    TransportError(Kind kind, const std::string& message)
        : std::runtime_error(message), m_kind(kind) {}
    Kind kind() const { return m_kind; }

private:
    Kind m_kind;
};

class Stream {
public:
    virtual ~Stream() = default;

    // Reads at least one and at most buffer.size() bytes, blocking up to the read
    // timeout. Returns 0 on orderly EOF. Throws TransportError (Timeout on expiry).
    virtual std::size_t read_some(std::span<char> buffer) = 0;

    // Writes every byte or throws TransportError.
    virtual void write_all(std::string_view data) = 0;

    // Idempotent; never throws.
    virtual void close() noexcept = 0;

    // Read timeout for every later read_some; nullopt blocks forever.
    virtual void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) = 0;

    // Bytes already read from the underlying channel but not yet returned by
    // read_some (e.g. decrypted TLS records). STARTTLS relies on this being
    // exact for the stream being upgraded.
    virtual std::size_t pending() const { return 0; }

    // The OS descriptor the stream reads from, or -1. For imaplib's socket().
    virtual int native_handle() const { return -1; }

    // Human-readable description for messages: "tcp 127.0.0.1:143", "tls ...".
    virtual std::string describe() const = 0;
};

using StreamPtr = std::unique_ptr<Stream>;

}  // namespace imapkeep::transport
