// imap::Client core: tags, pipelining, continuation handling, dispatch of
// untagged data, and the connection's life (greeting, failure, logout).
// Typed commands live in client_commands.cpp.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/util/utf7.hpp>
#include <imapkeep/wire/parser.hpp>

#include <algorithm>
#include <array>
#include <cctype>

#include "imap/client_pending.hpp"
#include "imap/response_checks.hpp"
#include "imap/node_values.hpp"
#include "imap/fetch_body.hpp"

namespace imapkeep::imap {

namespace {

}  // namespace

Client::Client(transport::StreamPtr stream, ClientOptions options)
    : m_stream(std::move(stream)), m_options(std::move(options)), m_framer(m_options.limits) {
    m_framer.set_sink_chooser([this](std::string_view so_far, std::uint64_t size) {
        if (m_literal_sinks) return m_literal_sinks(so_far, size);
        if (!m_body_sinks || !is_body_literal(so_far)) return static_cast<wire::LiteralSink*>(nullptr);
        return m_body_sinks(so_far, size);
    });
}

Client::~Client() {
    if (m_stream) m_stream->close();
}

void Client::ensure_alive() const {
    if (m_dead) throw Abort(m_dead_reason, m_dead_hint);
}

void Client::abandon(const std::string& message) noexcept {
    if (m_dead) return;
    m_dead = true;
    m_dead_reason = message;
    m_state = State::Logout;
    if (m_stream) m_stream->close();
    release_pending();
}

// Invariant 5: no reply can reach these handlers any more; let go of them.
void Client::release_pending() noexcept {
    if (m_handler_depth > 0)
        for (auto& p : m_pending) m_retired.push_back(std::move(p));
    m_pending.clear();
}

void Client::fail(const std::string& message) {
    abandon(message);
    throw Abort(m_dead_reason, m_dead_hint);
}

wire::LiteralMode Client::literal_mode() {
    if (m_literal_override) return *m_literal_override;
    if (!m_caps_known) return wire::LiteralMode::Synchronizing;
    auto has = [&](std::string_view cap) {
        return std::find(m_caps.begin(), m_caps.end(), cap) != m_caps.end();
    };
    if (has("LITERAL+")) return wire::LiteralMode::LiteralPlus;
    if (has("LITERAL-")) return wire::LiteralMode::LiteralMinus;
    return wire::LiteralMode::Synchronizing;
}

std::string Client::encode_mailbox(const std::string& utf8_name) const {
    if (m_utf8) return utf8_name;
    try {
        return util::utf7_encode(utf8_name);
    } catch (const std::exception& e) {
        throw Error("mailbox name is not valid UTF-8: " + std::string(e.what()));
    }
}

std::string Client::decode_mailbox(const std::string& wire_name) const {
    if (m_utf8) return wire_name;
    // Quirk(various): servers that send 8-bit names without UTF8=ACCEPT; keep
    // the bytes rather than losing the mailbox.
    auto decoded = util::utf7_decode(wire_name);
    return decoded ? *decoded : wire_name;
}

// ---------------------------------------------------------------------------
// Reading

std::optional<Client::RawResponse> Client::read_frame(bool timeout_ok) {
    ensure_alive();
    std::array<char, 64 * 1024> buffer;
    while (!m_framer.has_frame()) {
        std::size_t n = 0;
        try {
            n = m_stream->read_some(buffer);
        } catch (const transport::TransportError& e) {
            if (timeout_ok && e.kind() == transport::TransportError::Kind::Timeout)
                return std::nullopt;
            fail(std::string("socket error: ") + e.what());
        }
        if (n == 0) fail("socket error: EOF");
        m_bytes_in += n;
        std::optional<wire::FrameError> error;
        try {
            error = m_framer.feed(std::string_view(buffer.data(), n));
        } catch (const Abort&) {
            throw;
        } catch (const std::exception& e) {
            // A literal sink failed mid-literal (disk full, say): the stream
            // cannot be resynchronised, so neither can the connection.
            fail(std::string("cannot store a literal: ") + e.what());
        }
        if (error) {
            // Invariant 5: skipping the bad line would hand the rest of its
            // command's answer to handlers that no longer expect it.
            if (error->fatal || !m_pending.empty()) fail(error->message);
            m_framer.resync();
            throw Error(error->message);
        }
    }
    auto frame = m_framer.next();
    trace_frame(*frame);
    if (m_frame_observer) m_frame_observer(*frame);
    auto parsed = wire::parse_response(*frame, m_options.limits);
    std::string malformed;
    if (auto* error = std::get_if<wire::ParseError>(&parsed)) {
        std::string line = frame->lines.empty() ? "" : frame->lines.front().substr(0, 200);
        // Only a known type's data failed and the frame is whole: the
        // response can be skipped without losing the stream.
        if (!error->partial) fail("unexpected response: " + error->message + ": " + line);
        malformed = error->message + ": " + line;
        wire::Response partial = std::move(*error->partial);  // `error` lives in `parsed`
        parsed = std::move(partial);
    }
    return RawResponse{std::move(*frame), std::move(std::get<wire::Response>(parsed)), std::move(malformed)};
}

void Client::trace_frame(const wire::Frame& frame) const {
    if (!m_options.trace) return;
    std::string text = frame.flatten();
    if (text.size() > 4096) text = text.substr(0, 4096) + "...";
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    m_options.trace("S: " + text);
}

const wire::Response& Client::read_greeting() {
    auto raw = read_frame(false);
    m_greeting = raw->response;
    const auto& g = m_greeting;
    if (g.kind != wire::Response::Kind::Untagged || (g.type != "OK" && g.type != "PREAUTH")) {
        // imaplib: anything but OK/PREAUTH is `error`, not `abort`.
        std::string text = raw->frame.lines.empty() ? "" : raw->frame.lines.front();
        throw Error("bad greeting: " + text);
    }
    m_state = g.type == "PREAUTH" ? State::Authenticated : State::NotAuthenticated;
    if (g.code && g.code->name == "CAPABILITY") set_capabilities_from(g.code->raw);
    return m_greeting;
}

void Client::set_capabilities_from(std::string_view text) {
    m_caps.clear();
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        auto j = i;
        while (j < text.size() && text[j] != ' ') ++j;
        if (j > i) {
            auto cap = upper(text.substr(i, j - i));
            const auto& off = m_options.disabled_capabilities;
            if (std::find(off.begin(), off.end(), cap) == off.end()) m_caps.push_back(std::move(cap));
        }
        i = j;
    }
    m_caps_known = true;
}

template <class Step>
auto Client::abandon_on_error(Step&& step) -> decltype(step()) {
    try {
        return step();
    } catch (const Abort& e) {
        if (!m_pending.empty()) abandon(e.what());
        throw;
    } catch (const Error& e) {
        if (m_pending.empty()) throw;
        fail(e.what());
    } catch (const std::exception& e) {
        // A caller's own exception (from a handler or observer) keeps its type.
        if (!m_pending.empty()) abandon(e.what());
        throw;
    } catch (...) {
        if (!m_pending.empty()) abandon("a command in flight failed");
        throw;
    }
}

void Client::pump() {
    abandon_on_error([&] {
        auto raw = read_frame(false);
        dispatch(raw->frame, std::move(raw->response), std::move(raw->malformed));
    });
}

std::optional<wire::Response> Client::read_one(bool timeout_ok) {
    return abandon_on_error([&]() -> std::optional<wire::Response> {
        auto raw = read_frame(timeout_ok);
        if (!raw) return std::nullopt;
        wire::Response copy = raw->response;
        dispatch(raw->frame, std::move(raw->response), std::move(raw->malformed));
        return copy;
    });
}

void Client::dispatch(const wire::Frame& frame, wire::Response&& response, std::string malformed) {
    using Kind = wire::Response::Kind;
    if (response.kind == Kind::Continuation) {
        for (auto& p : m_pending) {
            if (p->next_literal < p->encoded.literals.size()) {
                send_pending_literals(*p, true);
                return;
            }
            if (p->on_continue) {
                std::optional<std::string> line;
                bool secret = p->secret;
                {
                    HandlerCall call(*this);
                    line = p->on_continue(response);
                }
                if (line) send_line(*line, secret);
                return;
            }
        }
        fail("unexpected continuation request: " + response.raw_rest);
    }
    if (response.kind == Kind::Tagged) {
        auto it = std::find_if(m_pending.begin(), m_pending.end(),
                               [&](const auto& p) { return p->tag == response.tag; });
        if (it == m_pending.end()) fail("unexpected tagged response: " + response.tag);
        // A reply that was on the wire before its command was sent is an
        // injection (Ruby CVE-2026-42246: an early OK to STARTTLS).
        if (frame.offset < (*it)->sent_at)
            fail("tagged response for " + response.tag + " arrived before the command was sent");
        if (response.type != "OK" && response.type != "NO" && response.type != "BAD")
            fail("unexpected tagged status: " + response.type);
        if (response.code && response.code->name == "CAPABILITY")
            set_capabilities_from(response.code->raw);
        Completion completion{response.type, response.code, response.text, (*it)->malformed};
        m_done[response.tag] = std::move(completion);
        m_pending.erase(it);
        return;
    }
    // Untagged.
    if (response.type == "CAPABILITY") {
        std::string joined;
        for (const auto& n : response.args) {
            if (!joined.empty()) joined += ' ';
            joined += n.text;
        }
        set_capabilities_from(joined);
    } else if (response.code && response.code->name == "CAPABILITY") {
        set_capabilities_from(response.code->raw);
    }
    if (response.type == "BYE") {
        if (m_logging_out) return;
        if (!m_dead) m_dead_hint = classify_server_hint("BYE", response.code, response.text);
        fail("server said BYE: " + response.text);
    }
    if (malformed.empty()) malformed = data_problem(response).value_or("");
    if (!malformed.empty()) {
        handle_malformed(response, malformed);
        return;
    }
    track_exists(response);
    route_untagged(response, frame);
}

void Client::handle_malformed(const wire::Response& response, const std::string& problem) {
    const std::string kind = response_kind(response);
    const auto correlator = esearch_tag(response);
    for (auto& p : m_pending) {
        if (std::find(p->needs.begin(), p->needs.end(), kind) == p->needs.end()) continue;
        if (correlator && *correlator != p->tag) continue;  // another command's ESEARCH
        if (p->malformed.empty()) p->malformed = problem;
        return;
    }
    warn_once(kind, problem);
}

void Client::warn_once(const std::string& kind, const std::string& problem) {
    if (!m_warned.insert(kind).second || !m_options.warning) return;
    m_options.warning("skipped malformed " + kind + " data from the server (further ones silently): " +
                      problem);
}

Client::Tag Client::submit_needing(std::vector<std::string> needs, std::string_view name,
                                   const std::vector<wire::Arg>& args, UntaggedHandler on_untagged) {
    Tag tag = submit(name, args, std::move(on_untagged));
    m_pending.back()->needs = std::move(needs);  // nothing is read before this
    return tag;
}

// message-data = nz-number SP ("EXPUNGE" / "FETCH" ...); mailbox-data =/ number SP "EXISTS".
// VANISHED (RFC 7162 §3.2.10) without EARLIER replaces EXPUNGE under QRESYNC.
void Client::track_exists(const wire::Response& r) {
    if (r.type == "EXISTS" && r.number) {
        m_exists = static_cast<std::uint32_t>(std::min<std::uint64_t>(*r.number, 0xffffffffu));
    } else if (r.type == "EXPUNGE") {
        if (m_exists > 0) --m_exists;
    } else if (r.type == "VANISHED" && !r.args.empty() && r.args.front().kind != wire::Node::Kind::List) {
        try {
            auto gone = UidSet::parse(r.args.back().text).size();
            m_exists = gone >= m_exists ? 0 : m_exists - static_cast<std::uint32_t>(gone);
        } catch (const std::invalid_argument&) {
            // Whoever takes the response reports it; the count only guides uid_search.
        }
    }
}

bool Client::route_untagged(const wire::Response& response, const wire::Frame& frame) {
    try {
        HandlerCall call(*this);
        // By index: a handler may abandon the connection (m_pending empties).
        for (std::size_t i = 0; i < m_pending.size(); ++i) {
            Pending& p = *m_pending[i];
            if (!p.on_untagged) continue;
            try {
                if (p.on_untagged(response, frame) || m_dead) return true;
            } catch (const Abort&) {
                throw;
            } catch (const Error& e) {
                // Data the command could not read (the checks above missed it):
                // that command fails; the frame was whole, so the connection goes on.
                if (!m_dead && p.malformed.empty()) p.malformed = response.type + ": " + e.what();
                return true;
            }
        }
        if (m_unsolicited) return m_unsolicited(response, frame);
    } catch (const Abort&) {
        throw;
    } catch (const std::exception& e) {
        // A response its command could not take (malformed data, a full disk
        // in a body sink): the rest of that command's answer would reach
        // handlers in an unknown state, so the connection ends here.
        fail(std::string("cannot process ") + response.type + " response: " + e.what());
    }
    return false;
}

// ---------------------------------------------------------------------------
// Writing

void Client::write(std::string_view data) {
    try {
        m_stream->write_all(data);
    } catch (const transport::TransportError& e) {
        fail(std::string("socket error: ") + e.what());
    }
}

void Client::trace_out(std::string_view text, bool secret, bool command_start) {
    if (!m_options.trace) return;
    std::string line(text);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (secret) {
        // Keep the tag and command name only: secrets never reach a trace. What
        // follows a literal (a password after a literal user name) and every
        // SASL answer is all secret.
        auto first = line.find(' ');
        auto second = first == std::string::npos ? first : line.find(' ', first + 1);
        if (command_start && second != std::string::npos) line = line.substr(0, second) + " <redacted>";
        else if (!command_start || first == std::string::npos) line = "<redacted>";
    }
    m_options.trace("C: " + line);
}

void Client::send_line(std::string_view line, bool secret) {
    ensure_alive();
    for (char c : line) {
        if (c == '\r' || c == '\n' || c == '\0') throw Error("line contains CR, LF or NUL");
    }
    trace_out(line, secret, false);
    std::string data(line);
    data += "\r\n";
    write(data);
}

// The client counts what the source gives, whatever it is: a literal of
// another length than announced would make the server read commands as data.
void Client::write_literal(const wire::LiteralSource& source) {
    const std::uint64_t announced = source.size();
    std::uint64_t sent = 0;
    try {
        source.write_to([&](std::string_view piece) {
            if (piece.size() > announced - sent)
                throw std::runtime_error("more bytes than the " + std::to_string(announced) + " announced");
            sent += piece.size();
            write(piece);
        });
    } catch (const Abort&) {
        throw;
    } catch (const std::exception& e) {
        fail("cannot send literal " + source.describe() + ": " + e.what());
    }
    if (sent != announced)
        fail("literal " + source.describe() + " gave " + std::to_string(sent) + " of the " +
             std::to_string(announced) + " bytes announced");
}

void Client::send_pending_literals(Pending& p, bool continuation_arrived) {
    // Sends literals (and the chunk after each) until one needs a "+".
    while (p.next_literal < p.encoded.literals.size()) {
        auto& literal = p.encoded.literals[p.next_literal];
        if (literal.wait_for_continuation && !continuation_arrived) return;
        continuation_arrived = false;
        // A secret literal's size is a secret's length.
        if (m_options.trace)
            m_options.trace(p.secret ? "C: {literal}" : "C: {" + std::to_string(literal.size()) + " bytes}");
        if (literal.source) write_literal(*literal.source);
        else write(literal.data);
        literal.data.clear();
        literal.data.shrink_to_fit();
        literal.source.reset();
        ++p.next_literal;
        const auto& chunk = p.encoded.chunks[p.next_literal];
        trace_out(chunk, p.secret, false);
        write(chunk);
    }
}

Client::Tag Client::submit(std::string_view name, const std::vector<wire::Arg>& args,
                           UntaggedHandler on_untagged, ContinuationHandler on_continue) {
    ensure_alive();
    // A command still waiting for "+" owns the wire: finish its literals first.
    while (std::any_of(m_pending.begin(), m_pending.end(), [](const auto& p) {
        return p->next_literal < p->encoded.literals.size();
    })) {
        pump();
    }
    auto p = std::make_unique<Pending>();
    p->tag = m_tag_prefix + std::to_string(++m_tag_counter);
    p->name = upper(name);
    p->secret = p->name == "LOGIN" || p->name == "AUTHENTICATE";
    try {
        p->encoded = wire::encode_command(p->tag, name, args, literal_mode(), m_utf8);
    } catch (const wire::EncodeError& e) {
        throw Error(std::string("bad argument: ") + e.what());
    }
    p->on_untagged = std::move(on_untagged);
    p->on_continue = std::move(on_continue);
    p->sent_at = m_bytes_in;
    Pending& ref = *p;
    m_pending.push_back(std::move(p));
    trace_out(ref.encoded.chunks.front(), ref.secret, true);
    write(ref.encoded.chunks.front());
    send_pending_literals(ref, false);
    return ref.tag;
}

Completion Client::wait(const Tag& tag) {
    for (;;) {
        auto it = m_done.find(tag);
        if (it != m_done.end()) {
            Completion c = std::move(it->second);
            m_done.erase(it);
            return c;
        }
        ensure_alive();
        bool known = std::any_of(m_pending.begin(), m_pending.end(),
                                 [&](const auto& p) { return p->tag == tag; });
        if (!known) throw Error("unknown tag " + tag);
        pump();
    }
}

void Client::logout() noexcept {
    if (m_dead || !m_stream) return;
    try {
        m_logging_out = true;
        auto tag = submit("LOGOUT", {});
        wait(tag);
    } catch (...) {
    }
    m_state = State::Logout;
    m_dead = true;
    m_dead_reason = "connection closed after LOGOUT";
    m_stream->close();
    release_pending();
}

}  // namespace imapkeep::imap
