// The server side of fuzz_sync's transcript mode: replies replayed in order,
// one per client command, whatever the command was.
//
// A transcript is chunks separated by kChunkSeparator: the first chunk is the
// greeting, each following one the complete reply (untagged + tagged) to the
// next command the client sends. A new connection takes the next chunk as its
// greeting, so a reconnect reads on in the same script. "$T" in a chunk
// becomes the tag of the command it answers (captures name every tag so).
// When the chunks run out the server closes the connection (EOF).
#pragma once

#include <imapkeep/transport/fault.hpp>

#include <charconv>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::fuzz {

inline constexpr char kChunkSeparator = '\x1e';  // ASCII RS
inline constexpr char kRunSeparator = '\x1d';    // ASCII GS

inline std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    for (;;) {
        auto at = text.find(separator);
        out.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return out;
        text.remove_prefix(at + 1);
    }
}

inline std::string with_tag(std::string_view chunk, std::string_view tag) {
    std::string out;
    for (;;) {
        auto at = chunk.find("$T");
        out += chunk.substr(0, at);
        if (at == std::string_view::npos) return out;
        out += tag;
        chunk.remove_prefix(at + 2);
    }
}

// The chunks of one run, shared by every connection the run opens.
struct Transcript {
    std::vector<std::string_view> chunks;
    std::size_t next = 0;

    const std::string_view* take() { return next < chunks.size() ? &chunks[next++] : nullptr; }
};

// One connection: cuts the client's bytes into whole commands and answers
// each with the next chunk.
class ReplayConnection {
  public:
    explicit ReplayConnection(Transcript& script) : m_script(script) {}

    std::string respond(const std::string& client_bytes) {
        m_buffer += client_bytes;
        std::string out;
        std::size_t length = 0;
        while (!m_done && complete_command(length, out)) {
            std::string_view command(m_buffer.data(), length);
            std::string tag(command.substr(0, command.find(' ')));
            m_buffer.erase(0, length);
            m_acked.clear();
            const auto* chunk = m_script.take();
            if (!chunk) {
                m_done = true;  // EOF once `out` is read
                break;
            }
            out += with_tag(*chunk, tag);
        }
        return out;
    }

  private:
    // True when the buffer starts with a whole command (RFC 3501 §4.3: a line
    // ending in "{n}" or "{n+}" goes on after n literal bytes). A
    // synchronizing literal still to come gets its continuation request.
    bool complete_command(std::size_t& length, std::string& out) {
        std::size_t pos = 0;
        for (;;) {
            auto crlf = m_buffer.find("\r\n", pos);
            if (crlf == std::string::npos) return false;
            std::string_view line(m_buffer.data() + pos, crlf - pos);
            auto open = line.rfind('{');
            if (line.empty() || line.back() != '}' || open == std::string_view::npos) {
                length = crlf + 2;
                return true;
            }
            std::string_view digits = line.substr(open + 1, line.size() - open - 2);
            const bool plus = !digits.empty() && digits.back() == '+';
            if (plus) digits.remove_suffix(1);
            std::size_t n = 0;
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
            if (ec != std::errc() || end != digits.data() + digits.size()) {
                length = crlf + 2;
                return true;
            }
            const std::size_t start = crlf + 2;
            if (m_buffer.size() - start < n) {
                if (!plus && m_acked.insert(start).second) out += "+ go on\r\n";
                return false;
            }
            pos = start + n;
        }
    }

    Transcript& m_script;
    std::string m_buffer;
    std::set<std::size_t> m_acked;
    bool m_done = false;
};

// A stream factory for imap::ConnectOptions that plays `script`; reads come in
// pieces of at most `max_chunk` bytes.
inline std::function<transport::StreamPtr()> replay_factory(Transcript& script,
                                                            std::size_t max_chunk) {
    return [&script, max_chunk]() -> transport::StreamPtr {
        const auto* greeting = script.take();
        auto connection = std::make_shared<ReplayConnection>(script);
        return std::make_unique<transport::ScriptedStream>(
            greeting ? std::string(*greeting) : std::string(),
            [connection](const std::string& bytes) { return connection->respond(bytes); },
            max_chunk);
    };
}

}  // namespace imapkeep::fuzz
