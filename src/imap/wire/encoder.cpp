// Command encoding (RFC 3501 §4, §9; RFC 7888 LITERAL+/LITERAL-; RFC 3516 literal8).
#include <imapkeep/wire/encoder.hpp>

#include "imap/wire/chars.hpp"

namespace imapkeep::wire {

namespace {

// RFC 7888 §4: LITERAL- allows non-synchronizing literals up to 4096 octets.
constexpr std::size_t kLiteralMinusMax = 4096;

bool has_nul_cr_lf(std::string_view text) {
    return text.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos;
}

bool is_nil(std::string_view text) {
    return text.size() == 3 && (text[0] | 0x20) == 'n' && (text[1] | 0x20) == 'i' &&
           (text[2] | 0x20) == 'l';
}

const char* kind_name(Arg::Kind kind) {
    switch (kind) {
    case Arg::Kind::Atom: return "atom";
    case Arg::Kind::Raw: return "raw";
    case Arg::Kind::AString: return "astring";
    case Arg::Kind::String: return "string";
    case Arg::Kind::Literal: return "literal";
    case Arg::Kind::Literal8: return "literal8";
    case Arg::Kind::Mailbox: return "mailbox";
    case Arg::Kind::List: return "list";
    }
    return "argument";
}

class Encoder {
public:
    Encoder(LiteralMode mode, bool utf8) : m_mode(mode), m_utf8(utf8) {}

    void text(std::string_view s) { m_current += s; }

    void literal(std::string data, bool binary, std::shared_ptr<const LiteralSource> source = nullptr) {
        const std::uint64_t n = source ? source->size() : data.size();
        const bool plus = m_mode == LiteralMode::LiteralPlus ||
                          (m_mode == LiteralMode::LiteralMinus && n <= kLiteralMinusMax);
        m_current += binary ? "~{" : "{";
        m_current += std::to_string(n);
        m_current += plus ? "+}\r\n" : "}\r\n";
        m_out.chunks.push_back(std::move(m_current));
        m_current.clear();
        m_out.literals.push_back({std::move(data), !plus, std::move(source)});
    }

    void arg(const Arg& a) {
        const std::string_view v = a.value;
        if (a.kind == Arg::Kind::Mailbox) {
            mailbox(a.value);
            return;
        }
        if (a.kind == Arg::Kind::List) {
            list(a);
            return;
        }
        if (!a.items.empty()) throw EncodeError(std::string("list items in a ") + kind_name(a.kind) + " argument");
        if (a.source && a.kind != Arg::Kind::Literal)
            throw EncodeError(std::string("a literal source in a ") + kind_name(a.kind) + " argument");
        if (a.kind != Arg::Kind::Literal && a.kind != Arg::Kind::Literal8 && has_nul_cr_lf(v))
            throw EncodeError(std::string("NUL, CR or LF in ") + kind_name(a.kind) + " argument");
        switch (a.kind) {
        case Arg::Kind::Atom:
            // Flags ("\Seen") and fetch attributes ("BODY.PEEK[TEXT]<0.10>") pass.
            for (char c : v)
                if (!is_atom_char(c) && c != '\\' && c != ']')
                    throw EncodeError("invalid atom argument: " + a.value);
            if (v.empty()) throw EncodeError("empty atom argument");
            text(v);
            return;
        case Arg::Kind::Raw:
            if (v.empty()) throw EncodeError("empty raw argument");
            text(v);
            return;
        case Arg::Kind::AString: {
            // astring = 1*ASTRING-CHAR / string
            if (is_astring(v)) {
                text(v);
                return;
            }
            [[fallthrough]];
        }
        case Arg::Kind::String:
            if (is_quotable(v, m_utf8))
                text(quote(v));
            else
                literal(a.value, false);
            return;
        case Arg::Kind::Literal:
            literal(a.value, false, a.source);
            return;
        case Arg::Kind::Literal8:
            literal(a.value, true);
            return;
        case Arg::Kind::Mailbox:
        case Arg::Kind::List:
            return;  // handled above
        }
    }

    // A parenthesized list: its items as arguments are, separated by SP. An
    // item may be a literal: the ")" or SP after it starts the next chunk.
    void list(const Arg& a) {
        if (a.source || !a.value.empty()) throw EncodeError("a value in a list argument");
        text("(");
        for (std::size_t i = 0; i < a.items.size(); ++i) {
            if (i) text(" ");
            arg(a.items[i]);
        }
        text(")");
    }

    // mailbox = "INBOX" / astring: the same bytes in whichever form carries them.
    void mailbox(const std::string& bytes) {
        if (bytes.find('\0') != std::string::npos) throw EncodeError("NUL in mailbox argument");
        if (is_astring(bytes)) text(bytes);
        else if (is_quotable(bytes, m_utf8)) text(quote(bytes));
        else literal(bytes, false);
    }

    static bool is_astring(std::string_view v) {
        if (v.empty() || is_nil(v)) return false;
        for (char c : v)
            if (!is_astring_char(c)) return false;
        return true;
    }

    EncodedCommand finish() {
        m_current += "\r\n";
        m_out.chunks.push_back(std::move(m_current));
        return std::move(m_out);
    }

private:
    LiteralMode m_mode;
    bool m_utf8;
    std::string m_current;
    EncodedCommand m_out;
};

}  // namespace

std::string EncodedCommand::flatten() const {
    std::string out;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        out += chunks[i];
        if (i >= literals.size()) continue;
        if (literals[i].source) literals[i].source->write_to([&](std::string_view piece) { out += piece; });
        else out += literals[i].data;
    }
    return out;
}

std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

bool is_atom(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (!is_atom_char(c)) return false;
    return true;
}

// quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <any TEXT-CHAR except
// quoted-specials> / "\" quoted-specials; TEXT-CHAR = <any CHAR except CR and LF>.
// RFC 6855 §3 widens it to UTF-8 once UTF8=ACCEPT is enabled.
bool is_quotable(std::string_view text, bool utf8) {
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u == 0 || c == '\r' || c == '\n') return false;
        if (u >= 0x80 && !utf8) return false;
    }
    return true;
}

EncodedCommand encode_command(std::string_view tag, std::string_view name,
                              const std::vector<Arg>& args, LiteralMode mode, bool utf8) {
    // tag = 1*<any ASTRING-CHAR except "+">
    if (tag.empty()) throw EncodeError("empty tag");
    for (char c : tag)
        if (c == '+' || !is_astring_char(c)) throw EncodeError("invalid tag");
    // command names are atoms, possibly several ("UID FETCH")
    if (name.empty() || name.front() == ' ' || name.back() == ' ' ||
        name.find("  ") != std::string_view::npos)
        throw EncodeError("invalid command name");
    for (char c : name)
        if (c != ' ' && !is_atom_char(c)) throw EncodeError("invalid command name");

    Encoder encoder(mode, utf8);
    encoder.text(tag);
    encoder.text(" ");
    encoder.text(name);
    for (const Arg& a : args) {
        encoder.text(" ");
        encoder.arg(a);
    }
    return encoder.finish();
}

}  // namespace imapkeep::wire
