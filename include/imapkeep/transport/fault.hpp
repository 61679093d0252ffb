// A Stream over an in-memory script, for tests: it replays server bytes,
// records what the client wrote, and can fail at a chosen point.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include <deque>
#include <functional>
#include <vector>

namespace imapkeep::transport {

class ScriptedStream : public Stream {
public:
    // `respond` is called with everything the client wrote since the last call
    // whenever the client reads and the scripted input is exhausted; it returns
    // the next server bytes ("" = EOF). To fail at that point, the responder
    // throws (e.g. TransportError(Kind::Io) or Kind::Timeout); read_some
    // passes the exception on. Without a responder the script ends in EOF.
    // read_some/write_all after close() throw TransportError(Kind::Closed).
    using Responder = std::function<std::string(const std::string& client_bytes)>;

    explicit ScriptedStream(std::string initial_server_bytes, Responder respond = {},
                            std::size_t max_chunk = 1 << 16);

    std::size_t read_some(std::span<char> buffer) override;
    void write_all(std::string_view data) override;
    void close() noexcept override { m_closed = true; }
    void set_read_timeout(std::optional<std::chrono::milliseconds>) override {}
    std::string describe() const override { return "scripted"; }

    const std::string& written() const { return m_written; }

private:
    std::string m_pending;
    std::size_t m_pos = 0;
    std::string m_written;
    std::size_t m_unanswered = 0;
    Responder m_respond;
    std::size_t m_max_chunk;
    bool m_closed = false;
};

}  // namespace imapkeep::transport
