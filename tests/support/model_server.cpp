#include "support/model_server.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <imapkeep/transport/fault.hpp>
#include <imapkeep/util/base64.hpp>
#include <stdexcept>

namespace imapkeep::testing {

namespace {

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A token of a client command: atom (brackets kept whole, so
// "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]" is one atom), string, or list.
struct Token {
    enum class Kind { Atom, String, List } kind = Kind::Atom;
    std::string text;
    std::vector<Token> items;
    bool is(const char* atom) const {
        return kind == Kind::Atom && strcasecmp(text.c_str(), atom) == 0;
    }
};

class Tokenizer {
  public:
    explicit Tokenizer(std::string_view raw) : m_raw(raw) {}

    std::vector<Token> parse_all() {
        std::vector<Token> out;
        while (skip_spaces()) {
            char c = m_raw[m_pos];
            if (c == '\r' || c == '\n') break;
            if (c == ')') throw std::runtime_error("unbalanced )");
            out.push_back(one());
        }
        return out;
    }

  private:
    bool skip_spaces() {
        while (m_pos < m_raw.size() && m_raw[m_pos] == ' ') ++m_pos;
        return m_pos < m_raw.size();
    }

    Token one() {
        char c = m_raw[m_pos];
        Token t;
        if (c == '(') {
            t.kind = Token::Kind::List;
            ++m_pos;
            while (skip_spaces() && m_raw[m_pos] != ')') t.items.push_back(one());
            if (m_pos >= m_raw.size()) throw std::runtime_error("unterminated list");
            ++m_pos;
            return t;
        }
        if (c == '"') {
            t.kind = Token::Kind::String;
            for (++m_pos; m_pos < m_raw.size() && m_raw[m_pos] != '"'; ++m_pos) {
                if (m_raw[m_pos] == '\\') ++m_pos;
                if (m_pos < m_raw.size()) t.text += m_raw[m_pos];
            }
            ++m_pos;
            return t;
        }
        if (c == '{') {
            // literal = "{" number ["+"] "}" CRLF *CHAR8
            auto close = m_raw.find('}', m_pos);
            std::string digits(m_raw.substr(m_pos + 1, close - m_pos - 1));
            if (!digits.empty() && digits.back() == '+') digits.pop_back();
            auto n = std::stoull(digits);
            m_pos = close + 3;
            t.kind = Token::Kind::String;
            t.text = std::string(m_raw.substr(m_pos, n));
            m_pos += n;
            return t;
        }
        int depth = 0;
        while (m_pos < m_raw.size()) {
            char d = m_raw[m_pos];
            if (d == '[') ++depth;
            if (d == ']') --depth;
            if (depth == 0 && (d == ' ' || d == '(' || d == ')' || d == '\r' || d == '\n')) break;
            t.text += d;
            ++m_pos;
        }
        return t;
    }

    std::string_view m_raw;
    std::size_t m_pos = 0;
};

// sequence-set over UIDs; "*" is the largest UID in use (RFC 3501 §9).
std::vector<UidSet::Range> parse_set(const std::string& text, std::uint32_t star) {
    std::vector<UidSet::Range> out;
    std::size_t pos = 0;
    auto number = [&](const std::string& s) -> std::uint32_t {
        return s == "*" ? star : static_cast<std::uint32_t>(std::stoul(s));
    };
    while (pos <= text.size()) {
        auto comma = text.find(',', pos);
        std::string part =
            text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        auto colon = part.find(':');
        std::uint32_t a = number(part.substr(0, colon));
        std::uint32_t b = colon == std::string::npos ? a : number(part.substr(colon + 1));
        out.push_back({std::min(a, b), std::max(a, b)});
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

std::string quote(const std::string& s) {
    bool literal = std::any_of(s.begin(), s.end(), [](char c) {
        return c == '\r' || c == '\n' || c == '\0' || static_cast<unsigned char>(c) >= 0x80;
    });
    if (literal) return "{" + std::to_string(s.size()) + "}\r\n" + s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

// LIST pattern (RFC 3501 §6.3.8): "*" matches anything, "%" anything but the delimiter.
bool pattern_matches(std::string_view name, std::string_view pattern, char delimiter) {
    if (pattern.empty()) return name.empty();
    char p = pattern[0];
    if (p == '*' || p == '%') {
        for (std::size_t k = 0; k <= name.size(); ++k) {
            if (pattern_matches(name.substr(k), pattern.substr(1), delimiter)) return true;
            if (k < name.size() && p == '%' && name[k] == delimiter) return false;
        }
        return false;
    }
    return !name.empty() && name[0] == p &&
           pattern_matches(name.substr(1), pattern.substr(1), delimiter);
}

// The header fields of `body` named in `names` (all when empty), unfolded
// lines kept as sent, then the blank line (RFC 3501 §6.4.5 HEADER.FIELDS).
std::string header_fields(const std::string& body, const std::set<std::string>& names) {
    auto end = body.find("\r\n\r\n");
    std::string header = end == std::string::npos ? body : body.substr(0, end + 2);
    std::string out;
    bool keep = false;
    std::size_t pos = 0;
    while (pos < header.size()) {
        auto eol = header.find("\r\n", pos);
        std::size_t next = eol == std::string::npos ? header.size() : eol + 2;
        std::string line = header.substr(pos, next - pos);
        if (line[0] != ' ' && line[0] != '\t') {
            auto colon = line.find(':');
            keep = names.empty() ||
                   (colon != std::string::npos && names.count(upper(line.substr(0, colon))));
        }
        if (keep) out += line;
        pos = next;
    }
    return out + "\r\n";
}

// Quirk(O365): FLAGS and PERMANENTFLAGS of every Exchange Online mailbox (no \*).
constexpr const char* kO365Flags = "\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent";

bool o365_allows(const std::string& flag) {
    for (const char* allowed : {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$MDNSent"})
        if (strcasecmp(flag.c_str(), allowed) == 0) return true;
    return false;
}

std::size_t longest_line(const std::string& text) {
    std::size_t longest = 0, start = 0;
    for (std::size_t eol; (eol = text.find('\n', start)) != std::string::npos; start = eol + 1)
        longest = std::max(longest, eol - start);
    return std::max(longest, text.size() - start);
}

// The tagged line of `reply` is a NO or a BAD.
bool tagged_failure(const std::string& reply, const std::string& tag) {
    for (const char* status : {" NO ", " BAD "}) {
        const std::string line = tag + status;
        if (reply.rfind(line, 0) == 0 || reply.find("\r\n" + line) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

// One client connection: buffers the client's bytes until whole commands have
// arrived, answers "+" to synchronizing literals, and dispatches.
class ModelServer::Connection {
  public:
    Connection(ModelServer& model, std::size_t id) : m_model(model), m_id(id) { ++m_model.m_live; }
    ~Connection() { --m_model.m_live; }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    std::string respond(const std::string& client_bytes) {
        std::lock_guard lock(m_model.m_mutex);
        if (m_dead) return "";
        ++m_reads;
        m_buffer += client_bytes;
        std::string out;
        Interleaved fetches;  // pipelined UID FETCHes of this read, when interleaving
        while (!m_dead) {
            std::size_t length = 0;
            if (!complete_command(length, out)) break;
            std::string raw = m_buffer.substr(0, length);
            m_buffer.erase(0, length);
            m_acked.clear();
            std::string reply = handle(raw);
            if (m_model.interleave_fetches && is_uid_fetch(raw)) {
                fetches.add(reply);
                continue;
            }
            out += fetches.flush() + reply;
        }
        return out + fetches.flush();
    }

  private:
    // RFC 3501 §5.5: a server may run pipelined commands at once, so their
    // untagged data can come before the earlier ones' completions (Dovecot
    // does so with FETCHes). Kept: every reply's untagged part, in order, then
    // the tagged lines.
    struct Interleaved {
        std::string untagged, tagged;
        void add(const std::string& reply) {
            auto last = reply.rfind("\r\n", reply.size() > 2 ? reply.size() - 3 : 0);
            const auto split = last == std::string::npos ? 0 : last + 2;
            untagged += reply.substr(0, split);
            tagged += reply.substr(split);
        }
        std::string flush() {
            std::string out = untagged + tagged;
            untagged.clear();
            tagged.clear();
            return out;
        }
    };
    static bool is_uid_fetch(const std::string& raw) {
        auto space = raw.find(' ');
        return space != std::string::npos && upper(raw.substr(space + 1, 10)) == "UID FETCH ";
    }

    // True when the buffer starts with a whole command (length set). A
    // synchronizing literal whose bytes have not come yet gets its "+".
    bool complete_command(std::size_t& length, std::string& out) {
        std::size_t pos = 0;
        for (;;) {
            auto crlf = m_buffer.find("\r\n", pos);
            if (crlf == std::string::npos) return false;
            std::string_view line(m_buffer.data() + pos, crlf - pos);
            if (line.empty() || line.back() != '}') {
                length = crlf + 2;
                return true;
            }
            auto open = line.rfind('{');
            std::string digits(line.substr(open + 1, line.size() - open - 2));
            bool plus = !digits.empty() && digits.back() == '+';
            if (plus) digits.pop_back();
            std::size_t n = std::stoull(digits);
            std::size_t start = crlf + 2;
            if (m_buffer.size() < start + n) {
                if (!plus && m_acked.insert(start).second) out += "+ Ready for literal data\r\n";
                return false;
            }
            pos = start + n;
        }
    }

    std::string handle(const std::string& raw) {
        std::vector<Token> tokens;
        try {
            tokens = Tokenizer(raw).parse_all();
        } catch (const std::exception&) {
            return "* BAD unparsable command\r\n";
        }
        if (tokens.size() < 2) return "* BAD missing command\r\n";
        ModelCommand command;
        command.tag = tokens[0].text;
        command.name = upper(tokens[1].text);
        std::size_t first_arg = 2;
        if (command.name == "UID" && tokens.size() > 2) {
            command.name += " " + upper(tokens[2].text);
            first_arg = 3;
        }
        std::vector<Token> args(tokens.begin() + static_cast<std::ptrdiff_t>(first_arg),
                                tokens.end());
        command.text = raw.substr(0, raw.size() - 2);
        command.connection = m_id;
        command.mailbox = m_selected;
        command.read = m_reads;
        m_model.m_log.push_back(command.text);

        std::string reply;
        try {
            if (m_model.on_command) m_model.on_command(command);
            if (token_expired()) return expired_bye();
            reply = dispatch(command, args);
        } catch (const std::exception& e) {
            reply = command.tag + " BAD " + e.what() + "\r\n";
        }
        bool drop = false;
        if (m_model.on_reply) m_model.on_reply(command, reply, drop);
        if (drop) m_dead = true;
        if (!m_dead) count_o365_error(command, reply);
        return reply;
    }

    // Quirk(O365): a session outlives its access token by one command.
    bool token_expired() const {
        return !m_token.empty() && m_model.oauth2_valid && !m_model.oauth2_valid(m_token);
    }
    std::string expired_bye() {
        ++m_model.m_oauth2_expired_byes;
        m_dead = true;
        return "* BYE Session invalidated - AccessTokenExpired\r\n";
    }

    // RFC 4959 SASL-IR: "AUTHENTICATE XOAUTH2 <base64 of
    // user=U^Aauth=Bearer TOKEN^A^A>", in one line.
    std::string authenticate(const ModelCommand& c, const std::vector<Token>& args) {
        if (!m_model.oauth2_valid || args.size() != 2 || upper(args[0].text) != "XOAUTH2")
            return c.tag + " NO unsupported mechanism\r\n";
        auto decoded = util::base64_decode(args[1].text);
        static constexpr std::string_view kBearer = "auth=Bearer ";
        std::string token;
        if (decoded) {
            auto at = decoded->find(kBearer);
            if (at != std::string::npos) {
                auto start = at + kBearer.size();
                token = decoded->substr(start, decoded->find('\x01', start) - start);
            }
        }
        m_model.m_oauth2_tried.push_back(token);
        if (token.empty() || !m_model.oauth2_valid(token)) return c.tag + " NO AUTHENTICATE failed.\r\n";
        m_token = token;
        return c.tag + " OK AUTHENTICATE completed.\r\n";
    }

    // Quirk(O365): "Office365 closes the connection after 10 errors".
    void count_o365_error(const ModelCommand& c, std::string& reply) {
        if (!m_model.m_o365 || !tagged_failure(reply, c.tag)) return;
        ++m_model.m_o365_errors;
        if (++m_errors < m_model.m_o365->errors_before_bye) return;
        reply += "* BYE Connection closed. 14\r\n";
        m_dead = true;
    }

    std::string ok(const ModelCommand& c, const std::string& text = "done") {
        return c.tag + " OK " + text + "\r\n";
    }

    std::string dispatch(const ModelCommand& c, const std::vector<Token>& args) {
        const std::string& n = c.name;
        if (n == "CAPABILITY") return "* CAPABILITY " + m_model.capability_line() + "\r\n" + ok(c);
        if (n == "NOOP") return ok(c);
        if (n == "LOGOUT") {
            m_dead = true;
            return "* BYE logging out\r\n" + ok(c);
        }
        if (n == "LOGIN") return login(c, args);
        if (n == "AUTHENTICATE") return authenticate(c, args);
        if (n == "ENABLE") return enable(c, args);
        if (n == "LIST") return list(c, args);
        if (n == "STATUS") return status(c, args);
        if (n == "SELECT" || n == "EXAMINE") return select(c, args);
        if (n == "UNSELECT" || n == "CLOSE") {
            if (n == "UNSELECT" && !m_model.m_caps.count("UNSELECT"))
                throw std::runtime_error("no UNSELECT");
            m_selected.clear();
            return ok(c);
        }
        if (n == "UID FETCH") return uid_fetch(c, args);
        if (n == "FETCH") return seq_fetch_uids(c, args);
        if (n == "UID SEARCH") return uid_search(c, args);
        if (n == "UID STORE") return uid_store(c, args);
        if (n == "APPEND") return append(c, args);
        if (n == "CREATE") return create(c, args);
        return c.tag + " BAD unknown command\r\n";
    }

    std::string login(const ModelCommand& c, const std::vector<Token>& args) {
        if (args.size() != 2 || args[0].text != m_model.user || args[1].text != m_model.password)
            return c.tag + " NO [AUTHENTICATIONFAILED] invalid credentials\r\n";
        return c.tag + " OK [CAPABILITY " + m_model.capability_line() + "] logged in\r\n";
    }

    std::string enable(const ModelCommand& c, const std::vector<Token>& args) {
        std::vector<std::string> on;
        for (const auto& a : args) {
            auto name = upper(a.text);
            if (!m_model.m_caps.count(name)) continue;
            m_enabled.insert(name);
            on.push_back(name);
        }
        return (on.empty() ? "" : "* ENABLED " + join(on) + "\r\n") + ok(c);
    }

    bool condstore_on() const { return m_enabled.count("CONDSTORE") || m_enabled.count("QRESYNC"); }

    std::string status_items(const ModelMailbox& mb, const std::vector<Token>& items) {
        std::vector<std::string> out;
        for (const auto& item : items) {
            auto name = upper(item.text);
            if (name == "MESSAGES") {
                out.push_back("MESSAGES " + std::to_string(mb.messages.size()));
            } else if (name == "UIDNEXT") {
                out.push_back("UIDNEXT " + std::to_string(mb.uidnext));
            } else if (name == "UIDVALIDITY") {
                out.push_back("UIDVALIDITY " + std::to_string(mb.uidvalidity));
            } else if (name == "RECENT") {
                out.push_back("RECENT 0");
            } else if (name == "UNSEEN") {
                auto unseen =
                    std::count_if(mb.messages.begin(), mb.messages.end(), [](const auto& m) {
                        const auto& f = m.second.flags;
                        return std::find(f.begin(), f.end(), "\\Seen") == f.end();
                    });
                out.push_back("UNSEEN " + std::to_string(unseen));
            } else if (name == "HIGHESTMODSEQ") {
                if (!m_model.m_caps.count("CONDSTORE") && !m_model.m_caps.count("QRESYNC"))
                    throw std::runtime_error("HIGHESTMODSEQ without CONDSTORE");
                out.push_back("HIGHESTMODSEQ " +
                              std::to_string(mb.nomodseq ? 0 : mb.highestmodseq));
            } else if (name == "APPENDLIMIT") {
                out.push_back("APPENDLIMIT " + (mb.append_limit ? std::to_string(*mb.append_limit) : "NIL"));
            } else if (name == "MAILBOXID") {
                if (!m_model.m_caps.count("OBJECTID"))
                    throw std::runtime_error("MAILBOXID without OBJECTID");
                if (!mb.mailboxid.empty()) out.push_back("MAILBOXID (" + mb.mailboxid + ")");
            } else {
                throw std::runtime_error("unknown STATUS item " + name);
            }
        }
        return "* STATUS " + quote(mb.name) + " (" + join(out) + ")\r\n";
    }

    const ModelMailbox* find(const std::string& name) const {
        auto it = m_model.m_mailboxes.find(name);
        if (it == m_model.m_mailboxes.end() && strcasecmp(name.c_str(), "INBOX") == 0)
            it = m_model.m_mailboxes.find("INBOX");
        if (it == m_model.m_mailboxes.end() && m_model.m_fold_case)
            it = std::find_if(m_model.m_mailboxes.begin(), m_model.m_mailboxes.end(),
                              [&](const auto& e) { return strcasecmp(e.first.c_str(), name.c_str()) == 0; });
        return it == m_model.m_mailboxes.end() ? nullptr : &it->second;
    }

    std::string list(const ModelCommand& c, const std::vector<Token>& args) {
        if (args.size() < 2) throw std::runtime_error("LIST needs two arguments");
        std::string pattern = args[0].text + args[1].text;
        const std::vector<Token>* status = nullptr;
        for (std::size_t i = 2; i + 1 < args.size(); ++i) {
            if (!args[i].is("RETURN")) continue;
            const auto& options = args[i + 1].items;
            for (std::size_t j = 0; j + 1 < options.size(); ++j)
                if (options[j].is("STATUS")) status = &options[j + 1].items;
        }
        if (status && !m_model.m_caps.count("LIST-STATUS"))
            throw std::runtime_error("no LIST-STATUS");
        std::string out;
        for (const auto& [name, mb] : m_model.m_mailboxes) {
            char delimiter = mb.delimiter.empty() ? '\0' : mb.delimiter[0];
            if (!pattern_matches(m_model.m_fold_case ? lower(name) : name,
                                 m_model.m_fold_case ? lower(pattern) : pattern, delimiter))
                continue;
            if (m_model.m_o365 && !m_model.m_o365->files_listed && name == kO365FilesFolder) continue;
            out += "* LIST (" + join(mb.attributes) + ") " +
                   (mb.delimiter.empty() ? "NIL" : quote(mb.delimiter)) + " " + quote(name) +
                   "\r\n";
            bool noselect = std::find(mb.attributes.begin(), mb.attributes.end(), "\\Noselect") !=
                            mb.attributes.end();
            if (status && !noselect) out += status_items(mb, *status);
        }
        return out + ok(c);
    }

    std::string status(const ModelCommand& c, const std::vector<Token>& args) {
        if (args.size() != 2) throw std::runtime_error("STATUS needs two arguments");
        const auto* mb = find(args[0].text);
        if (!mb) return c.tag + " NO [NONEXISTENT] no such mailbox\r\n";
        return status_items(*mb, args[1].items) + ok(c);
    }

    std::string select(const ModelCommand& c, const std::vector<Token>& args) {
        m_selected.clear();
        if (args.empty()) throw std::runtime_error("SELECT needs a mailbox");
        const auto* mb = find(args[0].text);
        if (!mb) return c.tag + " NO [NONEXISTENT] no such mailbox\r\n";
        const std::vector<Token>* qresync = nullptr;
        if (args.size() > 1) {
            const auto& params = args[1].items;
            for (std::size_t i = 0; i < params.size(); ++i) {
                if (params[i].is("CONDSTORE")) m_enabled.insert("CONDSTORE");
                if (params[i].is("QRESYNC") && i + 1 < params.size())
                    qresync = &params[i + 1].items;
            }
            if (qresync && !m_enabled.count("QRESYNC"))
                throw std::runtime_error("QRESYNC not enabled");
        }
        const std::string flags =
            m_model.m_o365 ? kO365Flags : "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
        std::string out = "* FLAGS (" + flags + ")\r\n";
        out += c.name == "SELECT"
                   ? "* OK [PERMANENTFLAGS (" + flags + (m_model.m_o365 ? "" : " \\*") + ")] ok\r\n"
                   : "* OK [PERMANENTFLAGS ()] read-only\r\n";
        out += "* " + std::to_string(mb->messages.size()) + " EXISTS\r\n* 0 RECENT\r\n";
        out += "* OK [UIDVALIDITY " + std::to_string(mb->uidvalidity) + "] UIDs valid\r\n";
        out += "* OK [UIDNEXT " + std::to_string(mb->uidnext) + "] predicted next UID\r\n";
        if (condstore_on()) {
            out += mb->nomodseq
                       ? "* OK [NOMODSEQ] no modseqs\r\n"
                       : "* OK [HIGHESTMODSEQ " + std::to_string(mb->highestmodseq) + "] ok\r\n";
        }
        if (m_model.m_caps.count("OBJECTID") && !mb->mailboxid.empty())
            out += "* OK [MAILBOXID (" + mb->mailboxid + ")] ok\r\n";
        // A mailbox without mod-sequences ([NOMODSEQ]) has no changes to name.
        if (qresync && !mb->nomodseq && qresync->size() >= 2 && std::stoul(qresync->at(0).text) == mb->uidvalidity) {
            std::uint64_t since = std::stoull(qresync->at(1).text);
            UidSet everything;
            everything.add_range(Uid(1), Uid(0xFFFFFFFFu));
            out += vanished(*mb, since, everything);
            for (const auto& [uid, m] : mb->messages)
                if (m.modseq > since)
                    out += "* " + std::to_string(seq_of(*mb, uid)) + " FETCH (UID " +
                           std::to_string(uid) + " FLAGS (" + join(m.flags) + ") MODSEQ (" +
                           std::to_string(m.modseq) + "))\r\n";
        }
        m_selected = mb->name;
        const char* access = c.name == "SELECT" ? " OK [READ-WRITE] " : " OK [READ-ONLY] ";
        return out + c.tag + access + c.name + " completed\r\n";
    }

    // "* VANISHED (EARLIER) uids" for UIDs expunged after `since` within `within`.
    static std::string vanished(const ModelMailbox& mb, std::uint64_t since, const UidSet& within) {
        UidSet gone;
        for (const auto& [set, modseq] : mb.expunged) {
            if (modseq <= since) continue;
            for (const auto& r : set.ranges())
                for (const auto& w : within.ranges()) {
                    auto a = std::max(r.first, w.first), b = std::min(r.last, w.last);
                    if (a <= b) gone.add_range(Uid(a), Uid(b));
                }
        }
        return gone.empty() ? "" : "* VANISHED (EARLIER) " + gone.to_string() + "\r\n";
    }

    static std::size_t seq_of(const ModelMailbox& mb, std::uint32_t uid) {
        return static_cast<std::size_t>(std::distance(mb.messages.begin(), mb.messages.find(uid))) +
               1;
    }

    const ModelMailbox& selected() const {
        const auto* mb = m_selected.empty() ? nullptr : find(m_selected);
        if (!mb) throw std::runtime_error("no mailbox selected");
        return *mb;
    }

    static std::uint32_t star(const ModelMailbox& mb) {
        return mb.messages.empty() ? 0 : mb.messages.rbegin()->first;
    }

    // Messages in the UID set, each once, in UID order, without expanding ranges.
    static std::vector<const ModelMessage*> in_set(const ModelMailbox& mb,
                                                   const std::string& text) {
        std::set<std::uint32_t> hits;
        for (const auto& r : parse_set(text, star(mb)))
            for (auto it = mb.messages.lower_bound(r.first);
                 it != mb.messages.end() && it->first <= r.last; ++it)
                hits.insert(it->first);
        std::vector<const ModelMessage*> out;
        for (auto uid : hits) out.push_back(&mb.messages.at(uid));
        return out;
    }

    std::string fetch_item(const ModelMailbox& mb, const ModelMessage& m,
                           const std::string& requested) {
        std::string item = upper(requested);
        if (item.rfind("BODY.PEEK[", 0) == 0) item = "BODY[" + item.substr(10);
        std::string rendered;
        auto literal = [](const std::string& s) {
            return "{" + std::to_string(s.size()) + "}\r\n" + s;
        };
        if (item == "UID") {
            return "";  // always sent first
        } else if (item == "FLAGS") {
            rendered = "FLAGS (" + join(m.flags) + ")";
        } else if (item == "INTERNALDATE") {
            rendered = "INTERNALDATE \"" + m.internaldate + "\"";
        } else if (item == "RFC822.SIZE") {
            rendered = "RFC822.SIZE " + std::to_string(m.body.size());
        } else if (item == "MODSEQ") {
            rendered = "MODSEQ (" + std::to_string(m.modseq) + ")";
        } else if (item == "EMAILID") {
            rendered =
                "EMAILID (M" + std::to_string(mb.uidvalidity) + "x" + std::to_string(m.uid) + ")";
        } else if (item == "X-GM-MSGID" && m_model.m_is_gmail) {
            rendered = "X-GM-MSGID " + std::to_string(m.gm_msgid);
        } else if (item == "X-GM-THRID" && m_model.m_is_gmail) {
            rendered = "X-GM-THRID " + std::to_string(m.gm_thrid);
        } else if (item == "X-GM-LABELS" && m_model.m_is_gmail) {
            rendered = "X-GM-LABELS (" + render_labels(m.gm_labels) + ")";
        } else if (item == "BODY[]" || item == "RFC822") {
            rendered = item + " " + literal(m.body);
            ++m_model.m_body_fetches[mb.name];
            m_model.m_served_today += m.body.size();
            ++m_model.m_served_since_throttle;
        } else if (item.rfind("BODY[]<", 0) == 0 && item.back() == '>') {
            // A partial fetch (RFC 3501 §6.4.5): "BODY[]<origin.count>" is
            // answered "BODY[]<origin>", an origin at or past the end with an
            // empty string, a literal as Dovecot 2.3 sends it ("{0}").
            const auto dot = item.find('.', 7);
            if (dot == std::string::npos) throw std::runtime_error("partial FETCH without a count");
            const auto origin = std::stoull(item.substr(7, dot - 7));
            const auto count = std::stoull(item.substr(dot + 1, item.size() - dot - 2));
            const std::string part = origin < m.body.size() ? m.body.substr(origin, count) : "";
            rendered = "BODY[]<" + std::to_string(origin) + "> " + literal(part);
        } else if (item == "BODY[HEADER]" || item == "RFC822.HEADER") {
            rendered = item + " " + literal(header_fields(m.body, {}));
        } else if (item.rfind("BODY[HEADER.FIELDS (", 0) == 0) {
            std::set<std::string> names;
            auto list = Tokenizer(item.substr(19, item.size() - 20)).parse_all();
            for (const auto& t : list.at(0).items) names.insert(upper(t.text));
            rendered = item + " " + literal(header_fields(m.body, names));
        } else {
            throw std::runtime_error("unknown FETCH item " + item);
        }
        if (m_model.on_fetch_item) m_model.on_fetch_item(mb.name, m.uid, item, rendered);
        return rendered;
    }

    // FETCH <sequence set> (UID): the client's large UID SEARCH asks where its
    // UID ranges start. Only the UID item is served.
    std::string seq_fetch_uids(const ModelCommand& c, const std::vector<Token>& args) {
        const auto& mb = selected();
        if (args.size() < 2) throw std::runtime_error("FETCH needs a set and items");
        std::vector<std::uint32_t> uids;
        for (const auto& [uid, m] : mb.messages) uids.push_back(uid);
        std::string out;
        for (const auto& r : parse_set(args[0].text, static_cast<std::uint32_t>(uids.size())))
            for (std::uint64_t seq = r.first; seq <= r.last && seq <= uids.size(); ++seq)
                out += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uids[seq - 1]) + ")\r\n";
        return out + ok(c);
    }

    // A provider's own limit reached (gmail_daily_download_limit,
    // o365_message_rate): its refusal of a body fetch.
    std::optional<std::string> provider_refusal(const ModelCommand& c) {
        auto& m = m_model;
        if (m.m_gmail_daily_limit && m.m_served_today >= *m.m_gmail_daily_limit) {
            ++m.m_provider_refusals;
            return c.tag + " NO Account exceeded command or bandwidth limits. (Failure)\r\n";
        }
        if (m.m_o365_rate && m.m_served_since_throttle >= m.m_o365_rate) {
            m.m_served_since_throttle = 0;
            ++m.m_provider_refusals;
            return c.tag + " NO Request is throttled. Suggested Backoff Time: " +
                   std::to_string(m.m_o365_backoff_ms) + " milliseconds\r\n";
        }
        return std::nullopt;
    }

    std::string uid_fetch(const ModelCommand& c, const std::vector<Token>& args) {
        const auto& mb = selected();
        if (args.size() < 2) throw std::runtime_error("UID FETCH needs a set and items");
        std::vector<std::string> items;
        if (args[1].kind == Token::Kind::List)
            for (const auto& t : args[1].items) items.push_back(t.text);
        else
            items.push_back(args[1].text);
        std::optional<std::uint64_t> since;
        bool want_vanished = false;
        if (args.size() > 2) {
            const auto& mods = args[2].items;
            for (std::size_t i = 0; i < mods.size(); ++i) {
                if (mods[i].is("CHANGEDSINCE") && i + 1 < mods.size())
                    since = std::stoull(mods[i + 1].text);
                if (mods[i].is("VANISHED")) want_vanished = true;
            }
            if (!since) throw std::runtime_error("unknown FETCH modifier");
            if (want_vanished && !m_enabled.count("QRESYNC"))
                throw std::runtime_error("VANISHED without QRESYNC");
            m_enabled.insert("CONDSTORE");
            if (std::find(items.begin(), items.end(), "MODSEQ") == items.end())
                items.push_back("MODSEQ");
        }
        const bool bodies = std::any_of(items.begin(), items.end(), [](const std::string& i) {
            return i == "BODY[]" || i == "BODY.PEEK[]" || i == "RFC822";
        });
        if (bodies)
            if (auto refusal = provider_refusal(c)) return *refusal;
        std::string out;
        if (want_vanished) {
            UidSet within;
            for (const auto& r : parse_set(args[0].text, star(mb)))
                within.add_range(Uid(r.first), Uid(r.last));
            out += vanished(mb, *since, within);
        }
        for (const auto* m : in_set(mb, args[0].text)) {
            if (since && m->modseq <= *since) continue;
            const std::string head =
                "* " + std::to_string(seq_of(mb, m->uid)) + " FETCH (UID " + std::to_string(m->uid);
            std::string other, body;  // the items, and the body sections (split_fetch)
            for (const auto& item : items) {
                auto rendered = fetch_item(mb, *m, item);
                if (rendered.empty()) continue;
                const bool section = rendered.rfind("BODY[", 0) == 0 || rendered.rfind("RFC822 ", 0) == 0;
                (section ? body : other) += " " + rendered;
            }
            const auto split = m_model.split_fetch;
            if (split == ModelServer::FetchSplit::None || other.empty() || body.empty())
                out += head + other + body + ")\r\n";
            else if (split == ModelServer::FetchSplit::ItemsFirst)
                out += head + other + ")\r\n" + head + body + ")\r\n";
            else
                out += head + body + ")\r\n" + head + other + ")\r\n";
        }
        return out + ok(c, "UID FETCH completed");
    }

    // Labels as Gmail sends them: system labels ("\\Inbox") as atoms, the
    // rest as strings.
    static std::string render_labels(const std::vector<std::string>& labels) {
        std::vector<std::string> out;
        for (const auto& l : labels) out.push_back(!l.empty() && l[0] == '\\' ? l : quote(l));
        return join(out);
    }

    // APPEND mailbox [flag-list] [date-time] literal (RFC 3501 §6.3.11), with
    // APPENDUID (RFC 4315). On Gmail a message appended to a label mailbox
    // lands in All Mail with that label.
    std::string append(const ModelCommand& c, const std::vector<Token>& args) {
        if (args.size() < 2) throw std::runtime_error("APPEND needs a mailbox and a message");
        const auto* mb = find(args[0].text);
        if (!mb) return c.tag + " NO [TRYCREATE] no such mailbox\r\n";
        std::vector<std::string> flags;
        std::string date = "01-Jan-2024 10:00:00 +0000";
        for (std::size_t i = 1; i + 1 < args.size(); ++i) {
            if (args[i].kind == Token::Kind::List)
                for (const auto& f : args[i].items) flags.push_back(f.text);
            else
                date = args[i].text;
        }
        const std::string name = mb->name;
        const std::string& body = args.back().text;
        if (auto refused = o365_refuses_append(c, name, flags, body)) return *refused;
        if (mb->append_limit && body.size() > *mb->append_limit)
            return c.tag + " NO [TOOBIG] Message is larger than the mailbox's APPENDLIMIT\r\n";
        std::uint32_t uid = 0;
        if (m_model.m_is_gmail) {
            std::vector<std::string> labels;
            if (name != m_model.m_gmail.all) labels.push_back(label_of(name));
            auto msgid = m_model.gmail_deliver(body, labels, flags, date);
            for (const auto& [u, m] : m_model.m_mailboxes.at(name).messages)
                if (m.gm_msgid == msgid) uid = u;
        } else {
            uid = m_model.append(name, body, flags, date);
        }
        const auto& now = m_model.m_mailboxes.at(name);
        return c.tag + " OK [APPENDUID " + std::to_string(now.uidvalidity) + " " + std::to_string(uid) +
               "] APPEND completed\r\n";
    }

    // Quirk(O365): what Exchange Online refuses in an APPEND: the reserved
    // Files folder, a keyword outside PERMANENTFLAGS, a message too large.
    std::optional<std::string> o365_refuses_append(const ModelCommand& c, const std::string& mailbox,
                                                   const std::vector<std::string>& flags, const std::string& body) const {
        if (!m_model.m_o365) return std::nullopt;
        if (strcasecmp(mailbox.c_str(), kO365FilesFolder) == 0) return c.tag + " NO Folder name is reserved.\r\n";
        for (const auto& f : flags)
            if (!o365_allows(f)) return c.tag + " BAD Command Argument Error. 11\r\n";
        if (m_model.m_o365->max_append && body.size() > m_model.m_o365->max_append)
            return c.tag + " NO Maximum size of appendable message has been exceeded.\r\n";
        if (longest_line(body) > m_model.m_o365->max_line && m_model.m_o365->max_line)
            return c.tag + " BAD Command Argument Error. 11\r\n";
        return std::nullopt;
    }

    // CREATE mailbox (RFC 3501 §6.3.3); a trailing delimiter is dropped.
    std::string create(const ModelCommand& c, const std::vector<Token>& args) {
        if (args.empty()) throw std::runtime_error("CREATE needs a mailbox");
        std::string name = args[0].text;
        if (!name.empty() && name.back() == '/') name.pop_back();
        // Quirk(O365): "NO Folder name is reserved" (imapsync FAQ.Office365).
        if (m_model.m_o365 && strcasecmp(name.c_str(), kO365FilesFolder) == 0)
            return c.tag + " NO Folder name is reserved.\r\n";
        if (const auto* same = find(name)) {
            if (m_model.m_fold_case && same->name != name) return c.tag + " " + *m_model.m_fold_case + "\r\n";
            return c.tag + " NO [ALREADYEXISTS] Mailbox already exists\r\n";
        }
        m_model.add_mailbox(name);
        return ok(c, "CREATE completed");
    }

    // UID STORE set [+-]FLAGS[.SILENT] (flags): RFC 3501 §6.4.6.
    std::string store_flags(const ModelCommand& c, const std::vector<Token>& args) {
        const std::string name = selected().name;
        if (args.size() != 3) throw std::runtime_error("STORE needs a set, an item and flags");
        std::string what = upper(args[1].text);
        char mode = what[0] == '+' || what[0] == '-' ? what[0] : '=';
        if (mode != '=') what = what.substr(1);
        bool silent = what.ends_with(".SILENT");
        if (silent) what = what.substr(0, what.size() - 7);
        if (what != "FLAGS") throw std::runtime_error("STORE " + what + " not supported");
        std::vector<std::string> given;
        if (args[2].kind == Token::Kind::List)
            for (const auto& t : args[2].items) given.push_back(t.text);
        else
            given.push_back(args[2].text);
        if (m_model.m_o365)
            for (const auto& f : given)
                if (!o365_allows(f)) return c.tag + " BAD Command Argument Error. 11\r\n";
        std::vector<std::uint32_t> uids;
        for (const auto* m : in_set(selected(), args[0].text)) uids.push_back(m->uid);
        auto& mb = m_model.m_mailboxes.at(name);
        std::string out;
        for (auto uid : uids) {
            auto& m = mb.messages.at(uid);
            for (const auto& f : given) {
                auto at = std::find(m.flags.begin(), m.flags.end(), f);
                if (mode == '-' && at != m.flags.end()) m.flags.erase(at);
                if (mode == '+' && at == m.flags.end()) m.flags.push_back(f);
            }
            if (mode == '=') m.flags = given;
            m.modseq = ++mb.highestmodseq;
            if (!silent)
                out += "* " + std::to_string(seq_of(mb, uid)) + " FETCH (UID " + std::to_string(uid) + " FLAGS (" +
                       join(m.flags) + "))\r\n";
        }
        return out + ok(c, "STORE completed");
    }

    // The label a Gmail mailbox shows (the inverse of gmail_label_mailbox).
    std::string label_of(const std::string& mailbox) const {
        for (const char* l : {"\\Inbox", "\\Sent", "\\Draft", "\\Important", "\\Starred"})
            if (m_model.gmail_label_mailbox(l) == mailbox) return l;
        return mailbox;
    }

    // UID STORE set [+|-]X-GM-LABELS[.SILENT] (labels): Gmail's label change.
    // The model is read-only otherwise (no flag STORE).
    std::string uid_store(const ModelCommand& c, const std::vector<Token>& args) {
        if (!m_model.m_is_gmail) return store_flags(c, args);
        const auto& mb = selected();
        if (args.size() != 3) throw std::runtime_error("STORE not supported");
        std::string what = upper(args[1].text);
        char mode = what[0] == '+' || what[0] == '-' ? what[0] : '=';
        if (mode != '=') what = what.substr(1);
        bool silent = what.ends_with(".SILENT");
        if (silent) what = what.substr(0, what.size() - 7);
        if (what != "X-GM-LABELS") throw std::runtime_error("STORE " + what + " not supported");
        std::vector<std::string> given;
        if (args[2].kind == Token::Kind::List)
            for (const auto& t : args[2].items) given.push_back(t.text);
        else
            given.push_back(args[2].text);
        std::vector<std::pair<std::uint32_t, std::uint64_t>> hits;
        for (const auto* m : in_set(mb, args[0].text)) hits.emplace_back(m->uid, m->gm_msgid);
        std::string name = mb.name;
        std::string out;
        for (const auto& [uid, msgid] : hits) {
            auto labels = m_model.gmail_message(msgid).gm_labels;
            for (const auto& l : given) {
                auto at = std::find(labels.begin(), labels.end(), l);
                if (mode == '-' && at != labels.end()) labels.erase(at);
                if (mode == '+' && at == labels.end()) labels.push_back(l);
            }
            if (mode == '=') labels = given;
            m_model.apply_labels(msgid, labels);
            const auto* now = find(name);
            if (silent || !now || !now->messages.count(uid)) continue;
            out += "* " + std::to_string(seq_of(*now, uid)) + " FETCH (UID " + std::to_string(uid) +
                   " X-GM-LABELS (" + render_labels(labels) + "))\r\n";
        }
        return out + ok(c, "STORE completed");
    }

    // search-key: ALL / UID sequence-set / MODSEQ n (ANDed).
    std::string uid_search(const ModelCommand& c, const std::vector<Token>& args) {
        const auto& mb = selected();
        std::size_t i = 0;
        const Token* returns = nullptr;
        if (i + 1 < args.size() && args[i].is("RETURN")) {
            if (!m_model.m_caps.count("ESEARCH")) throw std::runtime_error("no ESEARCH");
            returns = &args[i + 1];
            i += 2;
        }
        std::vector<const ModelMessage*> hits;
        for (const auto& [uid, m] : mb.messages) hits.push_back(&m);
        for (; i < args.size(); ++i) {
            if (args[i].is("ALL")) continue;
            if (args[i].is("UID") && i + 1 < args.size()) {
                auto in = in_set(mb, args[++i].text);
                std::set<const ModelMessage*> keep(in.begin(), in.end());
                std::erase_if(hits, [&](const ModelMessage* m) { return !keep.count(m); });
            } else if (args[i].is("MODSEQ") && i + 1 < args.size()) {
                auto since = std::stoull(args[++i].text);
                std::erase_if(hits, [&](const ModelMessage* m) { return m->modseq < since; });
            } else {
                throw std::runtime_error("unknown search key " + args[i].text);
            }
        }
        if (!returns) {
            std::string line = "* SEARCH";
            for (const auto* m : hits) line += " " + std::to_string(m->uid);
            return line + "\r\n" + ok(c);
        }
        std::vector<std::string> options;
        for (const auto& t : returns->items) options.push_back(upper(t.text));
        if (options.empty()) options.push_back("ALL");
        std::string line = "* ESEARCH (TAG " + quote(c.tag) + ") UID";
        for (const auto& o : options) {
            if (o == "ALL" && !hits.empty()) {
                UidSet all;
                for (const auto* m : hits) all.add(Uid(m->uid));
                line += " ALL " + all.to_string();
            } else if (o == "COUNT") {
                line += " COUNT " + std::to_string(hits.size());
            } else if (o == "MIN" && !hits.empty()) {
                line += " MIN " + std::to_string(hits.front()->uid);
            } else if (o == "MAX" && !hits.empty()) {
                line += " MAX " + std::to_string(hits.back()->uid);
            }
        }
        return line + "\r\n" + ok(c);
    }

    ModelServer& m_model;
    std::size_t m_id;
    std::size_t m_reads = 0;
    std::string m_buffer;
    std::set<std::size_t> m_acked;
    std::set<std::string> m_enabled;
    std::string m_selected;
    bool m_dead = false;
    std::size_t m_errors = 0;  // NO and BAD answers (O365 counts them)
    std::string m_token;       // the OAuth2 token this session authenticated with
};

ModelServer::ModelServer()
    : m_caps{"ENABLE",   "CONDSTORE", "QRESYNC",  "ESEARCH", "LIST-STATUS",
             "OBJECTID", "UIDPLUS",   "UNSELECT", "LITERAL+"} {}

ModelServer::~ModelServer() = default;

void ModelServer::fold_case(std::string create_reply) {
    std::lock_guard lock(m_mutex);
    m_fold_case = std::move(create_reply);
}

void ModelServer::set_capabilities(std::set<std::string> caps) {
    std::lock_guard lock(m_mutex);
    m_caps = std::move(caps);
}

std::set<std::string> ModelServer::capabilities() const {
    std::lock_guard lock(m_mutex);
    return m_caps;
}

std::string ModelServer::capability_line() const {
    std::string line = "IMAP4rev1";
    for (const auto& c : m_caps) line += " " + c;
    if (oauth2_valid) line += " AUTH=XOAUTH2 SASL-IR";
    return line;
}

ModelMailbox& ModelServer::add_mailbox(const std::string& name, std::uint32_t uidvalidity,
                                       const std::string& mailboxid) {
    std::lock_guard lock(m_mutex);
    auto& mb = m_mailboxes[name];
    mb.name = name;
    mb.uidvalidity = uidvalidity        ? uidvalidity
                     : same_uidvalidity ? same_uidvalidity
                                        : m_next_uidvalidity++;
    mb.mailboxid = mailboxid.empty() ? "F" + std::to_string(m_next_mailboxid++) : mailboxid;
    return mb;
}

bool ModelServer::has_mailbox(const std::string& name) const {
    std::lock_guard lock(m_mutex);
    return m_mailboxes.count(name) > 0;
}

ModelMailbox& ModelServer::mailbox(const std::string& name) {
    std::lock_guard lock(m_mutex);
    return m_mailboxes.at(name);
}

void ModelServer::delete_mailbox(const std::string& name) {
    std::lock_guard lock(m_mutex);
    m_mailboxes.erase(name);
}

void ModelServer::rename_mailbox(const std::string& from, const std::string& to) {
    std::lock_guard lock(m_mutex);
    auto mb = std::move(m_mailboxes.at(from));
    m_mailboxes.erase(from);
    mb.name = to;
    m_mailboxes[to] = std::move(mb);
}

std::uint32_t ModelServer::append(const std::string& mailbox, const std::string& body,
                                  std::vector<std::string> flags, const std::string& internaldate) {
    std::lock_guard lock(m_mutex);
    auto& mb = m_mailboxes.at(mailbox);
    ModelMessage m;
    m.uid = mb.uidnext++;
    m.flags = std::move(flags);
    m.internaldate = internaldate;
    m.body = body;
    m.modseq = ++mb.highestmodseq;
    mb.messages[m.uid] = m;
    return m.uid;
}

void ModelServer::expunge(const std::string& mailbox, std::uint32_t uid) {
    std::lock_guard lock(m_mutex);
    auto& mb = m_mailboxes.at(mailbox);
    if (!mb.messages.erase(uid)) return;
    UidSet gone;
    gone.add(Uid(uid));
    mb.expunged.emplace_back(gone, ++mb.highestmodseq);
}

void ModelServer::set_flags(const std::string& mailbox, std::uint32_t uid,
                            std::vector<std::string> flags) {
    std::lock_guard lock(m_mutex);
    auto& mb = m_mailboxes.at(mailbox);
    auto& m = mb.messages.at(uid);
    m.flags = std::move(flags);
    m.modseq = ++mb.highestmodseq;
}

void ModelServer::rebuild_modseqs(const std::string& mailbox) {
    std::lock_guard lock(m_mutex);
    auto& mb = m_mailboxes.at(mailbox);
    for (auto& [uid, m] : mb.messages) m.modseq = 1;
    mb.highestmodseq = 1;
    mb.expunged.clear();
}

void ModelServer::reset_uidvalidity(const std::string& mailbox, std::uint32_t uidvalidity) {
    std::lock_guard lock(m_mutex);
    auto& mb = m_mailboxes.at(mailbox);
    std::map<std::uint32_t, ModelMessage> renumbered;
    std::uint32_t next = 1;
    for (auto& [uid, m] : mb.messages) {
        m.uid = next++;
        renumbered[m.uid] = std::move(m);
    }
    mb.messages = std::move(renumbered);
    mb.uidvalidity = uidvalidity;
    mb.uidnext = next;
    mb.expunged.clear();
}

void ModelServer::make_gmail(const GmailNames& names) {
    std::lock_guard lock(m_mutex);
    m_is_gmail = true;
    m_gmail = names;
    // Gmail's CAPABILITY after login: CONDSTORE, never QRESYNC.
    m_caps = {"X-GM-EXT-1", "UIDPLUS", "UNSELECT", "ENABLE",    "CONDSTORE", "ESEARCH", "LIST-STATUS",
              "SPECIAL-USE", "ID",     "IDLE",     "NAMESPACE", "MOVE",      "CHILDREN"};
    add_mailbox("INBOX");
    add_mailbox(names.root).attributes = {"\\Noselect", "\\HasChildren"};
    const std::pair<const std::string*, const char*> special[] = {
        {&names.all, "\\All"},       {&names.sent, "\\Sent"},   {&names.drafts, "\\Drafts"},
        {&names.trash, "\\Trash"},   {&names.spam, "\\Junk"},   {&names.important, "\\Important"},
        {&names.starred, "\\Flagged"}};
    for (const auto& [name, use] : special)
        add_mailbox(*name).attributes = {"\\HasNoChildren", use};
}

std::string ModelServer::gmail_label_mailbox(const std::string& label) const {
    std::lock_guard lock(m_mutex);
    if (strcasecmp(label.c_str(), "\\Inbox") == 0) return "INBOX";
    if (label == "\\Sent") return m_gmail.sent;
    if (label == "\\Draft") return m_gmail.drafts;
    if (label == "\\Important") return m_gmail.important;
    if (label == "\\Starred") return m_gmail.starred;
    if (label == "\\Trash") return m_gmail.trash;
    if (label == "\\Spam") return m_gmail.spam;
    return label;
}

ModelMessage& ModelServer::gmail_message(std::uint64_t msgid) {
    std::lock_guard lock(m_mutex);
    for (auto& [uid, m] : m_mailboxes.at(m_gmail.all).messages)
        if (m.gm_msgid == msgid) return m;
    throw std::out_of_range("no message " + std::to_string(msgid));
}

std::uint64_t ModelServer::gmail_deliver(const std::string& body, std::vector<std::string> labels,
                                         std::vector<std::string> flags,
                                         const std::string& internaldate) {
    std::lock_guard lock(m_mutex);
    auto uid = append(m_gmail.all, body, std::move(flags), internaldate);
    auto& m = m_mailboxes.at(m_gmail.all).messages.at(uid);
    m.gm_msgid = m_next_msgid++;
    m.gm_thrid = m.gm_msgid;
    auto msgid = m.gm_msgid;
    apply_labels(msgid, std::move(labels));
    return msgid;
}

void ModelServer::gmail_set_labels(std::uint64_t msgid, std::vector<std::string> labels) {
    std::lock_guard lock(m_mutex);
    apply_labels(msgid, std::move(labels));
}

void ModelServer::apply_labels(std::uint64_t msgid, std::vector<std::string> labels) {
    auto& all = m_mailboxes.at(m_gmail.all);
    auto& master = gmail_message(msgid);
    master.gm_labels = labels;
    master.modseq = ++all.highestmodseq;
    std::set<std::string> showing;
    for (const auto& l : labels) showing.insert(gmail_label_mailbox(l));
    for (auto& [name, mb] : m_mailboxes) {
        if (name == m_gmail.all) continue;
        std::uint32_t uid = 0;
        for (auto& [u, m] : mb.messages)
            if (m.gm_msgid == msgid) uid = u;
        if (uid && !showing.count(name)) {
            expunge(name, uid);
        } else if (uid) {
            mb.messages.at(uid).gm_labels = labels;
            mb.messages.at(uid).modseq = ++mb.highestmodseq;
        } else if (showing.count(name)) {
            auto copy = append(name, master.body, master.flags, master.internaldate);
            auto& m = mb.messages.at(copy);
            m.gm_msgid = master.gm_msgid;
            m.gm_thrid = master.gm_thrid;
            m.gm_labels = labels;
        }
    }
    for (const auto& name : showing) {
        if (m_mailboxes.count(name)) continue;
        add_mailbox(name);
        apply_labels(msgid, labels);  // once more: the new mailbox shows it too
        return;
    }
}

void ModelServer::gmail_rename_label(const std::string& from, const std::string& to,
                                     bool moves_modseq) {
    std::lock_guard lock(m_mutex);
    rename_mailbox(from, to);
    if (!moves_modseq) {
        for (auto& [name, mb] : m_mailboxes)
            for (auto& [uid, m] : mb.messages)
                std::replace(m.gm_labels.begin(), m.gm_labels.end(), from, to);
        return;
    }
    std::vector<std::uint64_t> ids;
    for (const auto& [uid, m] : m_mailboxes.at(m_gmail.all).messages)
        if (std::find(m.gm_labels.begin(), m.gm_labels.end(), from) != m.gm_labels.end())
            ids.push_back(m.gm_msgid);
    for (auto id : ids) {
        auto labels = gmail_message(id).gm_labels;
        std::replace(labels.begin(), labels.end(), from, to);
        apply_labels(id, labels);
    }
}

void ModelServer::make_o365(const O365Quirks& quirks, std::size_t files_items) {
    std::lock_guard lock(m_mutex);
    m_o365 = quirks;
    // Exchange Online's CAPABILITY after login, less what the engine never
    // uses (IDLE, NAMESPACE, ID, MOVE, AUTH=, SASL-IR).
    m_caps = {"IMAP4", "UIDPLUS", "UNSELECT", "CHILDREN", "LITERAL+"};
    if (quirks.announce_append_limit && quirks.max_append)
        m_caps.insert("APPENDLIMIT=" + std::to_string(quirks.max_append));
    add_mailbox("INBOX");
    add_mailbox(kO365FilesFolder).attributes = {"\\HasNoChildren"};
    // Attachment copies: bytes without a header ("messages with no sender").
    for (std::size_t i = 1; i <= files_items; ++i)
        append(kO365FilesFolder, "%PDF-1.7\r\n% attachment copy " + std::to_string(i) + "\r\n%%EOF\r\n");
}

std::vector<std::string> ModelServer::oauth2_tried() const {
    std::lock_guard lock(m_mutex);
    return m_oauth2_tried;
}

std::size_t ModelServer::oauth2_expired_byes() const {
    std::lock_guard lock(m_mutex);
    return m_oauth2_expired_byes;
}

std::size_t ModelServer::o365_errors() const {
    std::lock_guard lock(m_mutex);
    return m_o365_errors;
}

void ModelServer::gmail_daily_download_limit(std::uint64_t bytes) {
    std::lock_guard lock(m_mutex);
    m_gmail_daily_limit = bytes;
}

void ModelServer::o365_message_rate(std::size_t messages, std::uint64_t backoff_ms) {
    std::lock_guard lock(m_mutex);
    m_o365_rate = messages;
    m_o365_backoff_ms = backoff_ms;
}

void ModelServer::provider_new_day() {
    std::lock_guard lock(m_mutex);
    m_served_today = 0;
}

std::size_t ModelServer::provider_refusals() const {
    std::lock_guard lock(m_mutex);
    return m_provider_refusals;
}

std::size_t ModelServer::body_fetches(const std::string& mailbox) const {
    std::lock_guard lock(m_mutex);
    auto it = m_body_fetches.find(mailbox);
    return it == m_body_fetches.end() ? 0 : it->second;
}

std::size_t ModelServer::body_fetches() const {
    std::lock_guard lock(m_mutex);
    std::size_t n = 0;
    for (const auto& [name, count] : m_body_fetches) n += count;
    return n;
}

transport::StreamPtr ModelServer::open() {
    std::size_t id = ++m_connections;
    auto connection = std::make_shared<Connection>(*this, id);
    std::string greeting;
    {
        std::lock_guard lock(m_mutex);
        // Quirk(O365): its greeting names no capabilities.
        greeting = m_o365 ? "* OK The Microsoft Exchange IMAP4 service is ready. "
                            "[TQBXADQAUABSADAAMQBDAEEAMAAwADEANwAuAE4AQQBNAFAAUgBEADAAMQAuAFAAUgBPAEQALgBPAFUAVABMAE8ATwBLAC4AQwBPAE0A]\r\n"
                          : "* OK [CAPABILITY " + capability_line() + "] model server ready\r\n";
    }
    return std::make_unique<transport::ScriptedStream>(
        greeting, [connection](const std::string& bytes) { return connection->respond(bytes); });
}

imap::ConnectOptions ModelServer::connect_options() {
    imap::ConnectOptions o;
    o.host = "model";
    o.tls = imap::TlsMode::None;
    o.allow_plaintext_auth = true;
    o.user = user;
    std::string pw = password;
    o.password = [pw] { return pw; };
    o.stream_factory = [this] { return open(); };
    return o;
}

std::vector<std::string> ModelServer::commands() const {
    std::lock_guard lock(m_mutex);
    return m_log;
}

std::size_t ModelServer::count_commands(const std::string& name) const {
    std::lock_guard lock(m_mutex);
    std::string wanted = upper(name);
    return static_cast<std::size_t>(
        std::count_if(m_log.begin(), m_log.end(), [&](const std::string& line) {
            auto space = line.find(' ');
            return space != std::string::npos &&
                   upper(line.substr(space + 1, wanted.size())) == wanted &&
                   (line.size() == space + 1 + wanted.size() ||
                    line[space + 1 + wanted.size()] == ' ');
        }));
}

void ModelServer::clear_log() {
    std::lock_guard lock(m_mutex);
    m_log.clear();
}

}  // namespace imapkeep::testing
