// imap::Client: one IMAP connection with tags, pipelining, state, capabilities,
// SASL and typed commands. The backup engine and the imaplib façade both sit on
// it. Single-threaded: one thread drives a Client at a time.
//
// Ownership: the Client owns its Stream. Sinks passed in must outlive the
// command they are used for.
// Errors: Abort for anything that ends the connection (then every later call
// throws Abort too), Error for misuse and BAD, CommandFailed from typed
// commands on NO/BAD, ReadOnly when EXAMINE/SELECT state turns read-only.
// Any failure while reading or dispatching with commands in flight (an
// over-long line, a response that fits no rule, a sink, observer or
// continuation callback that throws) abandons the connection, and every
// pending command's handlers are released: no reply read later can reach the
// handler of a command whose caller has gone (DESIGN.md invariant 5). Only
// with nothing in flight is an over-long line a plain Error that skips the
// line and keeps the connection (imaplib's `error`).
// Malformed untagged data in a whole frame (a known type whose data does not
// parse or does not check, response_checks.hpp; a handler throwing Error) is
// not a connection failure: data a command in flight needs fails that command
// (Completion::malformed, CommandFailed::malformed()) when its tagged reply
// arrives, and data none needs is skipped (ClientOptions::warning, once per
// kind). Lists nested deeper than Limits::max_depth still end the connection.
#pragma once

#include <imapkeep/imap/errors.hpp>
#include <imapkeep/imap/fetch_items.hpp>
#include <imapkeep/imap/namespaces.hpp>
#include <imapkeep/imap/sasl.hpp>
#include <imapkeep/imap/search_key.hpp>
#include <imapkeep/imap/status_items.hpp>
#include <imapkeep/imap/store_flags.hpp>
#include <imapkeep/imap/types.hpp>
#include <imapkeep/transport/stream.hpp>
#include <imapkeep/transport/tls.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <imapkeep/wire/framer.hpp>
#include <imapkeep/wire/response.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace imapkeep::imap {

enum class State { NotAuthenticated, Authenticated, Selected, Logout };

struct ClientOptions {
    wire::Limits limits;
    // Called with each line sent/received (secrets redacted), prefixed "C: "/"S: ".
    std::function<void(std::string_view)> trace;
    // Called once per kind of malformed untagged data that no command in
    // flight needed and that was skipped (e.g. "OK [HIGHESTMODSEQ]", "LIST"),
    // with a one-line description. Later ones of the same kind are skipped
    // silently, so a server that repeats one mistake fills no log.
    std::function<void(std::string_view)> warning;
    // Capabilities to ignore, as if the server never offered them (like mbsync's
    // DisableExtension): for servers whose extensions misbehave. Upper-case.
    std::vector<std::string> disabled_capabilities;
};

// Parameters for SELECT/EXAMINE (QRESYNC ...) (RFC 7162 §3.2.5).
struct QresyncParams {
    UidValidity uidvalidity;
    ModSeq modseq;
    std::optional<UidSet> known_uids;
    // When set, each FETCH of the changes (RFC 7162 §3.2.5.1) is handed here
    // as it arrives instead of being kept in SelectData::changed: a server
    // may name every message of the mailbox (a rebuilt index gives each a
    // new mod-sequence), and the caller then decides what to keep.
    std::function<void(FetchData&)> on_changed = {};
};

// LIST's return options (RFC 5258 §3): typed, like every typed command's.
struct ListOptions {
    StatusItems return_status;  // RETURN (STATUS (...)) when not empty: LIST-STATUS (RFC 5819)
    bool special_use = false;   // RETURN (SPECIAL-USE) (RFC 6154)
};

class Client {
public:
    using Tag = std::string;
    // Returns true if it took the response. Also receives the frame for literals.
    using UntaggedHandler = std::function<bool(const wire::Response&, const wire::Frame&)>;
    // Called with a continuation request's text; returns the line to send (without
    // CRLF), or nullopt to send nothing and keep waiting.
    using ContinuationHandler = std::function<std::optional<std::string>(const wire::Response&)>;
    using FetchHandler = std::function<void(FetchData&)>;
    // Chooses where a FETCH body literal goes: called with the response's first
    // line so far (e.g. "* 3 FETCH (UID 7 BODY[] {1234}") and the literal's size.
    using BodySinkFactory = std::function<wire::LiteralSink*(std::string_view, std::uint64_t)>;

    explicit Client(transport::StreamPtr stream, ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // --- Connection ---------------------------------------------------------

    // Reads the greeting (RFC 3501 §7.1): OK -> NotAuthenticated, PREAUTH ->
    // Authenticated. EOF -> Abort; BYE -> Abort; anything else -> Error.
    const wire::Response& read_greeting();
    const wire::Response& greeting() const { return m_greeting; }
    State state() const { return m_state; }
    void set_state(State s) { m_state = s; }
    bool utf8_enabled() const { return m_utf8; }
    transport::Stream& stream() { return *m_stream; }
    const ClientOptions& options() const { return m_options; }
    void set_read_timeout(std::optional<std::chrono::milliseconds> t) { m_stream->set_read_timeout(t); }
    // The OAuth2 access token this connection authenticated with ("" for any
    // other login), so that a session the server ends because the token
    // expired can name it as refused (ConnectOptions::oauth2_token_rejected).
    const std::string& oauth2_token() const { return m_oauth2_token; }
    void set_oauth2_token(std::string token) { m_oauth2_token = std::move(token); }

    // --- Raw level: any command, pipelined ---------------------------------

    // Encodes and sends a command; returns its tag at once. Synchronizing literals
    // are sent when the server's "+" arrives (other responses are processed while
    // waiting). A BAD/NO before "+" completes the command without its literal.
    Tag submit(std::string_view name, const std::vector<wire::Arg>& args,
               UntaggedHandler on_untagged = {}, ContinuationHandler on_continue = {});
    // Reads until `tag` completes and returns how it ended. Untagged responses go
    // to the handler of the oldest pending command that takes them, else to the
    // unsolicited handler. An untagged BYE (outside LOGOUT) -> Abort; so is a
    // tagged reply for a tag not in flight, or one that arrived before its
    // command was sent.
    Completion wait(const Tag& tag);
    Completion run(std::string_view name, const std::vector<wire::Arg>& args,
                   UntaggedHandler on_untagged = {}, ContinuationHandler on_continue = {}) {
        return wait(submit(name, args, std::move(on_untagged), std::move(on_continue)));
    }
    // Sends a raw line (CRLF added), e.g. IDLE's DONE or a SASL response.
    void send_line(std::string_view line, bool secret = false);
    // Reads and dispatches one response; returns it (for IDLE loops). Throws
    // transport timeouts as Abort unless `timeout_ok`, in which case returns nullopt.
    std::optional<wire::Response> read_one(bool timeout_ok = false);
    // Number of commands sent and not yet completed.
    std::size_t pending() const { return m_pending.size(); }

    void set_unsolicited_handler(UntaggedHandler handler) { m_unsolicited = std::move(handler); }
    void set_tag_prefix(std::string prefix) { m_tag_prefix = std::move(prefix); }
    const std::string& tag_prefix() const { return m_tag_prefix; }
    void set_literal_mode_override(std::optional<wire::LiteralMode> m) { m_literal_override = m; }
    // Lets a caller see every Frame as it is read, before it is parsed (imaplib
    // keeps the raw lines). The observer may take a buffered literal's bytes
    // (std::move): the parsed response then holds that literal as empty text,
    // which only suits a caller that, like imaplib, reads literals from the
    // frame alone. Saves two copies of every body on a FETCH (issue 10).
    void set_frame_observer(std::function<void(wire::Frame&)> f) { m_frame_observer = std::move(f); }

    // --- Capabilities -----------------------------------------------------

    // Cached; asks CAPABILITY when unknown or invalidated (after STARTTLS, LOGIN,
    // AUTHENTICATE). Upper-cased.
    const std::vector<std::string>& capabilities();
    bool has_capability(std::string_view name);
    void invalidate_capabilities() { m_caps_known = false; }

    // --- Typed commands ---------------------------------------------------

    // RFC 3501 §6.2.1. Fails closed (Abort): no STARTTLS capability, NO/BAD,
    // already authenticated (PREAUTH), bytes buffered before the command was
    // sent or after the tagged OK. Capabilities are asked again.
    void starttls(const transport::TlsOptions& options, const std::string& host);
    // RFC 4978 COMPRESS=DEFLATE: after the tagged OK both directions are raw
    // DEFLATE. Fails closed like STARTTLS: bytes buffered after the OK -> Abort.
    // Returns false (nothing sent) when the server does not offer it.
    bool compress();
    void login(const std::string& user, const std::string& password);
    // Uses SASL-IR when offered and the mechanism has an initial response.
    void authenticate(SaslMechanism& mechanism);
    // RFC 5161. Returns what the server reports enabled. UTF8=ACCEPT switches
    // mailbox-name encoding to UTF-8.
    std::vector<std::string> enable(const std::vector<std::string>& extensions);
    // Commands that take a mailbox come in two forms: a UTF-8 name, encoded as
    // modified UTF-7 (or sent as UTF-8 under UTF8=ACCEPT), and a MailboxName,
    // whose bytes go back exactly as the server listed them (invariant 6; use
    // ListEntry::mailbox() for a listed mailbox).
    SelectData select(const std::string& mailbox, bool read_only = true,
                      const std::optional<QresyncParams>& qresync = {}, bool condstore = false);
    SelectData select(const MailboxName& mailbox, bool read_only = true,
                      const std::optional<QresyncParams>& qresync = {}, bool condstore = false);
    void unselect();  // UNSELECT when offered, else CLOSE (only after EXAMINE)
    void close();
    std::vector<ListEntry> list(const std::string& reference, const std::string& pattern,
                                const ListOptions& options = {},
                                std::vector<StatusData>* statuses = nullptr);
    // NAMESPACE (RFC 2342; namespaces.hpp): the server's three lists, the
    // prefixes decoded. Ask only when NAMESPACE is offered. NO or BAD, or data
    // that does not parse (parse_namespace_response) -> CommandFailed.
    NamespaceData namespaces();
    // STATUS mailbox (items) (RFC 3501 §6.3.10): the reply's values, typed.
    // NO or BAD -> CommandFailed; an empty `items` -> std::invalid_argument.
    StatusData status(const std::string& mailbox, const StatusItems& items);
    StatusData status(const MailboxName& mailbox, const StatusItems& items);
    // LIST above and the typed commands below take typed values (ListOptions,
    // StatusItems, FetchItems, SearchKey, StoreFlags, FlagList), never
    // protocol text: what a caller passes cannot reshape a command. The raw
    // level above stays for the imaplib face.
    //
    // UID SEARCH `key` (RFC 3501 §6.4.4), with "CHARSET UTF-8" first when a
    // string holds 8-bit text and UTF8=ACCEPT is off; with `esearch`,
    // RETURN (ALL) (RFC 4731) asks for ranges.
    // Large mailboxes: one "* SEARCH" line lists at most max_line / 11 UIDs
    // (about 95,000 with the default 1 MiB limit), and a longer line would end
    // the connection. So when the selected mailbox holds more messages than
    // that (as its EXISTS responses said), the search runs in pieces: one FETCH
    // asks the UIDs of every piece's last message by sequence number, then one
    // UID SEARCH per UID range ("UID lo:hi" before the key, after any CHARSET),
    // pipelined, and the answers are merged. A UID range between two such
    // messages holds at most one line's worth whatever expunges happen
    // meanwhile, and new messages fall in the last, open-ended range, so no
    // message is missed.
    SearchData uid_search(const SearchKey& key, bool esearch = false);
    // UID FETCH set (items) [(CHANGEDSINCE m [VANISHED])]. Untagged FETCH data
    // goes to the oldest UID FETCH still open. A server may run pipelined
    // commands at once (RFC 3501 §5.5; Dovecot does with FETCHes), so a later
    // FETCH's data can come before an earlier one's completion: a caller with
    // several in flight keys what it collects by UID, not by command.
    Tag submit_uid_fetch(const UidSet& uids, const FetchItems& items, FetchHandler handler,
                         std::optional<ModSeq> changed_since = {}, bool vanished = false);
    void uid_fetch(const UidSet& uids, const FetchItems& items, FetchHandler handler,
                   std::optional<ModSeq> changed_since = {}, bool vanished = false);
    // UID STORE set change (RFC 3501 §6.4.6). NO or BAD -> CommandFailed. The
    // FETCH responses of a change without .SILENT go to the unsolicited handler.
    void uid_store(const UidSet& uids, const StoreFlags& change);
    // Where streamed bodies go; nullptr buffers them in FetchData::body.
    void set_body_sink_factory(BodySinkFactory factory) { m_body_sinks = std::move(factory); }
    // Where every literal goes, bodies or not (the imaplib face takes each one
    // whole from its own read()); wins over the body sink factory. nullptr
    // buffers the literal in its frame, within Limits::max_buffered_response.
    void set_literal_sink_factory(BodySinkFactory factory) { m_literal_sinks = std::move(factory); }

    // APPEND (RFC 3501 §6.3.11) with LITERAL+/- when offered; APPENDUID from UIDPLUS.
    // No flag-list is sent when `flags` is empty.
    // A file body (AppendBody::file) is read and sent in bounded chunks; one that
    // cannot be read, or no longer has its announced size, ends the connection (Abort).
    Tag submit_append(const std::string& mailbox, const FlagList& flags,
                      const std::optional<std::string>& internaldate, AppendBody message);
    Tag submit_append(const MailboxName& mailbox, const FlagList& flags,
                      const std::optional<std::string>& internaldate, AppendBody message);
    AppendResult finish_append(const Tag& tag);  // throws CommandFailed on NO
    AppendResult append(const std::string& mailbox, const FlagList& flags,
                        const std::optional<std::string>& internaldate, AppendBody message) {
        return finish_append(submit_append(mailbox, flags, internaldate, std::move(message)));
    }
    AppendResult append(const MailboxName& mailbox, const FlagList& flags,
                        const std::optional<std::string>& internaldate, AppendBody message) {
        return finish_append(submit_append(mailbox, flags, internaldate, std::move(message)));
    }
    // MULTIAPPEND (RFC 3502): several messages in one command, appended all or
    // none. Every body is held until it is sent, so keep batches small. The
    // results follow the messages' order (UIDs from APPENDUID's uid-set).
    Tag submit_multiappend(const std::string& mailbox, std::vector<AppendMessage> messages);
    Tag submit_multiappend(const MailboxName& mailbox, std::vector<AppendMessage> messages);
    std::vector<AppendResult> finish_multiappend(const Tag& tag, std::size_t count);
    void create(const std::string& mailbox);
    void create(const MailboxName& mailbox);
    void delete_mailbox(const std::string& mailbox);
    void delete_mailbox(const MailboxName& mailbox);
    void rename_mailbox(const std::string& from, const std::string& to);
    void rename_mailbox(const MailboxName& from, const MailboxName& to);
    void noop();
    // Sends LOGOUT, reads the BYE and the tagged OK, closes the stream. Never throws.
    void logout() noexcept;

    // Mailbox name on the wire: modified UTF-7 (or UTF-8 when UTF8=ACCEPT is on).
    std::string encode_mailbox(const std::string& utf8_name) const;
    MailboxName mailbox_name(const std::string& utf8_name) const {
        return MailboxName::from_wire(encode_mailbox(utf8_name));
    }
    std::string decode_mailbox(const std::string& wire_name) const;

    // Sends a literal's bytes from its source, exactly as many as announced.
    void write_literal(const wire::LiteralSource& source);
    // Abort with a message, closing the stream; every later call throws.
    [[noreturn]] void fail(const std::string& message);
    // The same without throwing: for a caller that gives up on commands still in
    // flight (their handlers may point at state that is about to go away).
    // Either way every pending command's handlers are released (pending() is
    // 0 after), so nothing the caller lent them is kept alive or reachable.
    void abandon(const std::string& message) noexcept;

private:
    struct Pending;
    struct HandlerCall;
    struct RawResponse {
        wire::Frame frame;
        wire::Response response;
        std::string malformed;  // the data of a whole frame did not parse
    };
    void ensure_alive() const;
    void release_pending() noexcept;
    wire::LiteralMode literal_mode();
    // Reads until one whole response is framed and parsed. nullopt only on a
    // timeout when timeout_ok.
    std::optional<RawResponse> read_frame(bool timeout_ok);
    void trace_frame(const wire::Frame& frame) const;
    void pump();  // reads one response and dispatches it
    void track_exists(const wire::Response& untagged);
    Tag submit_uid_search(const SearchKey& key, bool esearch, SearchData& into);
    // UID ranges that each hold at most `per_piece` of the selected mailbox's messages.
    std::vector<UidSet::Range> search_pieces(std::uint32_t per_piece);
    // Runs one read-and-dispatch step. Invariant 5 (DESIGN.md): if it throws
    // while commands are in flight, the connection is abandoned first, so no
    // later reply reaches a handler whose caller has gone. The client's own
    // Error becomes Abort; a caller's exception keeps its type.
    template <class Step>
    auto abandon_on_error(Step&& step) -> decltype(step());
    void dispatch(const wire::Frame& frame, wire::Response&& response, std::string malformed = {});
    // Malformed untagged data: fails the oldest command in flight that needs
    // its kind, or is skipped with one warning per kind.
    void handle_malformed(const wire::Response& response, const std::string& problem);
    void warn_once(const std::string& kind, const std::string& problem);
    // submit() for a typed command that needs untagged data of these kinds.
    Tag submit_needing(std::vector<std::string> needs, std::string_view name,
                       const std::vector<wire::Arg>& args, UntaggedHandler on_untagged);
    bool route_untagged(const wire::Response& response, const wire::Frame& frame);
    void send_pending_literals(Pending& pending, bool continuation_arrived);
    void set_capabilities_from(std::string_view text);
    void write(std::string_view data);
    void trace_out(std::string_view text, bool secret, bool command_start);
    void expect_ok(const std::string& command, const Completion& completion);
    // append-message = [SP flag-list] [SP date-time] SP literal, added to `args`.
    static void add_append_message(std::vector<wire::Arg>& args, AppendMessage message);

    transport::StreamPtr m_stream;
    ClientOptions m_options;
    wire::Framer m_framer;
    wire::Response m_greeting;
    State m_state = State::NotAuthenticated;
    std::uint64_t m_bytes_in = 0;  // bytes fed to m_framer so far (Frame::offset's scale)
    bool m_dead = false;
    std::string m_dead_reason;
    ServerHint m_dead_hint;  // what the BYE that ended the connection said
    std::string m_oauth2_token;
    bool m_utf8 = false;
    std::uint32_t m_exists = 0;  // messages in the selected mailbox, per EXISTS/EXPUNGE
    bool m_logging_out = false;
    std::string m_tag_prefix = "K";
    std::uint64_t m_tag_counter = 0;
    std::optional<wire::LiteralMode> m_literal_override;
    std::set<std::string> m_warned;  // kinds of malformed data already warned about
    std::vector<std::string> m_caps;
    bool m_caps_known = false;
    std::deque<std::unique_ptr<Pending>> m_pending;
    // Commands abandoned while one of their handlers was running: destroyed
    // once no handler is on the stack any more (HandlerCall).
    std::deque<std::unique_ptr<Pending>> m_retired;
    int m_handler_depth = 0;
    std::map<Tag, Completion> m_done;
    UntaggedHandler m_unsolicited;
    BodySinkFactory m_body_sinks;
    BodySinkFactory m_literal_sinks;
    std::function<void(wire::Frame&)> m_frame_observer;
};

}  // namespace imapkeep::imap
