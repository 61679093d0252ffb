// IMAP4's engine: the stream adapter the client reads through, the handshake,
// sending a command and collecting its result the way CPython's imaplib does
// (_command, _command_complete, _get_response, _untagged_response).
#include <imapkeep/imaplib.hpp>

#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/tcp.hpp>
#include <imapkeep/util/base64.hpp>
#include <imapkeep/util/prefault.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <imapkeep/wire/framer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <deque>
#include <random>
#include <utility>

#include "imaplib/guarded.hpp"
#include "imaplib/untagged.hpp"

namespace imaplib {

namespace ik = imapkeep;
using ik::transport::TransportError;

namespace {

// A transport failure met by the default read/readline/send. The user sees an
// `abort`; the Pipe hands the client the original kind back, so that a read
// timeout stays a timeout (idle() relies on that).
class TransportAbort : public IMAP4::abort {
public:
    explicit TransportAbort(const TransportError& e)
        : IMAP4::abort(std::string("socket error: ") + e.what()), m_kind(e.kind()) {}
    TransportError::Kind kind() const { return m_kind; }

private:
    TransportError::Kind m_kind;
};

// Which states each command is allowed in (CPython's Commands table; IDLE as
// in 3.14).
const std::map<std::string, std::vector<std::string>>& command_states() {
    static const std::vector<std::string> kAll = {"NONAUTH", "AUTH", "SELECTED", "LOGOUT"};
    static const std::vector<std::string> kAuth = {"AUTH", "SELECTED"};
    static const std::vector<std::string> kSel = {"SELECTED"};
    static const std::vector<std::string> kNon = {"NONAUTH"};
    static const std::map<std::string, std::vector<std::string>> kTable = {
        {"APPEND", kAuth},        {"AUTHENTICATE", kNon},   {"CAPABILITY", kAll},
        {"CHECK", kSel},          {"CLOSE", kSel},          {"COPY", kSel},
        {"CREATE", kAuth},        {"DELETE", kAuth},        {"DELETEACL", kAuth},
        {"ENABLE", {"AUTH"}},     {"EXAMINE", kAuth},       {"EXPUNGE", kSel},
        {"FETCH", kSel},          {"GETACL", kAuth},        {"GETANNOTATION", kAuth},
        {"GETQUOTA", kAuth},      {"GETQUOTAROOT", kAuth},  {"IDLE", kAuth},
        {"MYRIGHTS", kAuth},      {"LIST", kAuth},          {"LOGIN", kNon},
        {"LOGOUT", kAll},         {"LSUB", kAuth},          {"MOVE", kSel},
        {"NAMESPACE", kAuth},     {"NOOP", kAll},           {"PARTIAL", kSel},
        {"PROXYAUTH", {"AUTH"}},  {"RENAME", kAuth},        {"SEARCH", kSel},
        {"SELECT", kAuth},        {"SETACL", kAuth},        {"SETANNOTATION", kAuth},
        {"SETQUOTA", kAuth},      {"SORT", kSel},           {"STARTTLS", kNon},
        {"STATUS", kAuth},        {"STORE", kSel},          {"SUBSCRIBE", kAuth},
        {"THREAD", kSel},         {"UID", kSel},            {"UNSUBSCRIBE", kAuth},
        {"UNSELECT", kSel},
    };
    return kTable;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

// Debug traces show control characters escaped, as Python's %r does.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// The stream the client reads and writes: a line at a time through readline(),
// each literal with one read() of its whole size (CPython's _get_response),
// writes through send(), so that a subclass overriding those really changes
// the I/O.
//
// A literal's bytes still pass through the client's framer, which needs them
// to keep its place in the stream, but it hands them to a sink that drops
// them: the string read() returned is kept here, keyed by its stream offset,
// and observe() moves it into the result. So the body is not copied again
// into a frame grown by doubling (issue 10, scenario 6).

class IMAP4::Pipe final : public ik::transport::Stream {
public:
    Pipe(IMAP4& owner, std::size_t response_budget) : m_owner(owner), m_budget(response_budget) {}

    std::size_t read_some(std::span<char> buffer) override {
        if (m_pos == m_src.size() && !refill()) return 0;
        auto n = std::min(buffer.size(), m_src.size() - m_pos);
        // A kept literal's bytes only move the framer on: it hands them to
        // the dropping sink, which never looks at them. So they are counted
        // out, not copied.
        if (!m_src_kept) std::memcpy(buffer.data(), m_src.data() + m_pos, n);
        m_pos += n;
        m_delivered += n;
        return n;
    }

    void write_all(std::string_view data) override {
        try {
            m_owner.send(data);
        } catch (const TransportAbort& e) {
            throw TransportError(e.kind(), e.what());
        }
    }

    // The IMAP4 decides when its stream closes (shutdown()).
    void close() noexcept override {}

    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override {
        if (m_owner.m_stream) m_owner.m_stream->set_read_timeout(timeout);
    }

    std::size_t pending() const override {
        return (m_src.size() - m_pos) + m_owner.m_rbuf.size() +
               (m_owner.m_stream ? m_owner.m_stream->pending() : 0);
    }

    int native_handle() const override { return m_owner.socket(); }
    std::string describe() const override {
        return m_owner.m_stream ? "imaplib " + m_owner.m_stream->describe() : "imaplib";
    }

    // The framer's choice for a literal just announced: kept here, unless it
    // and what its response already holds exceed the response budget; then
    // the framer buffers it, or refuses it as it would any response.
    ik::wire::LiteralSink* choose_sink(std::string_view response_so_far, std::uint64_t size) {
        const std::uint64_t held = response_so_far.size() + m_response_kept;
        if (held > m_budget || size > m_budget - held) return nullptr;
        m_response_kept += size;
        m_literal_kept = true;
        return &m_dropping_sink;
    }

    // The literal kept for the one starting at stream offset `offset`; older
    // ones (of a frame the framer dropped) are released on the way.
    std::string take_kept(std::uint64_t offset) {
        release_kept_before(offset);
        if (m_kept.empty() || m_kept.front().offset != offset) return {};
        std::string data = std::move(m_kept.front().data);
        m_kept.pop_front();
        return data;
    }

    void release_kept_before(std::uint64_t offset) {
        while (!m_kept.empty() && m_kept.front().offset < offset) m_kept.pop_front();
    }

private:
    struct Kept {
        std::uint64_t offset;  // of the literal's first byte in the stream
        std::string data;
    };
    class DroppingSink final : public ik::wire::LiteralSink {
    public:
        void write(std::string_view) override {}
        void finish() override {}
    };

    // The next line, or the literal it announced; false at the end of the stream.
    bool refill() {
        m_pos = 0;
        m_src = {};
        try {
            while (m_src.empty()) {
                if (m_literal) {
                    read_literal();
                } else {
                    m_chunk = m_owner.readline();
                    if (m_chunk.empty()) return false;
                    note_literal();
                    m_src = m_chunk;
                    m_src_kept = false;
                }
            }
        } catch (const TransportAbort& e) {
            throw TransportError(e.kind(), e.what());
        }
        return true;
    }

    void read_literal() {
        const auto size = static_cast<std::size_t>(*m_literal);
        std::string body = m_owner.read(size);  // if it throws, the literal is still to come
        m_literal.reset();
        if (body.size() > size) body.resize(size);
        if (std::exchange(m_literal_kept, false)) {
            m_kept.push_back(Kept{m_delivered, std::move(body)});
            m_src = m_kept.back().data;
            m_src_kept = true;
        } else {
            m_chunk = std::move(body);
            m_src = m_chunk;
            m_src_kept = false;
        }
    }

    // After a line announcing "{n}", the next n bytes are a literal: read()
    // them rather than splitting them into lines (CPython does the same). A
    // line without one ends its response.
    void note_literal() {
        if (m_chunk.size() < 2 || !m_chunk.ends_with("\r\n")) return;
        auto marker = ik::wire::find_literal_marker(
            std::string_view(m_chunk).substr(0, m_chunk.size() - 2));
        if (!marker) {
            m_response_kept = 0;
            return;
        }
        // The framer refuses a size over its limit before the literal is
        // read; SIZE_MAX only stands in until then.
        m_literal = marker->overflow || marker->size > std::numeric_limits<std::size_t>::max()
                        ? std::numeric_limits<std::size_t>::max()
                        : marker->size;
    }

    IMAP4& m_owner;
    const std::uint64_t m_budget;
    std::string m_chunk;               // the current line, or a literal not kept
    std::string_view m_src;            // what read_some hands out: m_chunk or a kept literal
    bool m_src_kept = false;           // m_src is a kept literal
    std::size_t m_pos = 0;
    std::uint64_t m_delivered = 0;     // bytes handed out: the framer's stream offset
    std::optional<std::uint64_t> m_literal;  // announced, not yet read
    bool m_literal_kept = false;       // the framer chose to drop that literal's bytes
    std::uint64_t m_response_kept = 0; // bytes of literals kept for the current response
    std::deque<Kept> m_kept;
    DroppingSink m_dropping_sink;
};

// ---------------------------------------------------------------------------
// Construction and the default I/O

IMAP4::IMAP4(std::string host, int port, std::optional<double> timeout) {
    start(std::move(host), port, timeout);
}

IMAP4::IMAP4(Deferred) {}

IMAP4::~IMAP4() {
    if (m_client && state != "LOGOUT") {
        try {
            logout();
        } catch (...) {
            // A destructor must not throw; the connection is going anyway.
        }
    }
    m_client.reset();
    if (m_stream) m_stream->close();
}

std::optional<std::chrono::milliseconds> IMAP4::to_timeout(std::optional<double> seconds) {
    if (!seconds) return std::nullopt;
    if (!(*seconds > 0))
        throw error("Non-blocking socket (timeout=0) is not supported");
    double ms = std::ceil(*seconds * 1000.0);
    if (ms > 1e15) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

ik::transport::StreamPtr IMAP4::connect_tcp_stream(std::optional<double> timeout) {
    auto t = to_timeout(timeout);
    ik::transport::TcpOptions options;
    if (t) options.connect_timeout = t;
    options.read_timeout = t;
    try {
        return ik::transport::connect_tcp(host, port, options);
    } catch (const TransportError& e) {
        throw abort(std::string("socket error: ") + e.what());
    }
}

void IMAP4::open(std::string host_, int port_, std::optional<double> timeout) {
    host = std::move(host_);
    port = port_;
    set_stream(connect_tcp_stream(timeout));
}

void IMAP4::set_stream(ik::transport::StreamPtr s) {
    if (m_stream) m_stream->close();
    m_stream = std::move(s);
    m_rbuf.clear();
}

namespace {

// `bytes` moved into a string of exactly `size` characters. std::string's own
// growth would at least double the capacity: for the last step of a body that
// is up to twice its size, held next to the old copy.
std::string grown(std::string bytes, std::size_t size) {
    std::string out;
    out.reserve(size);
    ik::util::prefault_for_write(out.data(), out.capacity());
    out.append(bytes);
    return out;
}

}  // namespace

// CPython reads a literal with one read(size); so does the engine (Pipe).
// A body usually sits in the receive buffer already and is copied once into
// its exactly sized result. The rest arrives through the buffer too (one
// read also brings the lines after it), into a result that grows with the
// bytes that arrived: `size` may come from the server (a literal), so alone
// it sizes at most kTrustedSize bytes (invariant 4); past that the string
// grows kGrowth-fold. A body up to kTrustedSize is allocated once, one up to
// kGrowth times that is copied once, partly.
std::string IMAP4::read(std::size_t size) {
    if (!m_stream) throw abort("socket error: not connected");
    constexpr std::size_t kChunk = 64 * 1024;
    if (m_rbuf.size() >= size) return m_rbuf.take(size);

    constexpr std::size_t kTrustedSize = 512 * 1024;
    constexpr std::size_t kGrowth = 4;
    std::string out;
    try {
        out.reserve(std::min(size, std::max(m_rbuf.size() + kChunk, kTrustedSize)));
        // Filled whole next: its pages at once, not a fault each (prefault.hpp).
        ik::util::prefault_for_write(out.data(), out.capacity());
        while (out.size() < size) {
            if (m_rbuf.empty()) {
                const std::size_t n = read_stream(m_rbuf.prepare(kChunk));
                if (n == 0) break;
                m_rbuf.commit(n);
            }
            if (out.size() == out.capacity())
                out = grown(std::move(out), std::min(size, std::max(out.size() + kChunk, out.size() * kGrowth)));
            const auto part = m_rbuf.view().substr(0, std::min(size - out.size(), out.capacity() - out.size()));
            out.append(part);
            m_rbuf.skip(part.size());
        }
    } catch (...) {
        // A timeout (idle()) must not lose the bytes: the literal is read
        // again, whole, by the next call.
        m_rbuf.unread(out);
        throw;
    }
    return out;
}

std::size_t IMAP4::read_stream(std::span<char> into) {
    try {
        return m_stream->read_some(into);
    } catch (const TransportError& e) {
        throw TransportAbort(e);
    }
}

std::string IMAP4::readline() {
    if (!m_stream) throw abort("socket error: not connected");
    constexpr std::size_t kChunk = 64 * 1024;
    std::size_t scanned = 0;
    for (;;) {
        auto nl = m_rbuf.view().find('\n', scanned);
        if (nl != std::string::npos && nl + 1 <= max_line) return m_rbuf.take(nl + 1);
        if (nl != std::string::npos || m_rbuf.size() > max_line) {
            // As CPython's readline(_MAXLINE + 1): that much is consumed.
            m_rbuf.skip(max_line + 1);
            throw error("got more than " + std::to_string(max_line) + " bytes");
        }
        scanned = m_rbuf.size();
        const std::size_t n = read_stream(m_rbuf.prepare(kChunk));
        if (n == 0) return m_rbuf.take(m_rbuf.size());
        m_rbuf.commit(n);
    }
}

void IMAP4::send(std::string_view data) {
    if (!m_stream) throw abort("socket error: not connected");
    try {
        m_stream->write_all(data);
    } catch (const TransportError& e) {
        throw TransportAbort(e);
    }
}

void IMAP4::shutdown() {
    if (m_stream) m_stream->close();
    m_rbuf.clear();
}

bool IMAP4::has_unread_input() const {
    return (m_pipe && m_pipe->pending() > 0) || !m_rbuf.empty() ||
           (m_stream && m_stream->pending() > 0);
}

int IMAP4::socket() const { return m_stream ? m_stream->native_handle() : -1; }

void IMAP4::start(std::string host_, int port_, std::optional<double> timeout) {
    m_timeout = to_timeout(timeout);
    open(std::move(host_), port_, timeout);
    connect_or_close();
}

void IMAP4::start_with_stream(ik::transport::StreamPtr s, std::string host_) {
    host = std::move(host_);
    set_stream(std::move(s));
    connect_or_close();
}

void IMAP4::make_client() {
    ik::imap::ClientOptions options;
    options.limits.max_line = std::max(options.limits.max_line, max_line + 2);
    auto pipe = std::make_unique<Pipe>(*this, options.limits.max_buffered_response);
    m_pipe = pipe.get();
    m_client = std::make_unique<ik::imap::Client>(std::move(pipe), options);
    m_client->set_literal_sink_factory(
        [pipe = m_pipe](std::string_view so_far, std::uint64_t size) { return pipe->choose_sink(so_far, size); });
    // CPython always waits for "+" before a literal.
    m_client->set_literal_mode_override(ik::wire::LiteralMode::Synchronizing);
    m_client->set_frame_observer([this](ik::wire::Frame& f) { observe(f); });
    m_client->set_unsolicited_handler(
        [](const ik::wire::Response&, const ik::wire::Frame&) { return true; });
}

void IMAP4::connect_or_close() {
    try {
        connect_session();
    } catch (...) {
        // A half-open connection must not outlive the failed constructor.
        try {
            shutdown();
        } catch (...) {
        }
        m_client.reset();
        m_pipe = nullptr;
        throw;
    }
}

void IMAP4::connect_session() {
    state = "LOGOUT";
    untagged_responses.clear();
    m_tagged.clear();
    make_client();
    std::random_device rd;
    m_tagpre = Int2AP(std::uniform_int_distribution<int>(4096, 65535)(rd));
    m_client->set_tag_prefix(m_tagpre);
    if (debug >= 1) {
        trace("imaplib version 2.58");
        trace("new IMAP4 connection, tag=" + m_tagpre);
    }
    m_welcome_pending = true;
    try {
        guarded([&] { m_client->read_greeting(); });
    } catch (const abort&) {
        throw;
    } catch (const error&) {
        // A complete greeting that is not OK/PREAUTH is decided below from
        // what was stored, as CPython does; anything else stands.
        if (m_welcome_pending) throw;
    }
    m_welcome_pending = false;
    if (untagged_responses.count("PREAUTH"))
        state = "AUTH";
    else if (untagged_responses.count("OK"))
        state = "NONAUTH";
    else
        throw error(welcome);

    get_capabilities();
    if (debug >= 3) trace("CAPABILITIES: " + join(capabilities, " "));
    for (const char* version : {"IMAP4REV1", "IMAP4"}) {
        if (std::find(capabilities.begin(), capabilities.end(), version) != capabilities.end()) {
            PROTOCOL_VERSION = version;
            return;
        }
    }
    throw error("server not IMAP4 compliant");
}

void IMAP4::get_capabilities() {
    auto r = capability();
    if (r.data.empty()) throw error("no CAPABILITY response from server");
    const Datum& last = r.data.back();
    std::string text = std::holds_alternative<std::string>(last)
                           ? std::get<std::string>(last)
                           : std::get<1>(last).first;
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    capabilities.clear();
    std::size_t i = 0;
    constexpr std::string_view kSpace = " \t\n\r\x0b\x0c";
    while ((i = text.find_first_not_of(kSpace, i)) != std::string::npos) {
        auto j = text.find_first_of(kSpace, i);
        if (j == std::string::npos) j = text.size();
        capabilities.push_back(text.substr(i, j - i));
        i = j;
    }
}

// ---------------------------------------------------------------------------
// Responses: every frame the client reads passes here first.

void IMAP4::append_untagged(const std::string& type, Datum datum) {
    untagged_responses[type].push_back(std::move(datum));
}

// Takes the literals' bytes out of the frame, or from the Pipe for those it
// kept: the client's own parse of them is never used here.
void IMAP4::observe(ik::wire::Frame& frame) {
    m_pipe->release_kept_before(frame.offset);
    take_literals(frame);
    if (frame.lines.empty()) return;
    // After LOGOUT's BYE CPython stops reading; what follows is not stored.
    if (m_logging_out && m_bye_during_logout) return;
    const std::string& first = frame.lines.front();
    if (debug >= 4) {
        trace("< " + printable(first));
        for (std::size_t i = 0; i < frame.literals.size(); ++i) {
            trace("read literal size " + std::to_string(frame.literals[i].size));
            trace("< " + printable(frame.lines[i + 1]));
        }
    }
    if (m_welcome_pending) {
        welcome = first;
        m_welcome_pending = false;
    }
    auto k = detail::classify_line(first, m_tagpre);
    std::string type;
    std::string dat;
    switch (k.kind) {
    case detail::LineKind::Kind::Continuation:
        m_continuation = k.data.value_or("");
        return;
    case detail::LineKind::Kind::Unexpected:
        if (!m_stashed) m_stashed = std::make_exception_ptr(abort("unexpected response: " + first));
        return;
    case detail::LineKind::Kind::Tagged:
        type = k.type;
        dat = *k.data;
        m_tagged[k.tag] = Tagged{type, dat};
        if (m_logging_out) m_logout_tagged = Tagged{type, dat};
        break;
    case detail::LineKind::Kind::Untagged: {
        type = k.type;
        dat = k.data.value_or("");
        Response captured{type, {}};
        auto add = [&](Datum d) {
            if (m_idle_capture)
                captured.data.push_back(std::move(d));
            else
                append_untagged(type, std::move(d));
        };
        for (std::size_t i = 0; i < frame.literals.size(); ++i) {
            add(std::pair<std::string, std::string>(dat, std::move(frame.literals[i].data)));
            dat = frame.lines[i + 1];
        }
        add(dat);
        if (m_idle_capture) m_idle_capture->push_back(std::move(captured));
        if (m_logging_out && type == "BYE") m_bye_during_logout = true;
        break;
    }
    }
    if (type == "OK" || type == "NO" || type == "BAD") {
        if (auto code = detail::match_response_code(dat))
            append_untagged(code->type, code->data.value_or(""));
    }
    if (debug >= 1 && (type == "NO" || type == "BAD" || type == "BYE"))
        trace(type + " response: " + printable(dat));
}

void IMAP4::trace(std::string_view text) const {
    using namespace std::chrono;
    auto now = system_clock::now();
    std::time_t secs = system_clock::to_time_t(now);
    std::tm tm{};
    localtime_r(&secs, &tm);
    auto centis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000 / 10;
    std::fprintf(stderr, "  %02d:%02d.%02d %.*s\n", tm.tm_min, tm.tm_sec, static_cast<int>(centis),
                 static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
}

// Each kept literal back into its place in the frame: it starts after the
// frame's lines and literals before it, each line with its CRLF.
void IMAP4::take_literals(ik::wire::Frame& frame) {
    std::uint64_t offset = frame.offset;
    for (std::size_t i = 0; i < frame.literals.size(); ++i) {
        offset += frame.lines[i].size() + 2;
        auto& literal = frame.literals[i];
        if (literal.sink) literal.data = m_pipe->take_kept(offset);
        offset += literal.size;
    }
}

// ---------------------------------------------------------------------------
// Errors from below become error / abort / readonly.

void IMAP4::check_stash() {
    if (m_stashed) {
        auto e = m_stashed;
        m_stashed = nullptr;
        std::rethrow_exception(e);
    }
}

void IMAP4::rethrow_mapped(std::exception_ptr e) {
    if (m_stashed) check_stash();
    try {
        std::rethrow_exception(e);
    } catch (const error&) {
        throw;
    } catch (const ik::imap::ReadOnly& x) {
        throw readonly(x.what());
    } catch (const ik::imap::Abort& x) {
        throw abort(x.what());
    } catch (const ik::imap::Error& x) {
        throw error(x.what());
    } catch (const TransportError& x) {
        throw abort(std::string("socket error: ") + x.what());
    } catch (const ik::wire::EncodeError& x) {
        throw error(x.what());
    }
}

// ---------------------------------------------------------------------------
// Commands

void IMAP4::check_state(const std::string& name) const {
    const std::vector<std::string>* allowed = nullptr;
    const auto& table = command_states();
    if (auto it = table.find(name); it != table.end()) allowed = &it->second;
    else if (auto x = m_extra_commands.find(name); x != m_extra_commands.end()) allowed = &x->second;
    if (!allowed) throw error("unknown IMAP4 command: " + name);
    if (std::find(allowed->begin(), allowed->end(), state) == allowed->end())
        throw error("command " + name + " illegal in state " + state +
                    ", only allowed in states " + join(*allowed, ", "));
}

ik::wire::Arg IMAP4::quoted_arg(std::string_view arg) const {
    if (detail::has_nul_cr_lf(arg))
        throw error("command argument contains NUL, CR or LF: " + printable(arg));
    if (detail::needs_quoting(arg)) return ik::wire::Arg::string(std::string(arg));
    return ik::wire::Arg::raw(std::string(arg));
}

std::vector<ik::wire::Arg> IMAP4::quoted_args(const Args& args) const {
    std::vector<ik::wire::Arg> out;
    for (const auto& a : args)
        if (a) out.push_back(quoted_arg(*a));
    return out;
}

std::string IMAP4::command(std::string_view name_, std::vector<ik::wire::Arg> args,
                           const AuthObject* auth) {
    std::string name(name_);
    check_state(name);
    for (const char* t : {"OK", "NO", "BAD"}) untagged_responses.erase(t);
    if (untagged_responses.count("READ-ONLY") && !is_readonly)
        throw readonly("mailbox status changed to READ-ONLY");
    if (!m_client) throw abort("socket error: not connected");

    ik::imap::Client::ContinuationHandler on_continue;
    if (auth) {
        on_continue = [this, auth](const ik::wire::Response&) -> std::optional<std::string> {
            // CPython: a2b_base64 of the text after "+ " ("" when none).
            auto challenge = m_continuation.empty() ? std::optional<std::string>("")
                                                    : ik::util::base64_decode(m_continuation);
            try {
                if (!challenge) throw error("invalid base64 in server challenge");
                auto answer = (*auth)(*challenge);
                if (!answer) return std::string("*");
                return ik::util::base64_encode(*answer);
            } catch (...) {
                if (!m_stashed) m_stashed = std::current_exception();
                return std::string("*");
            }
        };
    }
    std::string tag = guarded([&] { return m_client->submit(name, args, {}, on_continue); });
    if (debug >= 4) {
        std::string line = "> " + tag + " " + name;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const auto& a = args[i];
            line += ' ';
            if (name == "LOGIN" && i == 1)
                line += "<password>";
            else if (a.kind == ik::wire::Arg::Kind::Literal)
                line += "{" + std::to_string(a.value.size()) + "}";
            else if (a.kind == ik::wire::Arg::Kind::String)
                line += printable(ik::wire::quote(a.value));
            else
                line += printable(a.value);
        }
        trace(line);
    }
    return tag;
}

void IMAP4::check_bye() {
    auto it = untagged_responses.find("BYE");
    if (it == untagged_responses.end() || it->second.empty()) return;
    const Datum& d = it->second.back();
    throw abort(std::holds_alternative<std::string>(d) ? std::get<std::string>(d)
                                                       : std::get<1>(d).first);
}

Response IMAP4::command_complete(std::string_view name, const std::string& tag) {
    check_bye();
    ik::imap::Completion completion;
    try {
        completion = guarded([&] { return m_client->wait(tag); });
    } catch (const abort& e) {
        m_tagged.erase(tag);
        // A BYE is the better reason, as CPython reports it.
        check_bye();
        throw abort("command: " + std::string(name) + " => " + e.what());
    }
    Tagged t{completion.status, completion.text};
    if (auto it = m_tagged.find(tag); it != m_tagged.end()) {
        t = std::move(it->second);
        m_tagged.erase(it);
    }
    check_bye();
    if (t.type == "BAD")
        throw error(std::string(name) + " command error: BAD [" + t.data + "]");
    return Response{t.type, {Datum(t.data)}};
}

Response IMAP4::simple_command(std::string_view name, const Args& args) {
    return command_complete(name, command(name, quoted_args(args)));
}

Response IMAP4::untagged_response(Response result, const std::string& name) {
    if (result.type == "NO") return result;
    auto it = untagged_responses.find(name);
    if (it == untagged_responses.end()) return Response{std::move(result.type), {}};
    Response out{std::move(result.type), std::move(it->second)};
    untagged_responses.erase(it);
    return out;
}

}  // namespace imaplib
