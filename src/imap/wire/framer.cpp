// Framing of the server's byte stream (RFC 3501 §4.3, RFC 3516 §4.2).
//
// Each byte is looked at a bounded number of times: the LF search only covers
// new bytes, a completed line segment is scanned once for its literal marker,
// and literal bytes are copied (or handed to a sink) once. So feeding a
// response in one piece or one byte at a time costs the same, and errors are
// reported at the same stream offset either way.
#include <imapkeep/wire/framer.hpp>

#include <algorithm>
#include <limits>

namespace imapkeep::wire {

namespace {

// An announced size never decides an allocation beyond this.
constexpr std::size_t kReserveCap = 64 * 1024;
constexpr std::uint64_t kMaxLiteralValue = std::numeric_limits<std::int64_t>::max();

std::size_t saturating_add(std::size_t a, std::size_t b) {
    return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max()
                                                            : a + b;
}

}  // namespace

std::string Frame::flatten() const {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        out += lines[i];
        out += "\r\n";
        if (i < literals.size()) out += literals[i].data;
    }
    return out;
}

// literal  = "{" number ["+"] "}" CRLF *CHAR8   ; "+" only from clients (RFC 7888)
// literal8 = "~{" number ["+"] "}" CRLF *OCTET  ; RFC 3516
std::optional<LiteralMarker> find_literal_marker(std::string_view line) {
    if (line.empty() || line.back() != '}') return std::nullopt;
    std::size_t i = line.size() - 1;  // at '}'
    if (i > 0 && line[i - 1] == '+') --i;
    const std::size_t digits_end = i;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') --i;
    if (i == digits_end || i == 0 || line[i - 1] != '{') return std::nullopt;
    const std::size_t brace = i - 1;
    const bool binary = brace > 0 && line[brace - 1] == '~';

    // The marker only counts outside a quoted string. Its own bytes hold no quote
    // or backslash, so the state before '{' is the state at the end of the line.
    bool in_quote = false;
    for (std::size_t j = 0; j < brace; ++j) {
        const char c = line[j];
        if (in_quote) {
            if (c == '\\')
                ++j;
            else if (c == '"')
                in_quote = false;
        } else if (c == '"') {
            in_quote = true;
        }
    }
    if (in_quote) return std::nullopt;

    LiteralMarker marker{0, binary, false, binary ? brace - 1 : brace};
    for (std::size_t j = i; j < digits_end; ++j) {
        const auto digit = static_cast<std::uint64_t>(line[j] - '0');
        if (marker.size > (kMaxLiteralValue - digit) / 10) {
            marker.overflow = true;
            marker.size = std::numeric_limits<std::uint64_t>::max();
            break;
        }
        marker.size = marker.size * 10 + digit;
    }
    return marker;
}

Framer::Framer(Limits limits) : m_limits(limits) {}

std::optional<FrameError> Framer::feed(std::string_view bytes) {
    if (m_error) return m_error;
    consume(bytes);
    return m_error;
}

std::optional<Frame> Framer::next() {
    if (m_ready.empty()) return std::nullopt;
    Frame frame = std::move(m_ready.front());
    m_ready.pop_front();
    return frame;
}

std::size_t Framer::buffered() const {
    return static_cast<std::size_t>(m_offset - m_frame_start) + m_pending.size();
}

void Framer::resync() {
    if (!m_error || m_error->fatal) return;
    m_error.reset();
    m_current = Frame{};
    m_line.clear();
    m_text.clear();
    m_current_bytes = 0;
    m_in_literal = false;
    m_literal_left = 0;
    m_skipping_line = true;
    m_frame_start = m_offset;
    const std::string pending = std::move(m_pending);
    m_pending.clear();
    consume(pending);
}

void Framer::consume(std::string_view bytes) {
    std::size_t pos = 0;
    while (pos < bytes.size() && !m_error) {
        const std::string_view rest = bytes.substr(pos);
        if (m_in_literal)
            pos += consume_literal(rest);
        else if (m_skipping_line)
            pos += skip_line(rest);
        else
            pos += consume_line(rest);
    }
    if (m_error && !m_error->fatal) m_pending.assign(bytes.substr(pos));
}

void Framer::fail(FrameError::Kind kind, std::uint64_t offset, std::string message) {
    const bool fatal = kind != FrameError::Kind::LineTooLong;
    m_error = FrameError{kind, offset, std::move(message), fatal};
}

std::size_t Framer::consume_line(std::string_view bytes) {
    const std::size_t lf = bytes.find('\n');
    const std::size_t segment = lf == std::string_view::npos ? bytes.size() : lf;

    // Both limits are checked per byte, so the failing byte is the same however
    // the input was split. A line may hold max_line bytes plus its CR.
    const std::size_t line_room = saturating_add(m_limits.max_line, 1) - m_line.size();
    const std::size_t held = m_current_bytes + m_line.size();
    const std::size_t response_room =
        held >= m_limits.max_buffered_response ? 0 : m_limits.max_buffered_response - held;
    if (segment > line_room || segment > response_room) {
        if (response_room <= line_room) {
            fail(FrameError::Kind::ResponseTooLarge, m_offset + response_room,
                 "response exceeds " + std::to_string(m_limits.max_buffered_response) + " bytes");
        } else {
            fail(FrameError::Kind::LineTooLong, m_offset + line_room,
                 "line exceeds " + std::to_string(m_limits.max_line) + " bytes");
        }
        const std::size_t used = std::min(line_room, response_room) + 1;
        m_offset += used;
        return used;
    }

    m_line.append(bytes.substr(0, segment));
    if (lf == std::string_view::npos) {
        m_offset += segment;
        return segment;
    }
    if (m_line.empty() || m_line.back() != '\r') {
        fail(FrameError::Kind::BareLf, m_offset + lf, "line ends in LF without CR");
        m_offset += lf + 1;
        return lf + 1;
    }
    m_line.pop_back();
    m_offset += lf + 1;
    finish_line(m_offset);
    return lf + 1;
}

void Framer::finish_line(std::uint64_t end_offset) {
    const auto marker = find_literal_marker(m_line);
    m_current_bytes += m_line.size();
    if (m_choose_sink) m_text += m_line;
    m_current.lines.push_back(std::move(m_line));
    m_line.clear();
    if (!marker) {
        complete_frame(end_offset);
        return;
    }

    const std::uint64_t lf_offset = end_offset - 1;
    if (marker->overflow || marker->size > m_limits.max_literal) {
        fail(FrameError::Kind::LiteralTooLarge, lf_offset,
             "literal of " +
                 (marker->overflow ? std::string("more than 2^63") : std::to_string(marker->size)) +
                 " bytes exceeds " + std::to_string(m_limits.max_literal));
        return;
    }
    LiteralSink* sink = m_choose_sink ? m_choose_sink(m_text, marker->size) : nullptr;
    if (!sink && marker->size > m_limits.max_buffered_response - std::min(m_current_bytes,
                                                                           m_limits.max_buffered_response)) {
        fail(FrameError::Kind::ResponseTooLarge, lf_offset,
             "literal of " + std::to_string(marker->size) + " bytes would exceed " +
                 std::to_string(m_limits.max_buffered_response) + " buffered bytes");
        return;
    }

    FrameLiteral& literal = m_current.literals.emplace_back();
    literal.size = marker->size;
    literal.binary = marker->binary;
    literal.sink = sink;
    if (!sink) literal.data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(marker->size, kReserveCap)));
    if (marker->size == 0) {
        if (sink) sink->finish();
        return;
    }
    m_in_literal = true;
    m_literal_left = marker->size;
}

std::size_t Framer::consume_literal(std::string_view bytes) {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(m_literal_left, bytes.size()));
    const std::string_view chunk = bytes.substr(0, take);
    FrameLiteral& literal = m_current.literals.back();
    if (literal.sink) {
        literal.sink->write(chunk);
    } else {
        // Checked when the marker was seen: the whole literal fits the limit.
        literal.data.append(chunk);
        m_current_bytes += take;
    }
    m_literal_left -= take;
    m_offset += take;
    if (m_literal_left == 0) {
        m_in_literal = false;
        if (literal.sink) literal.sink->finish();
    }
    return take;
}

std::size_t Framer::skip_line(std::string_view bytes) {
    const std::size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
        m_offset += bytes.size();
        m_frame_start = m_offset;
        return bytes.size();
    }
    m_offset += lf + 1;
    m_frame_start = m_offset;
    m_skipping_line = false;
    return lf + 1;
}

void Framer::complete_frame(std::uint64_t end_offset) {
    m_current.offset = m_frame_start;
    m_ready.push_back(std::move(m_current));
    m_current = Frame{};
    m_text.clear();
    m_current_bytes = 0;
    m_frame_start = end_offset;
}

}  // namespace imapkeep::wire
