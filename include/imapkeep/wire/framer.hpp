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
    // the current response's text so far (all lines, literals elided) and the
    // literal's size. Return nullptr to buffer it (subject to the limits).
    using SinkChooser = std::function<LiteralSink*(std::string_view response_so_far,
                                                   std::uint64_t size)>;

    explicit Framer(Limits limits = {});

    void set_sink_chooser(SinkChooser chooser) { m_choose_sink = std::move(chooser); }
    const Limits& limits() const { return m_limits; }

    // Consumes all of `bytes`, queueing each completed frame. After an error the
    // framer stops consuming and every later feed returns the same error.
    // Non-fatal errors (LineTooLong) skip the offending line and resume at the
    // next CRLF only if resync() is called.
    std::optional<FrameError> feed(std::string_view bytes);

    // The next complete frame, if any.
    std::optional<Frame> next();
    bool has_frame() const { return !m_ready.empty(); }

    // Bytes received but not yet part of a completed frame. STARTTLS checks this
    // is zero after the tagged OK.
    std::size_t buffered() const;

    // After a non-fatal error: drop the partial response and continue after the
    // current line's CRLF.
    void resync();

private:
    void finish_line();
    Limits m_limits;
    SinkChooser m_choose_sink;
    std::deque<Frame> m_ready;
    Frame m_current;
    std::string m_line;
    std::size_t m_current_bytes = 0;
    std::uint64_t m_offset = 0;
    // literal in progress
    bool m_in_literal = false;
    std::uint64_t m_literal_left = 0;
    bool m_skipping_line = false;
    std::optional<FrameError> m_error;
};

// Finds a literal announcement "{n}", "{n+}", "~{n}" ending `line`, outside any
// quoted string. Returns the size and whether it is literal8, or nullopt.
struct LiteralMarker {
    std::uint64_t size;
    bool binary;
    bool overflow;  // the digits do not fit in 63 bits
};
std::optional<LiteralMarker> find_literal_marker(std::string_view line);

}  // namespace imapkeep::wire
