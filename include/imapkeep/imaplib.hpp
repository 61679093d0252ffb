// Python's imaplib brought to C++ (seed/imaplib.rst): IMAP4, IMAP4_SSL and
// IMAP4_stream, one method per command returning Response {type, data}, and
// the exceptions error / abort / readonly. Built on imapkeep::imap::Client.
//
// Behaviour follows CPython's imaplib (reference/imap-clients.md §1a): the
// same state table, the same `untagged_responses` store, the same results
// (see Response in imaplib/helpers.hpp for how `[None]` is represented), with
// these deliberate differences:
//   - arguments are quoted as the seed describes (see IMAP4 below); NUL, CR or
//     LF in an argument throws `error` (CPython: ValueError);
//   - TLS (IMAP4_SSL, starttls) verifies the chain and host name by default;
//   - STARTTLS fails closed: no STARTTLS capability, a NO or BAD reply, or
//     bytes that arrived before the command or after its tagged OK throw
//     `abort` and end the connection, so no later LOGIN can go out in clear
//     (CPython raises `error` on NO/BAD and keeps the connection);
//   - the line limit (`max_line`) also applies to IMAP4_stream;
//   - transport failures (refused, TLS, timeout) surface as `abort`;
//   - xatom() registers an unknown command for this instance only.
//
// Not thread-safe: one thread uses an IMAP4 at a time.
#pragma once

#include <imapkeep/imaplib/helpers.hpp>
#include <imapkeep/imaplib/read_buffer.hpp>
#include <imapkeep/transport/stream.hpp>
#include <imapkeep/transport/tls.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::imap {
class Client;
}
namespace imapkeep::wire {
struct Arg;
struct Frame;
struct Response;
}  // namespace imapkeep::wire

namespace imaplib {

inline constexpr int IMAP4_PORT = 143;
inline constexpr int IMAP4_SSL_PORT = 993;
// Default for IMAP4::debug of new instances (CPython's module-level Debug).
inline int Debug = 0;
// Default for IMAP4::max_line of new instances (CPython's _MAXLINE): a
// server line longer than this throws `error`.
inline std::size_t MAXLINE = 1000000;

// TLS settings for IMAP4_SSL and starttls(): ca_file / ca_dir, client_cert_file
// + client_key_file, verify (on by default: chain and host name), min_version.
using TlsOptions = imapkeep::transport::TlsOptions;

namespace detail {
// Command arguments as CPython accepts them: strings; nullopt (Python None) is
// skipped; integers are written in decimal.
inline std::optional<std::string> to_arg(std::string_view s) { return std::string(s); }
inline std::optional<std::string> to_arg(const char* s) { return std::string(s); }
inline std::optional<std::string> to_arg(const std::string& s) { return s; }
inline std::optional<std::string> to_arg(std::nullopt_t) { return std::nullopt; }
template <class T>
    requires std::is_integral_v<T>
std::optional<std::string> to_arg(T n) { return std::to_string(n); }
template <class T>
std::optional<std::string> to_arg(const std::optional<T>& v) {
    if (!v) return std::nullopt;
    return to_arg(*v);
}
}  // namespace detail

class IMAP4 {
public:
    // Any error; a BAD reply; misuse (wrong state, bad argument).
    class error : public std::runtime_error {
    public:
        using std::runtime_error::runtime_error;
    };
    // The connection cannot go on (I/O, TLS, BYE, unparsable data, timeout).
    // Closing and opening a new instance usually recovers.
    class abort : public error {
    public:
        using error::error;
    };
    // The mailbox became read-only while read-write was wanted.
    class readonly : public abort {
    public:
        using abort::abort;
    };

    // authenticate()'s authobject: gets the decoded challenge, returns the
    // response to encode, or nullopt to cancel ("*").
    using AuthObject = std::function<std::optional<std::string>(std::string_view challenge)>;
    using Args = std::vector<std::optional<std::string>>;

    // Connects (open()), reads the greeting and asks CAPABILITY. `timeout`
    // seconds apply to the connect and to every read; 0 or less throws
    // `error`. A refused or failed connection throws `abort`; a greeting that
    // is neither OK nor PREAUTH throws `error`; EOF during it `abort`.
    explicit IMAP4(std::string host = "", int port = IMAP4_PORT,
                   std::optional<double> timeout = {});
    // Logs out if still connected (state != "LOGOUT"), swallowing every error,
    // like CPython's `with` block. Overridden read/send are no longer
    // reachable here (the subclass is gone): such a subclass should call
    // logout() itself.
    virtual ~IMAP4();
    IMAP4(const IMAP4&) = delete;
    IMAP4& operator=(const IMAP4&) = delete;

    // --- Overridable I/O (the seed: "You may override this method") ---------
    // The protocol engine reads and writes only through these: lines with
    // readline(), literal bodies with read(). Defaults use the stream opened
    // by open(); their transport failures throw `abort`.
    virtual void open(std::string host = "", int port = IMAP4_PORT,
                      std::optional<double> timeout = {});
    // Up to `size` bytes: exactly `size` unless the stream ends first. The
    // engine calls it once per literal with the literal's whole size, as
    // CPython does. A transport failure part-way (a timeout) loses nothing:
    // the bytes taken so far are read again by the next call.
    virtual std::string read(std::size_t size);
    // One line including its line end ("" at EOF); more than max_line bytes
    // without a line feed throws `error`.
    virtual std::string readline();
    virtual void send(std::string_view data);
    virtual void shutdown();
    // The socket's (or pipe's) file descriptor, or -1.
    int socket() const;

    // --- Commands (lower case, as the seed) -----------------------------------
    Response append(std::string_view mailbox, std::optional<std::string_view> flags,
                    std::optional<std::string_view> date_time, std::string_view message);
    Response authenticate(std::string_view mechanism, AuthObject authobject);
    Response capability();
    Response check();
    Response close();
    Response copy(std::string_view message_set, std::string_view new_mailbox);
    Response create(std::string_view mailbox);
    Response delete_(std::string_view mailbox);
    Response deleteacl(std::string_view mailbox, std::string_view who);
    Response enable(std::string_view capability);
    Response expunge();
    Response fetch(std::string_view message_set, std::string_view message_parts);
    Response getacl(std::string_view mailbox);
    Response getannotation(std::string_view mailbox, std::string_view entry,
                           std::string_view attribute);
    Response getquota(std::string_view root);
    // data: the QUOTAROOT items, then the QUOTA items (CPython: [[...], [...]]).
    Response getquotaroot(std::string_view mailbox);
    // IDLE (RFC 2177), a simple form of CPython 3.14's idle(): waits for the
    // "+", collects every untagged response for `duration` seconds (none: until
    // the first one arrives), sends DONE and waits for the tagged reply. Returns
    // the collected responses one by one, e.g. {"EXISTS", {"3"}}; they are not
    // left in untagged_responses. No IDLE capability or a NO throws `error`.
    std::vector<Response> idle(std::optional<double> duration = {});
    Response list(std::string_view directory = "\"\"", std::string_view pattern = "*");
    Response login(std::string_view user, std::string_view password);
    Response login_cram_md5(std::string_view user, std::string_view password);
    // Returns the server's BYE ({"BYE", [text]}) and closes the connection.
    Response logout();
    Response lsub(std::string_view directory = "\"\"", std::string_view pattern = "*");
    Response myrights(std::string_view mailbox);
    Response namespace_();
    Response noop();
    Response partial(std::string_view message_num, std::string_view message_part,
                     std::string_view start, std::string_view length);
    Response proxyauth(std::string_view user);
    // RECENT data if any is held, else after a NOOP; empty data if none.
    Response recent();
    Response rename(std::string_view oldmailbox, std::string_view newmailbox);
    // Pops the data held for `code` (upper-cased); type is `code` as given.
    Response response(std::string_view code);
    Response search_args(std::optional<std::string_view> charset, const Args& criteria);
    template <class... A>
    Response search(std::optional<std::string_view> charset, const A&... criteria) {
        return search_args(charset, Args{detail::to_arg(criteria)...});
    }
    // SELECT, or EXAMINE when readonly. data: the EXISTS data.
    Response select(std::string_view mailbox = "INBOX", bool readonly = false);
    Response setacl(std::string_view mailbox, std::string_view who, std::string_view what);
    Response setannotation_args(const Args& args);
    template <class... A>
    Response setannotation(const A&... args) {
        return setannotation_args(Args{detail::to_arg(args)...});
    }
    Response setquota(std::string_view root, std::string_view limits);
    Response sort_args(std::string_view sort_criteria, std::string_view charset,
                       const Args& search_criteria);
    template <class... A>
    Response sort(std::string_view sort_criteria, std::string_view charset, const A&... criteria) {
        return sort_args(sort_criteria, charset, Args{detail::to_arg(criteria)...});
    }
    // Upgrades to TLS (verified by default; server name = the host given to
    // open(), "localhost" when empty) and asks CAPABILITY again. Any refusal
    // throws `abort` and closes the connection (state "LOGOUT"); in state
    // AUTH (PREAUTH) it throws `error` and sends nothing.
    Response starttls(const TlsOptions& options = {});
    Response status(std::string_view mailbox, std::string_view names);
    Response store(std::string_view message_set, std::string_view command, std::string_view flags);
    Response subscribe(std::string_view mailbox);
    Response thread_args(std::string_view threading_algorithm, std::string_view charset,
                         const Args& search_criteria);
    template <class... A>
    Response thread(std::string_view threading_algorithm, std::string_view charset,
                    const A&... criteria) {
        return thread_args(threading_algorithm, charset, Args{detail::to_arg(criteria)...});
    }
    Response uid_args(std::string_view command, const Args& args);
    template <class... A>
    Response uid(std::string_view command, const A&... args) {
        return uid_args(command, Args{detail::to_arg(args)...});
    }
    Response unselect();
    Response unsubscribe(std::string_view mailbox);
    Response xatom_args(std::string_view name, const Args& args);
    template <class... A>
    Response xatom(std::string_view name, const A&... args) {
        return xatom_args(name, Args{detail::to_arg(args)...});
    }

    // --- Upper-case aliases (the seed: "either upper-case or lower-case") ----
    Response APPEND(std::string_view m, std::optional<std::string_view> f,
                    std::optional<std::string_view> d, std::string_view msg) {
        return append(m, f, d, msg);
    }
    Response AUTHENTICATE(std::string_view m, AuthObject a) { return authenticate(m, std::move(a)); }
    Response CAPABILITY() { return capability(); }
    Response CHECK() { return check(); }
    Response CLOSE() { return close(); }
    Response COPY(std::string_view s, std::string_view m) { return copy(s, m); }
    Response CREATE(std::string_view m) { return create(m); }
    Response DELETE(std::string_view m) { return delete_(m); }
    Response DELETEACL(std::string_view m, std::string_view w) { return deleteacl(m, w); }
    Response ENABLE(std::string_view c) { return enable(c); }
    Response EXPUNGE() { return expunge(); }
    Response FETCH(std::string_view s, std::string_view p) { return fetch(s, p); }
    Response GETACL(std::string_view m) { return getacl(m); }
    Response GETANNOTATION(std::string_view m, std::string_view e, std::string_view a) {
        return getannotation(m, e, a);
    }
    Response GETQUOTA(std::string_view r) { return getquota(r); }
    Response GETQUOTAROOT(std::string_view m) { return getquotaroot(m); }
    std::vector<Response> IDLE(std::optional<double> d = {}) { return idle(d); }
    Response LIST(std::string_view d = "\"\"", std::string_view p = "*") { return list(d, p); }
    Response LOGIN(std::string_view u, std::string_view p) { return login(u, p); }
    Response LOGOUT() { return logout(); }
    Response LSUB(std::string_view d = "\"\"", std::string_view p = "*") { return lsub(d, p); }
    Response MYRIGHTS(std::string_view m) { return myrights(m); }
    Response NAMESPACE() { return namespace_(); }
    Response NOOP() { return noop(); }
    Response PARTIAL(std::string_view n, std::string_view p, std::string_view s, std::string_view l) {
        return partial(n, p, s, l);
    }
    Response PROXYAUTH(std::string_view u) { return proxyauth(u); }
    Response RENAME(std::string_view o, std::string_view n) { return rename(o, n); }
    template <class... A>
    Response SEARCH(std::optional<std::string_view> c, const A&... a) { return search(c, a...); }
    Response SELECT(std::string_view m = "INBOX", bool ro = false) { return select(m, ro); }
    Response SETACL(std::string_view m, std::string_view w, std::string_view x) {
        return setacl(m, w, x);
    }
    template <class... A>
    Response SETANNOTATION(const A&... a) { return setannotation(a...); }
    Response SETQUOTA(std::string_view r, std::string_view l) { return setquota(r, l); }
    template <class... A>
    Response SORT(std::string_view s, std::string_view c, const A&... a) { return sort(s, c, a...); }
    Response STARTTLS(const TlsOptions& o = {}) { return starttls(o); }
    Response STATUS(std::string_view m, std::string_view n) { return status(m, n); }
    Response STORE(std::string_view s, std::string_view c, std::string_view f) {
        return store(s, c, f);
    }
    Response SUBSCRIBE(std::string_view m) { return subscribe(m); }
    template <class... A>
    Response THREAD(std::string_view t, std::string_view c, const A&... a) {
        return thread(t, c, a...);
    }
    template <class... A>
    Response UID(std::string_view c, const A&... a) { return uid(c, a...); }
    Response UNSELECT() { return unselect(); }
    Response UNSUBSCRIBE(std::string_view m) { return unsubscribe(m); }

    // --- Attributes (named as CPython's, hence not m_-prefixed) -------------
    std::string PROTOCOL_VERSION;             // "IMAP4REV1" or "IMAP4"
    int debug = Debug;                        // > 3: trace lines to stderr (secrets hidden)
    std::vector<std::string> capabilities;    // upper-cased
    std::map<std::string, std::vector<Datum>> untagged_responses;
    std::string welcome;                      // the greeting line
    std::string state = "LOGOUT";             // NONAUTH AUTH SELECTED LOGOUT
    bool utf8_enabled = false;                // after ENABLE UTF8=ACCEPT
    bool is_readonly = false;                 // read-only was asked at select()
    std::string host;
    int port = 0;
    std::size_t max_line = MAXLINE;           // readline() limit

protected:
    // --- Hooks for subclasses -------------------------------------------------
    // A virtual function called from a constructor does not reach a subclass,
    // so a subclass that overrides open() (or read/readline/send) constructs
    // the base with `Deferred{}` and then, from its own constructor, calls
    // start() (which calls its open()) or start_with_stream() (an already open
    // transport::Stream, e.g. SSH: `IMAP4_ssh() : IMAP4(Deferred{}) {
    // start_with_stream(transport::connect_ssh(opts)); }`). Both read the
    // greeting and capabilities, and on failure shut down and rethrow.
    struct Deferred {};
    explicit IMAP4(Deferred);
    void start(std::string host, int port, std::optional<double> timeout);
    void start_with_stream(imapkeep::transport::StreamPtr stream, std::string host = "");
    // For an overridden open(): installs the stream the default read/readline/
    // send/shutdown use (replacing any previous one).
    void set_stream(imapkeep::transport::StreamPtr stream);
    imapkeep::transport::Stream* stream() const { return m_stream.get(); }
    // Seconds given to the constructor, as a connect/read timeout.
    static std::optional<std::chrono::milliseconds> to_timeout(std::optional<double> seconds);
    // A TCP connection to `host`:`port` with the timeout applied to connect and
    // reads, for open() and its overrides. Failures throw abort.
    imapkeep::transport::StreamPtr connect_tcp_stream(std::optional<double> timeout);

private:
    class Pipe;
    friend class Pipe;
    struct Tagged {
        std::string type;
        std::string data;
    };

    void connect_session();  // CPython's _connect()
    void connect_or_close(); // connect_session(), shutting the stream down if it throws
    void get_capabilities();
    void make_client();
    std::string command(std::string_view name, std::vector<imapkeep::wire::Arg> args,
                        const AuthObject* auth = nullptr);
    imapkeep::wire::Arg quoted_arg(std::string_view arg) const;
    std::vector<imapkeep::wire::Arg> quoted_args(const Args& args) const;
    Response command_complete(std::string_view name, const std::string& tag);
    Response simple_command(std::string_view name, const Args& args = {});
    Response untagged_response(Response result, const std::string& name);
    void check_bye();
    std::size_t read_stream(std::span<char> into);  // transport errors become abort
    void observe(imapkeep::wire::Frame& frame);
    void take_literals(imapkeep::wire::Frame& frame);
    void append_untagged(const std::string& type, Datum datum);
    void trace(std::string_view text) const;
    [[noreturn]] void rethrow_mapped(std::exception_ptr e);
    void check_stash();
    bool has_unread_input() const;  // bytes received but not yet consumed
    template <class F>
    auto guarded(F&& f) -> decltype(f());
    void check_state(const std::string& name) const;
    [[noreturn]] void refuse_starttls(const std::string& why);

    imapkeep::transport::StreamPtr m_stream;     // what open() opened
    std::unique_ptr<imapkeep::imap::Client> m_client;
    Pipe* m_pipe = nullptr;                      // owned by m_client
    std::optional<std::chrono::milliseconds> m_timeout;
    detail::ReadBuffer m_rbuf;                   // read from m_stream, not yet consumed
    std::string m_tagpre;
    std::map<std::string, Tagged> m_tagged;      // completed tags seen by observe()
    std::map<std::string, std::vector<std::string>> m_extra_commands;  // xatom()
    std::exception_ptr m_stashed;                // thrown inside the client's I/O
    bool m_tls_established = false;
    bool m_logging_out = false;
    bool m_bye_during_logout = false;
    bool m_welcome_pending = false;
    std::string m_continuation;                  // data of the last "+" line
    std::optional<Tagged> m_logout_tagged;
    std::vector<Response>* m_idle_capture = nullptr;
};

// IMAP over implicit TLS (RFC 8314), verified by default.
class IMAP4_SSL : public IMAP4 {
public:
    explicit IMAP4_SSL(std::string host = "", int port = IMAP4_SSL_PORT, TlsOptions ssl_context = {},
                       std::optional<double> timeout = {});
    void open(std::string host = "", int port = IMAP4_SSL_PORT,
              std::optional<double> timeout = {}) override;
    const TlsOptions& ssl_context() const { return m_tls; }

private:
    TlsOptions m_tls;
};

// IMAP over a child process's stdin/stdout: `/bin/sh -c command`. A PREAUTH
// greeting leaves it in state "AUTH".
class IMAP4_stream : public IMAP4 {
public:
    explicit IMAP4_stream(std::string command);
    void open(std::string host = "", int port = 0, std::optional<double> timeout = {}) override;
    const std::string& command() const { return m_command; }

private:
    std::string m_command;
};

}  // namespace imaplib
