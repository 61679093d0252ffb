// Splits the server's byte stream into whole responses: line segments and the
// literals between them (RFC 3501 §4.3, literal = "{" number "}" CRLF *CHAR8;
// RFC 3516 literal8 = "~{" number "}"). No I/O: bytes are handed in, frames come
// out. Resumable at any byte boundary, and linear in the input.
#pragma once

#include <imapkeep/wire/limits.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::wire {

// Receives a literal's bytes in chunks instead of buffering them.
class LiteralSink {
public:
    virtual ~LiteralSink() = default;
    virtual void write(std::string_view chunk) = 0;
    // Called once all announced bytes have arrived.
    virtual void finish() = 0;
};

struct FrameLiteral {
    std::uint64_t size = 0;
    bool binary = false;            // literal8 "~{n}"
    LiteralSink* sink = nullptr;    // non-null: bytes went to the sink, `data` is empty
    std::string data;               // the bytes, when buffered
};

// One response: lines[0] {lit 0} lines[1] {lit 1} ... lines[n]. Each line has
// its CRLF stripped; a line followed by a literal still ends in "{n}".
struct Frame {
    std::vector<std::string> lines;
    std::vector<FrameLiteral> literals;  // literals.size() == lines.size() - 1
    // Stream offset of the frame's first byte (bytes fed to the Framer before
    // it): tells a reply from bytes that were there before a command was sent.
    std::uint64_t offset = 0;
    // The response as one string, literals inline (streamed ones as empty), CRLFs
    // restored. For traces and tests.
    std::string flatten() const;
};

struct FrameError {
    enum class Kind {
        LineTooLong,       // > Limits::max_line: not fatal in imaplib (`error`)
        BareLf,            // line ended without CR: fatal
        LiteralTooLarge,   // announced size over Limits::max_literal: fatal
        ResponseTooLarge,  // buffered bytes over Limits::max_buffered_response: fatal
    };
    Kind kind;
    std::uint64_t offset;  // byte offset in the whole stream where it was detected
    std::string message;
    bool fatal;
};

class Framer {
public:
    // Decides, when a literal is announced, whether it goes to a sink. Called with
    // the current response's text so far (all lines joined, each line still ending
    // in its "{n}" marker, literal bytes elided, no CRLFs; e.g.
    // "* 3 FETCH (UID 7 BODY[] {1234}") and the literal's size. Return nullptr to
    // buffer it (subject to the limits). The sink must outlive the frame.
    using SinkChooser = std::function<LiteralSink*(std::string_view response_so_far,
                                                   std::uint64_t size)>;

    explicit Framer(Limits limits = {});

    void set_sink_chooser(SinkChooser chooser) { m_choose_sink = std::move(chooser); }
    const Limits& limits() const { return m_limits; }

    // Consumes all of `bytes`, queueing each completed frame. After an error the
    // framer stops consuming and every later feed returns the same error (the
    // bytes passed meanwhile are ignored). Errors are detected at the same stream
    // offset however the input is split:
    //   LineTooLong       at the first byte that makes the line exceed max_line
    //                     (+1 for the CR); the rest of that feed is kept for resync().
    //   BareLf            at the LF.
    //   LiteralTooLarge   at the LF ending the "{n}" line: no byte of the literal is
    //                     read and nothing is allocated from n.
    //   ResponseTooLarge  at the byte that goes over max_buffered_response, or at
    //                     the marker's LF when a buffered literal would.
    std::optional<FrameError> feed(std::string_view bytes);

    // The next complete frame, if any.
    std::optional<Frame> next();
    bool has_frame() const { return !m_ready.empty(); }

    // Bytes received but not yet part of a completed frame (a partial response,
    // or bytes kept after a non-fatal error). Queued frames are not counted:
    // STARTTLS must check both this is zero and has_frame() is false after the
    // tagged OK.
    std::size_t buffered() const;

    // After a non-fatal error: drop the partial response and continue after the
    // current line's CRLF, with the bytes kept from the failing feed. A new error
    // found in those bytes is returned by the next feed() (feed("") works).
    // Does nothing when there is no non-fatal error.
    void resync();

private:
    void consume(std::string_view bytes);
    std::size_t consume_line(std::string_view bytes);
    std::size_t consume_literal(std::string_view bytes);
    std::size_t skip_line(std::string_view bytes);
    void finish_line(std::uint64_t end_offset);
    void complete_frame(std::uint64_t end_offset);
    void fail(FrameError::Kind kind, std::uint64_t offset, std::string message);

    Limits m_limits;
    SinkChooser m_choose_sink;
    std::deque<Frame> m_ready;
    Frame m_current;
    std::string m_line;
    std::string m_text;               // m_current's lines joined, for the chooser
    std::size_t m_current_bytes = 0;  // bytes of m_current held in memory
    std::uint64_t m_offset = 0;       // stream offset of the next byte
    std::uint64_t m_frame_start = 0;  // stream offset where m_current began
    // literal in progress
    bool m_in_literal = false;
    std::uint64_t m_literal_left = 0;
    bool m_skipping_line = false;
    std::string m_pending;            // unconsumed bytes after a non-fatal error
    std::optional<FrameError> m_error;
};

// Finds a literal announcement "{n}", "{n+}", "~{n}" ending `line`, outside any
// quoted string. Returns the size and whether it is literal8, or nullopt.
// Quote state starts outside at the beginning of `line` (each segment after a
// literal starts afresh); inside quotes a backslash escapes the next byte.
// "{n+}" is a client form (RFC 7888) that servers should not send; tolerated.
struct LiteralMarker {
    std::uint64_t size;
    bool binary;
    bool overflow;          // the digits do not fit in 63 bits (size is then UINT64_MAX)
    std::size_t start = 0;  // index of the marker's '{' (or its '~') in `line`
};
std::optional<LiteralMarker> find_literal_marker(std::string_view line);

}  // namespace imapkeep::wire
