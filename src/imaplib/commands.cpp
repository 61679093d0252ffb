// IMAP4's command methods, one per command of the seed, each as CPython's
// imaplib shapes its arguments and picks its result.
#include <imapkeep/imaplib.hpp>

#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/tls.hpp>
#include <imapkeep/util/md5.hpp>
#include <imapkeep/wire/encoder.hpp>

#include <algorithm>
#include <chrono>

#include "imaplib/guarded.hpp"
#include "imaplib/untagged.hpp"

namespace imaplib {

namespace ik = imapkeep;

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool parenthesised(std::string_view s) { return s.front() == '(' && s.back() == ')'; }

// Python's truth value of data[-1].
bool truthy(const Datum& d) {
    return std::holds_alternative<std::pair<std::string, std::string>>(d) ||
           !std::get<std::string>(d).empty();
}

// APPEND's literal: bare CR or LF become CRLF (CPython's MapCRLF).
std::string map_crlf(std::string_view message) {
    std::string out;
    out.reserve(message.size() + message.size() / 32);
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        if (c == '\r') {
            if (i + 1 < message.size() && message[i + 1] == '\n') ++i;
            out += "\r\n";
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

IMAP4::Args args_of(std::initializer_list<std::string_view> items) {
    IMAP4::Args out;
    for (auto s : items) out.emplace_back(std::string(s));
    return out;
}

}  // namespace

Response IMAP4::append(std::string_view mailbox, std::optional<std::string_view> flags,
                       std::optional<std::string_view> date_time, std::string_view message) {
    Args args{std::string(mailbox.empty() ? "INBOX" : mailbox)};
    if (flags && !flags->empty()) {
        std::string f(*flags);
        args.push_back(parenthesised(f) ? f : "(" + f + ")");
    }
    if (date_time && !date_time->empty()) {
        try {
            args.push_back(Time2Internaldate(*date_time));
        } catch (const std::logic_error& e) {
            throw error(std::string("date_time: ") + e.what());
        }
    }
    if (utf8_enabled)
        throw error("APPEND after ENABLE UTF8=ACCEPT is not supported");
    auto wire_args = quoted_args(args);
    wire_args.push_back(ik::wire::Arg::literal(map_crlf(message)));
    return command_complete("APPEND", command("APPEND", std::move(wire_args)));
}

Response IMAP4::authenticate(std::string_view mechanism, AuthObject authobject) {
    std::string mech = upper(mechanism);
    auto r = command_complete("AUTHENTICATE",
                              command("AUTHENTICATE", quoted_args({mech}), &authobject));
    if (r.type != "OK") throw error(std::get<std::string>(r.data.back()));
    state = "AUTH";
    return r;
}

Response IMAP4::capability() {
    return untagged_response(simple_command("CAPABILITY"), "CAPABILITY");
}

Response IMAP4::check() { return simple_command("CHECK"); }

Response IMAP4::close() {
    try {
        auto r = simple_command("CLOSE");
        state = "AUTH";
        return r;
    } catch (...) {
        state = "AUTH";
        throw;
    }
}

Response IMAP4::copy(std::string_view message_set, std::string_view new_mailbox) {
    return simple_command("COPY", args_of({message_set, new_mailbox}));
}

Response IMAP4::create(std::string_view mailbox) {
    return simple_command("CREATE", args_of({mailbox}));
}

Response IMAP4::delete_(std::string_view mailbox) {
    return simple_command("DELETE", args_of({mailbox}));
}

Response IMAP4::deleteacl(std::string_view mailbox, std::string_view who) {
    return simple_command("DELETEACL", args_of({mailbox, who}));
}

Response IMAP4::enable(std::string_view capability) {
    if (std::find(capabilities.begin(), capabilities.end(), "ENABLE") == capabilities.end())
        throw error("Server does not support ENABLE");
    auto r = simple_command("ENABLE", args_of({capability}));
    if (r.type == "OK" && upper(capability).find("UTF8=ACCEPT") != std::string::npos)
        utf8_enabled = true;
    return r;
}

Response IMAP4::expunge() { return untagged_response(simple_command("EXPUNGE"), "EXPUNGE"); }

Response IMAP4::fetch(std::string_view message_set, std::string_view message_parts) {
    return untagged_response(simple_command("FETCH", args_of({message_set, message_parts})),
                             "FETCH");
}

Response IMAP4::getacl(std::string_view mailbox) {
    return untagged_response(simple_command("GETACL", args_of({mailbox})), "ACL");
}

Response IMAP4::getannotation(std::string_view mailbox, std::string_view entry,
                              std::string_view attribute) {
    return untagged_response(
        simple_command("GETANNOTATION", args_of({mailbox, entry, attribute})), "ANNOTATION");
}

Response IMAP4::getquota(std::string_view root) {
    return untagged_response(simple_command("GETQUOTA", args_of({root})), "QUOTA");
}

Response IMAP4::getquotaroot(std::string_view mailbox) {
    auto r = simple_command("GETQUOTAROOT", args_of({mailbox}));
    auto quota = untagged_response(r, "QUOTA");
    auto quotaroot = untagged_response(Response{quota.type, r.data}, "QUOTAROOT");
    Response out{quotaroot.type, std::move(quotaroot.data)};
    out.data.insert(out.data.end(), quota.data.begin(), quota.data.end());
    return out;
}

std::vector<Response> IMAP4::idle(std::optional<double> duration) {
    if (std::find(capabilities.begin(), capabilities.end(), "IDLE") == capabilities.end())
        throw error("Server does not support IMAP4 IDLE");
    auto limit = duration ? to_timeout(duration) : std::nullopt;
    std::vector<Response> collected;
    m_idle_capture = &collected;
    struct Release {
        IMAP4& self;
        ~Release() {
            self.m_idle_capture = nullptr;
            if (self.m_client) self.m_client->set_read_timeout(self.m_timeout);
        }
    } release{*this};

    bool ready = false;
    std::string tag;
    {
        // The "+" only says IDLE began; nothing is sent back for it.
        std::vector<ik::wire::Arg> none;
        check_state("IDLE");
        for (const char* t : {"OK", "NO", "BAD"}) untagged_responses.erase(t);
        if (!m_client) throw abort("socket error: not connected");
        tag = guarded([&] {
            return m_client->submit("IDLE", none, {}, [&ready](const ik::wire::Response&) {
                ready = true;
                return std::optional<std::string>();
            });
        });
        if (debug >= 4) trace("> " + tag + " IDLE");
    }
    while (!ready && !m_tagged.count(tag)) guarded([&] { m_client->read_one(false); });
    if (!ready) {
        m_idle_capture = nullptr;
        auto r = command_complete("IDLE", tag);
        throw error("IDLE failed: " + r.type + " " + std::get<std::string>(r.data.back()));
    }
    auto deadline = std::chrono::steady_clock::now() + limit.value_or(std::chrono::milliseconds(0));
    for (;;) {
        if (limit) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            m_client->set_read_timeout(left);
        } else if (!collected.empty()) {
            break;
        }
        auto got = guarded([&] { return m_client->read_one(true); });
        if (!got) break;  // the duration ran out
        if (m_tagged.count(tag)) break;  // the server ended IDLE itself
    }
    m_idle_capture = nullptr;
    m_client->set_read_timeout(m_timeout);
    if (!m_tagged.count(tag)) {
        guarded([&] { m_client->send_line("DONE"); });
        if (debug >= 4) trace("> DONE");
    }
    command_complete("IDLE", tag);
    return collected;
}

Response IMAP4::list(std::string_view directory, std::string_view pattern) {
    return untagged_response(simple_command("LIST", args_of({directory, pattern})), "LIST");
}

Response IMAP4::login(std::string_view user, std::string_view password) {
    if (detail::has_nul_cr_lf(password)) throw error("password contains NUL, CR or LF");
    // The password is always quoted (the seed), whatever it looks like.
    std::vector<ik::wire::Arg> args{quoted_arg(user), ik::wire::Arg::string(std::string(password))};
    auto r = command_complete("LOGIN", command("LOGIN", std::move(args)));
    if (r.type != "OK") throw error(std::get<std::string>(r.data.back()));
    state = "AUTH";
    return r;
}

Response IMAP4::login_cram_md5(std::string_view user, std::string_view password) {
    std::string u(user);
    std::string p(password);
    return authenticate("CRAM-MD5", [u, p](std::string_view challenge) -> std::optional<std::string> {
        try {
            return u + " " + ik::util::hmac_md5_hex(p, challenge);
        } catch (const std::exception& e) {
            throw error(std::string("CRAM-MD5: ") + e.what());
        }
    });
}

Response IMAP4::logout() {
    state = "LOGOUT";
    check_state("LOGOUT");
    for (const char* t : {"OK", "NO", "BAD"}) untagged_responses.erase(t);
    if (untagged_responses.count("READ-ONLY") && !is_readonly)
        throw readonly("mailbox status changed to READ-ONLY");
    if (debug >= 4) trace("> LOGOUT");
    m_logging_out = true;
    m_bye_during_logout = false;
    m_logout_tagged.reset();
    if (m_client) m_client->logout();  // never throws; frames still pass observe()
    m_logging_out = false;
    m_stashed = nullptr;
    Response r;
    if (auto it = untagged_responses.find("BYE"); it != untagged_responses.end()) {
        r = Response{"BYE", std::move(it->second)};
        untagged_responses.erase(it);
    } else if (m_logout_tagged) {
        if (m_logout_tagged->type == "BAD")
            throw error("LOGOUT command error: BAD [" + m_logout_tagged->data + "]");
        r = Response{m_logout_tagged->type, {Datum(m_logout_tagged->data)}};
    } else {
        throw abort("command: LOGOUT => socket error: EOF");
    }
    m_tagged.clear();
    shutdown();
    return r;
}

Response IMAP4::lsub(std::string_view directory, std::string_view pattern) {
    return untagged_response(simple_command("LSUB", args_of({directory, pattern})), "LSUB");
}

Response IMAP4::myrights(std::string_view mailbox) {
    return untagged_response(simple_command("MYRIGHTS", args_of({mailbox})), "MYRIGHTS");
}

Response IMAP4::namespace_() {
    return untagged_response(simple_command("NAMESPACE"), "NAMESPACE");
}

Response IMAP4::noop() { return simple_command("NOOP"); }

Response IMAP4::partial(std::string_view message_num, std::string_view message_part,
                        std::string_view start, std::string_view length) {
    return untagged_response(
        simple_command("PARTIAL", args_of({message_num, message_part, start, length})), "FETCH");
}

Response IMAP4::proxyauth(std::string_view user) {
    return simple_command("PROXYAUTH", args_of({user}));
}

Response IMAP4::recent() {
    auto r = untagged_response(Response{"OK", {}}, "RECENT");
    if (!r.data.empty() && truthy(r.data.back())) return r;
    return untagged_response(noop(), "RECENT");
}

Response IMAP4::rename(std::string_view oldmailbox, std::string_view newmailbox) {
    return simple_command("RENAME", args_of({oldmailbox, newmailbox}));
}

Response IMAP4::response(std::string_view code) {
    return untagged_response(Response{std::string(code), {}}, upper(code));
}

Response IMAP4::search_args(std::optional<std::string_view> charset, const Args& criteria) {
    Args args;
    if (charset && !charset->empty()) {
        if (utf8_enabled) throw error("Non-None charset not valid in UTF8 mode");
        args = {std::string("CHARSET"), std::string(*charset)};
    }
    args.insert(args.end(), criteria.begin(), criteria.end());
    return untagged_response(simple_command("SEARCH", args), "SEARCH");
}

Response IMAP4::select(std::string_view mailbox, bool readonly_) {
    untagged_responses.clear();
    is_readonly = readonly_;
    const char* name = readonly_ ? "EXAMINE" : "SELECT";
    auto r = simple_command(name, args_of({mailbox}));
    if (r.type != "OK") {
        state = "AUTH";
        return r;
    }
    state = "SELECTED";
    if (untagged_responses.count("READ-ONLY") && !readonly_)
        throw readonly(std::string(mailbox) + " is not writable");
    auto it = untagged_responses.find("EXISTS");
    if (it == untagged_responses.end()) return Response{r.type, {}};
    return Response{r.type, it->second};
}

Response IMAP4::setacl(std::string_view mailbox, std::string_view who, std::string_view what) {
    return simple_command("SETACL", args_of({mailbox, who, what}));
}

Response IMAP4::setannotation_args(const Args& args) {
    return untagged_response(simple_command("SETANNOTATION", args), "ANNOTATION");
}

Response IMAP4::setquota(std::string_view root, std::string_view limits) {
    return untagged_response(simple_command("SETQUOTA", args_of({root, limits})), "QUOTA");
}

Response IMAP4::sort_args(std::string_view sort_criteria, std::string_view charset,
                          const Args& search_criteria) {
    if (sort_criteria.empty()) throw error("sort criteria must not be empty");
    std::string criteria(sort_criteria);
    if (!parenthesised(criteria)) criteria = "(" + criteria + ")";
    Args args{criteria, std::string(charset)};
    args.insert(args.end(), search_criteria.begin(), search_criteria.end());
    return untagged_response(simple_command("SORT", args), "SORT");
}

void IMAP4::refuse_starttls(const std::string& why) {
    // A caller that asked for TLS and logs in next must not send its password
    // in clear: the connection ends here, so the LOGIN cannot go out.
    if (m_client) m_client->abandon(why);
    shutdown();
    state = "LOGOUT";
    throw abort(why);
}

Response IMAP4::starttls(const TlsOptions& options) {
    if (m_tls_established) throw abort("TLS session already established");
    check_state("STARTTLS");  // after PREAUTH there is no password left to protect
    if (std::find(capabilities.begin(), capabilities.end(), "STARTTLS") == capabilities.end())
        refuse_starttls("TLS not supported by server");
    // Nothing is due before the command is sent: bytes already here were
    // queued by someone guessing what comes next (an early tagged OK).
    if (has_unread_input()) refuse_starttls("STARTTLS refused: the server sent data before the command");
    Response r;
    try {
        r = simple_command("STARTTLS");
    } catch (const abort& e) {
        refuse_starttls(std::string("STARTTLS refused: ") + e.what());
    } catch (const error& e) {
        refuse_starttls(std::string("Couldn't establish TLS session: ") + e.what());
    }
    if (r.type != "OK") refuse_starttls("Couldn't establish TLS session");
    // Bytes that came with or after the OK were sent in clear text; taking
    // them as if protected is the STARTTLS injection attack. Fail closed.
    if (has_unread_input()) refuse_starttls("STARTTLS refused: the server sent data after its OK");
    try {
        m_stream = ik::transport::wrap_tls(std::move(m_stream), host.empty() ? "localhost" : host,
                                           options);
    } catch (const ik::transport::TransportError& e) {
        throw abort(std::string("TLS: ") + e.what());
    }
    m_tls_established = true;
    get_capabilities();
    return untagged_response(r, "STARTTLS");
}

Response IMAP4::status(std::string_view mailbox, std::string_view names) {
    return untagged_response(simple_command("STATUS", args_of({mailbox, names})), "STATUS");
}

Response IMAP4::store(std::string_view message_set, std::string_view command_,
                      std::string_view flags) {
    if (flags.empty()) throw error("flags must not be empty");
    std::string f(flags);
    if (!parenthesised(f)) f = "(" + f + ")";
    return untagged_response(
        simple_command("STORE", Args{std::string(message_set), std::string(command_), f}), "FETCH");
}

Response IMAP4::subscribe(std::string_view mailbox) {
    return simple_command("SUBSCRIBE", args_of({mailbox}));
}

Response IMAP4::thread_args(std::string_view threading_algorithm, std::string_view charset,
                            const Args& search_criteria) {
    Args args{std::string(threading_algorithm), std::string(charset)};
    args.insert(args.end(), search_criteria.begin(), search_criteria.end());
    return untagged_response(simple_command("THREAD", args), "THREAD");
}

Response IMAP4::uid_args(std::string_view command_, const Args& args) {
    std::string sub = upper(command_);
    try {
        check_state(sub);
    } catch (const error& e) {
        if (std::string_view(e.what()).starts_with("unknown"))
            throw error("Unknown IMAP4 UID command: " + sub);
        throw;
    }
    Args all{sub};
    all.insert(all.end(), args.begin(), args.end());
    auto r = simple_command("UID", all);
    const char* name = (sub == "SEARCH" || sub == "SORT" || sub == "THREAD") ? sub.c_str() : "FETCH";
    return untagged_response(std::move(r), name);
}

Response IMAP4::unselect() {
    try {
        auto r = simple_command("UNSELECT");
        state = "AUTH";
        return r;
    } catch (...) {
        state = "AUTH";
        throw;
    }
}

Response IMAP4::unsubscribe(std::string_view mailbox) {
    return simple_command("UNSUBSCRIBE", args_of({mailbox}));
}

Response IMAP4::xatom_args(std::string_view name, const Args& args) {
    std::string n = upper(name);
    try {
        check_state(n);
    } catch (const error& e) {
        if (!std::string_view(e.what()).starts_with("unknown")) throw;
        // CPython adds it to the global table; here it is this instance's.
        m_extra_commands[n] = {state};
    }
    return simple_command(n, args);
}

}  // namespace imaplib
