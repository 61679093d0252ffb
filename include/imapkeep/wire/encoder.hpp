// Encodes command arguments from typed values (RFC 3501 §4, §9). The encoder
// picks atom, quoted or literal, and never lets NUL, CR or LF reach the wire
// outside a literal. Raw arguments are validated the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::wire {

class EncodeError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// How literals may be sent (RFC 7888).
enum class LiteralMode {
    Synchronizing,  // "{n}" and wait for "+"
    LiteralPlus,    // "{n+}" always (LITERAL+)
    LiteralMinus,   // "{n+}" when n <= 4096 (LITERAL-), else synchronizing
};

// The bytes of a literal too big to hold (an APPEND body in a file), produced
// while the literal is sent.
class LiteralSource {
public:
    using Sink = std::function<void(std::string_view)>;
    virtual ~LiteralSource() = default;
    // The octet count announced in "{n}"; it must not change.
    virtual std::uint64_t size() const = 0;
    // Passes exactly size() bytes to `sink`, in pieces of bounded size; may be
    // called again (a command sent twice, flatten()). Throws std::runtime_error
    // when it cannot: part of the literal may then be sent already, so the
    // connection must end (the server would read what follows as its bytes).
    virtual void write_to(const Sink& sink) const = 0;
    virtual std::string describe() const = 0;  // for error messages
};

struct Arg {
    enum class Kind {
        Atom,     // sent as is; must be a valid atom (with '\\' and '[]' allowed for flags
                  // and fetch-atts); else EncodeError
        Raw,      // trusted syntax (sequence sets, checked fetch-atts), from imap/ only;
                  // sent as is; NUL/CR/LF -> EncodeError
        AString,  // atom if it can be, else quoted, else literal
        String,   // quoted, else literal (never an atom)
        Literal,  // always a literal (APPEND message)
        Literal8, // "~{n}" (RFC 3516)
        Mailbox,  // a mailbox name's exact bytes (DESIGN.md invariant 6): atom if it
                  // can be, else quoted when quotable, else a literal, so CR, LF and
                  // 8-bit bytes go verbatim; NUL -> EncodeError (RFC 3501 CHAR8 has
                  // no NUL, so no form of astring can carry it)
        List,     // "(" [item *(SP item)] ")" of `items`, each encoded by its own kind
                  // (flag-list, fetch-att lists, a parenthesized search-key)
    };
    Kind kind;
    std::string value;
    // Literal only: the bytes come from here instead of `value` (never held whole).
    std::shared_ptr<const LiteralSource> source = nullptr;
    std::vector<Arg> items = {};  // List only

    static Arg atom(std::string v) { return {Kind::Atom, std::move(v)}; }
    static Arg raw(std::string v) { return {Kind::Raw, std::move(v)}; }
    static Arg astring(std::string v) { return {Kind::AString, std::move(v)}; }
    static Arg string(std::string v) { return {Kind::String, std::move(v)}; }
    static Arg literal(std::string v) { return {Kind::Literal, std::move(v)}; }
    static Arg literal(std::shared_ptr<const LiteralSource> s) { return {Kind::Literal, {}, std::move(s)}; }
    static Arg literal8(std::string v) { return {Kind::Literal8, std::move(v)}; }
    static Arg mailbox(std::string wire_bytes) { return {Kind::Mailbox, std::move(wire_bytes)}; }
    static Arg list(std::vector<Arg> items) { return {Kind::List, {}, nullptr, std::move(items)}; }
};

// An encoded command: text chunks with literals between them. chunks[i] ends with
// the "{n}"/"{n+}" marker of literals[i] followed by its CRLF, so each chunk is
// sent as is; the last chunk ends with the command's CRLF.
// chunks.size() == literals.size() + 1. Send: chunks[0], then for each i: wait for
// "+" if literals[i].wait_for_continuation, literals[i]'s bytes (data, or all
// that source->write_to produces), chunks[i + 1].
struct EncodedCommand {
    struct Literal {
        std::string data;
        bool wait_for_continuation;  // synchronizing: send only after "+"
        std::shared_ptr<const LiteralSource> source = nullptr;  // set: the bytes, `data` empty
        std::uint64_t size() const { return source ? source->size() : data.size(); }
    };
    std::vector<std::string> chunks;
    std::vector<Literal> literals;

    std::string flatten() const;  // for tests and traces; reads every source whole
};

// "tag SP name [SP arg]* CRLF". `name` may contain spaces ("UID FETCH").
// utf8: quoted strings may carry 8-bit (UTF8=ACCEPT, RFC 6855); otherwise 8-bit
// forces a literal. Throws EncodeError for an invalid tag or name (each word must
// be an atom; the tag has no '+'), an empty Atom or Raw, and NUL/CR/LF in any
// argument that is not a Literal/Literal8, and NUL in a Mailbox. AString/String
// never turn NUL/CR/LF into a literal: no password or search string needs them;
// a Mailbox sends CR/LF in a literal, as the server listed them.
// AString "NIL" is quoted so that it is never read as nil.
EncodedCommand encode_command(std::string_view tag, std::string_view name,
                              const std::vector<Arg>& args,
                              LiteralMode mode = LiteralMode::Synchronizing, bool utf8 = false);

// quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR escapes '"' and '\\'.
std::string quote(std::string_view text);
// ATOM-CHAR = <any CHAR except atom-specials>
bool is_atom(std::string_view text);
// True if `text` can be sent as a quoted string (no NUL/CR/LF, 7-bit unless utf8).
bool is_quotable(std::string_view text, bool utf8 = false);

}  // namespace imapkeep::wire
