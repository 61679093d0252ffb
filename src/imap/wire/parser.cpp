// Grammar parser for server responses (RFC 3501 §9, RFC 9051 §9).
//
// The parser is deliberately generic: everything after a data response's type
// becomes a sequence of Nodes, and the typed client interprets them. It reads
// a Frame, walking its lines and stepping into Frame::literals where a line
// ends in a marker, so it never sees a literal's bytes as syntax.
#include <imapkeep/wire/parser.hpp>

#include "imap/wire/chars.hpp"

#include <array>
#include <limits>

namespace imapkeep::wire {

namespace {

constexpr std::array<std::string_view, 5> kStatusTypes{"OK", "NO", "BAD", "BYE", "PREAUTH"};

// Data responses whose arguments must parse; anything else is kept even when
// its arguments do not (`raw_rest` still has them).
constexpr std::array<std::string_view, 24> kKnownDataTypes{
    "CAPABILITY", "LIST",     "LSUB",    "STATUS",  "SEARCH",    "ESEARCH",
    "FLAGS",      "EXISTS",   "RECENT",  "EXPUNGE", "FETCH",     "ENABLED",
    "VANISHED",   "NAMESPACE", "QUOTA",  "QUOTAROOT", "ACL",     "MYRIGHTS",
    "LISTRIGHTS", "ID",       "SORT",    "THREAD",  "METADATA",  "XLIST"};

// tag = 1*<any ASTRING-CHAR except "+">; ASTRING-CHAR = ATOM-CHAR / resp-specials
bool is_tag_char(char c) { return c != '+' && is_astring_char(c); }

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
    for (auto item : set)
        if (s == item) return true;
    return false;
}

bool parse_u64(std::string_view digits, std::uint64_t& out) {
    if (digits.empty()) return false;
    std::uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        value = value * 10 + d;
    }
    out = value;
    return true;
}

// Index of the ']' closing a resp-text-code that starts with '[' at 0: the
// first one outside quoted strings and parenthesised lists, since data such
// as PERMANENTFLAGS may hold ']' (CPython issue 21815).
std::size_t find_code_close(std::string_view text) {
    bool in_quote = false;
    std::size_t depth = 0;
    for (std::size_t i = 1; i < text.size(); ++i) {
        const char c = text[i];
        if (in_quote) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_quote = false;
        } else if (c == '"') {
            in_quote = true;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (depth > 0) --depth;
        } else if (c == ']' && depth == 0) {
            return i;
        }
    }
    // Quirk(various): an unbalanced '(' in the code's data; fall back to the first ']'.
    return text.find(']');
}

class Parser {
public:
    Parser(const Frame& frame, const Limits& limits) : m_frame(frame), m_limits(limits) {
        std::size_t offset = 0;
        for (std::size_t i = 0; i < frame.lines.size(); ++i) {
            m_line_offsets.push_back(offset);
            offset += frame.lines[i].size() + 2;
            if (i < frame.literals.size()) offset += frame.literals[i].data.size();
            m_marker_starts.push_back(std::string_view::npos);
            if (i < frame.literals.size()) {
                if (const auto marker = find_literal_marker(frame.lines[i]))
                    m_marker_starts.back() = marker->start;
            }
        }
    }

    std::variant<Response, ParseError> run();

    // Parses the whole frame as a sequence of values (used for response-code data).
    bool parse_all(std::vector<Node>& out) { return parse_values(out, 0, false); }

private:
    std::string_view line() const { return m_frame.lines[m_line]; }
    bool at_line_end() const { return m_pos >= line().size(); }
    char cur() const { return line()[m_pos]; }
    bool at_marker() const { return m_pos == m_marker_starts[m_line]; }
    void skip_spaces() {
        // Quirk(outlook.com): extra SP between values (e.g. in ENVELOPE address lists).
        while (!at_line_end() && cur() == ' ') ++m_pos;
    }
    bool fail(std::string message) {
        if (!m_error) m_error = ParseError{m_line_offsets[m_line] + m_pos, std::move(message)};
        return false;
    }

    bool parse_values(std::vector<Node>& out, std::size_t depth, bool in_list);
    bool parse_value(Node& node, std::size_t depth);
    bool parse_literal(Node& node);
    bool parse_quoted(Node& node);
    bool parse_atom(Node& node);
    void scan_section();
    void parse_resp_text(Response& response, std::string_view rest);
    static std::optional<ResponseCode> parse_resp_text_code(std::string_view text, std::size_t close,
                                                            const Limits& limits);

    const Frame& m_frame;
    const Limits& m_limits;
    std::vector<std::size_t> m_line_offsets;
    std::vector<std::size_t> m_marker_starts;
    std::size_t m_line = 0;
    std::size_t m_pos = 0;
    std::optional<ParseError> m_error;
    bool m_depth_exceeded = false;
};

// Values are separated by SP, but body structures put lists side by side
// ("(...)(...)"), so no separator is required.
bool Parser::parse_values(std::vector<Node>& out, std::size_t depth, bool in_list) {
    for (;;) {
        skip_spaces();
        if (at_line_end()) {
            if (in_list) return fail("unterminated list");
            if (m_line + 1 < m_frame.lines.size()) return fail("literal not in a value position");
            return true;
        }
        if (cur() == ')') {
            if (!in_list) return fail("unexpected ')'");
            ++m_pos;
            return true;
        }
        Node node;
        if (!parse_value(node, depth)) return false;
        out.push_back(std::move(node));
    }
}

bool Parser::parse_value(Node& node, std::size_t depth) {
    if (at_marker()) return parse_literal(node);
    const char c = cur();
    if (c == '(') {
        if (depth + 1 > m_limits.max_depth) {
            m_depth_exceeded = true;
            return fail("lists nested deeper than max_depth");
        }
        ++m_pos;
        node.kind = Node::Kind::List;
        return parse_values(node.items, depth + 1, true);
    }
    if (c == '"') return parse_quoted(node);
    return parse_atom(node);
}

// literal = "{" number "}" CRLF *CHAR8 ; literal8 = "~{" number "}" CRLF *OCTET
bool Parser::parse_literal(Node& node) {
    const FrameLiteral& literal = m_frame.literals[m_line];
    node.kind = Node::Kind::String;
    node.literal = true;
    node.literal_index = static_cast<int>(m_line);
    node.streamed = literal.sink != nullptr;
    node.text = literal.data;
    ++m_line;
    m_pos = 0;
    return true;
}

// quoted = DQUOTE *QUOTED-CHAR DQUOTE
// QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials
bool Parser::parse_quoted(Node& node) {
    ++m_pos;
    node.kind = Node::Kind::String;
    for (;;) {
        if (at_line_end()) return fail("unterminated quoted string");
        char c = cur();
        ++m_pos;
        if (c == '"') return true;
        if (c == '\\') {
            if (at_line_end()) return fail("unterminated quoted string");
            // Quirk(various): a backslash before any other char keeps that char.
            c = cur();
            ++m_pos;
        }
        node.text.push_back(c);
    }
}

// Atoms here are wider than ATOM-CHAR: flags ("\Seen", "\*"), fetch attributes
// with a section and partial ("BODY[HEADER.FIELDS (FROM TO)]<0>") and 8-bit
// mailbox names all come back as one Atom. NIL and pure digits are typed.
bool Parser::parse_atom(Node& node) {
    const std::size_t start = m_pos;
    while (!at_line_end() && !at_marker()) {
        const char c = cur();
        if (c == ' ' || c == '(' || c == ')' || c == '"' || is_ctl(c)) break;
        if (c == '[') {
            scan_section();
            continue;
        }
        ++m_pos;
    }
    if (m_pos == start) return fail("unexpected character");
    node.text = std::string(line().substr(start, m_pos - start));
    if (parse_u64(node.text, node.number)) {
        node.kind = Node::Kind::Number;
    } else if (node.text.size() == 3 && upper(node.text) == "NIL") {
        node.kind = Node::Kind::Nil;
        node.text.clear();
    } else {
        node.kind = Node::Kind::Atom;
    }
    return true;
}

// section = "[" [section-spec] "]"; section-spec may hold "HEADER.FIELDS" SP
// header-list. Inside the brackets, lists and quoted strings are skipped whole.
void Parser::scan_section() {
    ++m_pos;  // '['
    std::size_t depth = 0;
    bool in_quote = false;
    while (!at_line_end() && !at_marker()) {
        const char c = cur();
        if (in_quote) {
            if (c == '\\' && m_pos + 1 < line().size()) ++m_pos;
            else if (c == '"') in_quote = false;
        } else if (c == '"') {
            in_quote = true;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (depth == 0) return;  // the enclosing list ends: not a section after all
            --depth;
        } else if (c == ']' && depth == 0) {
            ++m_pos;
            return;
        } else if (c == ' ' && depth == 0) {
            // Only "HEADER.FIELDS (" puts a SP inside a section.
            // Quirk(imap.gmail.com): flags like "OIB-Seen-[Google Mail]/Alle"
            // hold '[' and SP; split them at the SP, as net-imap does.
            if (m_pos + 1 >= line().size() || line()[m_pos + 1] != '(') return;
        } else if (is_ctl(c)) {
            return;
        }
        ++m_pos;
    }
}

// resp-text-code = ... / atom [SP 1*<any TEXT-CHAR except "]">]
std::optional<ResponseCode> Parser::parse_resp_text_code(std::string_view text, std::size_t close,
                                                         const Limits& limits) {
    const std::string_view inner = text.substr(1, close - 1);
    const std::size_t name_end = std::min(inner.find(' '), inner.size());
    const std::string_view name = inner.substr(0, name_end);
    if (name.empty()) return std::nullopt;
    for (char c : name)
        if (!is_atom_char(c)) return std::nullopt;

    ResponseCode code;
    code.name = upper(name);
    if (name_end < inner.size()) code.raw = std::string(inner.substr(name_end + 1));
    if (!code.raw.empty()) {
        Frame data;
        data.lines.push_back(code.raw);
        Parser sub(data, limits);
        if (!sub.parse_all(code.args)) code.args.clear();
    }
    return code;
}

// resp-text = ["[" resp-text-code "]" SP] text
void Parser::parse_resp_text(Response& response, std::string_view rest) {
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = find_code_close(rest);
        if (close != std::string_view::npos) {
            // Quirk(Microsoft Exchange): a code that is no atom (e.g.
            // "[Error="..." Proxy=...]") is kept as plain text, as net-imap does.
            if (auto code = parse_resp_text_code(rest, close, m_limits)) {
                response.code = std::move(code);
                rest.remove_prefix(close + 1);
                // Quirk(various): no SP (or no text at all) after the code.
                if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            }
        }
    }
    response.text = std::string(rest);
}

std::variant<Response, ParseError> Parser::run() {
    if (m_frame.lines.empty()) return ParseError{0, "empty frame"};
    Response response;
    const std::string_view first = line();

    // continue-req = "+" SP (resp-text / base64) CRLF
    if (!first.empty() && first.front() == '+') {
        response.kind = Response::Kind::Continuation;
        m_pos = 1;
        // Quirk(various): a bare "+" with no SP and no text.
        if (!at_line_end() && cur() == ' ') ++m_pos;
        response.raw_rest = std::string(first.substr(m_pos));
        parse_resp_text(response, first.substr(m_pos));
        return response;
    }

    if (!first.empty() && first.front() == '*') {
        // response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data /
        //                 message-data / capability-data / enable-data) CRLF
        response.kind = Response::Kind::Untagged;
        if (first.size() < 2 || first[1] != ' ') {
            m_pos = 1;
            fail("expected SP after '*'");
            return *m_error;
        }
        m_pos = 2;
        response.raw_rest = std::string(first.substr(2));
        skip_spaces();
        // message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att)); also
        // mailbox-data's number SP "EXISTS" / "RECENT".
        if (!at_line_end() && cur() >= '0' && cur() <= '9') {
            const std::size_t start = m_pos;
            while (!at_line_end() && cur() >= '0' && cur() <= '9') ++m_pos;
            std::uint64_t number = 0;
            if (!parse_u64(first.substr(start, m_pos - start), number)) {
                m_pos = start;
                fail("number out of range");
                return *m_error;
            }
            response.number = number;
            if (at_line_end() || cur() != ' ') {
                fail("expected SP after number");
                return *m_error;
            }
            skip_spaces();
        }
    } else {
        // response-tagged = tag SP resp-cond-state CRLF
        response.kind = Response::Kind::Tagged;
        while (!at_line_end() && cur() != ' ') {
            if (!is_tag_char(cur())) {
                fail("invalid tag character");
                return *m_error;
            }
            ++m_pos;
        }
        if (m_pos == 0 || at_line_end()) {
            fail(m_pos == 0 ? "empty tag" : "expected SP after tag");
            return *m_error;
        }
        response.tag = std::string(first.substr(0, m_pos));
        ++m_pos;
        response.raw_rest = std::string(first.substr(m_pos));
    }

    const std::size_t type_start = m_pos;
    while (!at_line_end() && !at_marker() && is_atom_char(cur())) ++m_pos;
    if (m_pos == type_start) {
        fail("expected response type");
        return *m_error;
    }
    response.type = upper(first.substr(type_start, m_pos - type_start));

    if (one_of(response.type, kStatusTypes)) {
        std::string_view rest = first.substr(m_pos);
        // Quirk(various): "a1 OK" with no SP and no text.
        if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        parse_resp_text(response, rest);
        return response;
    }
    if (response.kind == Response::Kind::Tagged) {
        fail("tagged response is not OK/NO/BAD");
        return *m_error;
    }
    if (!at_line_end() && !at_marker() && cur() != ' ' && cur() != '(') {
        fail("expected SP after response type");
        return *m_error;
    }

    if (!parse_values(response.args, 0, false)) {
        if (m_depth_exceeded) return *m_error;
        if (one_of(response.type, kKnownDataTypes)) {
            response.args.clear();
            m_error->partial = std::move(response);
            return *m_error;
        }
        // Unknown types are kept with their raw text (e.g. "* NOOP froopy snood").
        response.args.clear();
    }
    return response;
}

}  // namespace

std::variant<Response, ParseError> parse_response(const Frame& frame, const Limits& limits) {
    Parser parser(frame, limits);
    return parser.run();
}

}  // namespace imapkeep::wire
