// Typed commands of imap::Client: each builds its arguments from typed values,
// collects the untagged data that answer it, and returns a typed result.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/tls.hpp>
#include <imapkeep/util/base64.hpp>

#include <algorithm>
#include <cctype>

#include "imap/client_pending.hpp"
#include "imap/file_literal.hpp"
#include "imap/node_values.hpp"
#include "imap/fetch_body.hpp"
#include "imap/server_uids.hpp"

namespace imapkeep::imap {

namespace {

using wire::Arg;
using wire::Node;
using wire::Response;

std::vector<std::string> node_strings(const Node& list) {
    std::vector<std::string> out;
    for (const auto& item : list.items) out.push_back(item.text);
    return out;
}

// objectid = 1*255(ALPHA / DIGIT / "_" / "-")   (RFC 8474 §4)
// Quirk(Cyrus 3.6): MAILBOXID asked together with other STATUS items comes back
// as raw bytes of a pointer. A value that is not an objectid is dropped, so
// rename detection falls back to other evidence instead of trusting garbage.
std::string objectid_or_empty(const Node& list) {
    if (list.kind != Node::Kind::List || list.items.size() != 1) return "";
    const std::string& id = list.items[0].text;
    if (id.empty() || id.size() > 255) return "";
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return "";
    return id;
}

// Parses a code's arguments (e.g. "[UIDNEXT 5]") as one number.
std::optional<std::uint64_t> code_number(const wire::ResponseCode& code) {
    if (!code.args.empty() && code.args[0].kind == Node::Kind::Number) return code.args[0].number;
    return std::nullopt;
}

// fetch-att names are compared case-insensitively; MODSEQ/EMAILID carry
// one-element lists (RFC 7162 §3.1.4.1, RFC 8474 §5.1).
FetchData to_fetch_data(const Response& response, const wire::Frame& frame) {
    FetchData data;
    data.seq = SeqNum(static_cast<std::uint32_t>(response.number.value_or(0)));
    if (response.args.empty() || response.args[0].kind != Node::Kind::List)
        throw Error("FETCH response without an attribute list");
    const auto& items = response.args[0].items;
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
        std::string name = upper(items[i].text);
        const Node& value = items[i + 1];
        if (name == "UID") {
            data.uid = Uid(static_cast<std::uint32_t>(node_number(value)));
        } else if (name == "FLAGS") {
            data.flags = node_strings(value);
        } else if (name == "INTERNALDATE") {
            data.internaldate = value.text;
        } else if (name == "RFC822.SIZE") {
            data.rfc822_size = node_number(value);
        } else if (name == "MODSEQ") {
            if (value.kind == Node::Kind::List && !value.items.empty())
                data.modseq = ModSeq(node_number(value.items[0]));
        } else if (name == "EMAILID") {
            data.emailid = objectid_or_empty(value);
        } else if (name == "X-GM-MSGID") {
            data.gm_msgid = node_number(value);
        } else if (name == "X-GM-THRID") {
            data.gm_thrid = node_number(value);
        } else if (name == "X-GM-LABELS") {
            // "X-GM-LABELS" SP "(" [astring *(SP astring)] ")" (Google's X-GM-EXT-1 page)
            if (value.kind != Node::Kind::List) throw Error("X-GM-LABELS without a list");
            data.gm_labels = node_strings(value);
        } else if (is_body_att(name)) {
            data.has_body = true;
            if (value.streamed && value.literal_index >= 0 &&
                static_cast<std::size_t>(value.literal_index) < frame.literals.size()) {
                data.body_sink = frame.literals[value.literal_index].sink;
            } else {
                data.body = value.text;
            }
        } else if (name.starts_with("BODY[")) {
            auto close = name.find(']');
            data.sections.emplace_back(items[i].text.substr(5, close - 5), value.text);
        }
    }
    return data;
}

void parse_status_items(const Node& list, StatusData& out) {
    for (std::size_t i = 0; i + 1 < list.items.size(); i += 2) {
        std::string name = upper(list.items[i].text);
        const Node& v = list.items[i + 1];
        if (name == "MAILBOXID") {
            out.mailboxid = objectid_or_empty(v);
            continue;
        }
        // status-att-val =/ "APPENDLIMIT" SP (number / nil)   (RFC 7889 §4); NIL: no limit
        if (v.kind != Node::Kind::Number) continue;
        auto n = v.number;
        if (name == "MESSAGES") out.messages = static_cast<std::uint32_t>(n);
        else if (name == "RECENT") out.recent = static_cast<std::uint32_t>(n);
        else if (name == "UNSEEN") out.unseen = static_cast<std::uint32_t>(n);
        else if (name == "UIDNEXT") out.uidnext = Uid(static_cast<std::uint32_t>(n));
        else if (name == "UIDVALIDITY") out.uidvalidity = UidValidity(static_cast<std::uint32_t>(n));
        else if (name == "HIGHESTMODSEQ") out.highestmodseq = ModSeq(n);
        else if (name == "SIZE") out.size = n;
        else if (name == "APPENDLIMIT") out.appendlimit = n;
    }
}

}  // namespace

void Client::expect_ok(const std::string& command, const Completion& completion) {
    if (!completion.ok()) throw CommandFailed(command, completion);
}

const std::vector<std::string>& Client::capabilities() {
    if (!m_caps_known) {
        auto c = run("CAPABILITY", {});
        expect_ok("CAPABILITY", c);
        if (!m_caps_known) m_caps_known = true;  // a server that sent none
    }
    return m_caps;
}

bool Client::has_capability(std::string_view name) {
    const auto& caps = capabilities();
    return std::find(caps.begin(), caps.end(), upper(name)) != caps.end();
}

void Client::starttls(const transport::TlsOptions& options, const std::string& host) {
    ensure_alive();
    // Fail closed (the "NO STARTTLS" attacks): every refusal ends the connection.
    if (m_state != State::NotAuthenticated)
        fail("STARTTLS refused: the session is already authenticated (PREAUTH?)");
    if (!has_capability("STARTTLS")) fail("STARTTLS refused: the server does not offer STARTTLS");
    // Nothing is due before STARTTLS is sent: bytes already here were queued
    // by someone who guessed what comes next (e.g. an early tagged OK).
    if (m_framer.buffered() > 0 || m_framer.has_frame() || m_stream->pending() > 0)
        fail("STARTTLS refused: data arrived before the command was sent (possible injection)");
    auto c = run("STARTTLS", {});
    if (!c.ok()) fail("STARTTLS refused by server: " + c.status + " " + c.text);
    if (m_framer.buffered() > 0 || m_framer.has_frame() || m_stream->pending() > 0)
        fail("STARTTLS refused: data arrived after the tagged OK (possible injection)");
    try {
        m_stream = transport::wrap_tls(std::move(m_stream), host, options);
    } catch (const transport::TransportError& e) {
        fail(std::string("TLS handshake failed: ") + e.what());
    }
    m_caps.clear();
    m_caps_known = false;
    capabilities();
}

void Client::login(const std::string& user, const std::string& password) {
    m_caps_known = false;  // an OK [CAPABILITY ...] sets them again
    auto c = run("LOGIN", {Arg::astring(user), Arg::string(password)});
    expect_ok("LOGIN", c);
    m_state = State::Authenticated;
}

void Client::authenticate(SaslMechanism& mechanism) {
    std::vector<Arg> args{Arg::atom(mechanism.name())};
    bool sent_initial = false;
    if (has_capability("SASL-IR")) {
        if (auto ir = mechanism.initial_response()) {
            // RFC 4959: an empty initial response is sent as "=".
            args.push_back(Arg::atom(ir->empty() ? "=" : util::base64_encode(*ir)));
            sent_initial = true;
        }
    }
    bool first = true;
    auto on_continue = [&](const Response& r) -> std::optional<std::string> {
        std::string challenge_b64 = r.raw_rest;
        while (!challenge_b64.empty() && challenge_b64.back() == ' ') challenge_b64.pop_back();
        std::optional<std::string> answer;
        if (first && !sent_initial && challenge_b64.empty()) {
            first = false;
            if (auto ir = mechanism.initial_response()) answer = *ir;
            else answer = mechanism.respond("");
        } else {
            first = false;
            auto challenge = util::base64_decode(challenge_b64);
            if (!challenge) return std::string("*");
            answer = mechanism.respond(*challenge);
        }
        if (!answer) return std::string("*");
        return util::base64_encode(*answer);
    };
    m_caps_known = false;
    auto c = run("AUTHENTICATE", args, {}, on_continue);
    expect_ok("AUTHENTICATE " + mechanism.name(), c);
    m_state = State::Authenticated;
}

std::vector<std::string> Client::enable(const std::vector<std::string>& extensions) {
    std::vector<Arg> args;
    for (const auto& e : extensions) args.push_back(Arg::atom(e));
    std::vector<std::string> enabled;
    auto c = run("ENABLE", args, [&](const Response& r, const wire::Frame&) {
        if (r.type != "ENABLED") return false;
        for (const auto& n : r.args) enabled.push_back(upper(n.text));
        return true;
    });
    expect_ok("ENABLE", c);
    if (std::find(enabled.begin(), enabled.end(), "UTF8=ACCEPT") != enabled.end()) m_utf8 = true;
    return enabled;
}

SelectData Client::select(const std::string& mailbox, bool read_only,
                          const std::optional<QresyncParams>& qresync, bool condstore) {
    return select(mailbox_name(mailbox), read_only, qresync, condstore);
}

SelectData Client::select(const MailboxName& mailbox, bool read_only,
                          const std::optional<QresyncParams>& qresync, bool condstore) {
    SelectData data;
    std::vector<Arg> args{Arg::mailbox(mailbox.wire())};
    if (qresync) {
        std::string p = "(QRESYNC (" + std::to_string(qresync->uidvalidity.value) + " " +
                        std::to_string(qresync->modseq.value);
        if (qresync->known_uids && !qresync->known_uids->empty())
            p += " " + qresync->known_uids->to_string();
        p += "))";
        args.push_back(Arg::raw(p));
    } else if (condstore) {
        args.push_back(Arg::raw("(CONDSTORE)"));
    }
    auto handle_code = [&](const wire::ResponseCode& code) {
        if (code.name == "UIDVALIDITY") {
            if (auto n = code_number(code)) data.uidvalidity = UidValidity(static_cast<std::uint32_t>(*n));
        } else if (code.name == "UIDNEXT") {
            if (auto n = code_number(code)) data.uidnext = Uid(static_cast<std::uint32_t>(*n));
        } else if (code.name == "HIGHESTMODSEQ") {
            if (auto n = code_number(code)) data.highestmodseq = ModSeq(*n);
        } else if (code.name == "NOMODSEQ") {
            data.nomodseq = true;
        } else if (code.name == "PERMANENTFLAGS") {
            if (!code.args.empty()) data.permanent_flags = node_strings(code.args[0]);
        } else if (code.name == "MAILBOXID") {
            if (!code.args.empty()) data.mailboxid = objectid_or_empty(code.args[0]);
        } else if (code.name == "READ-ONLY") {
            data.read_only = true;
        } else if (code.name == "READ-WRITE") {
            data.read_only = false;
        }
    };
    auto handler = [&](const Response& r, const wire::Frame& frame) {
        if (r.type == "EXISTS" && r.number) {
            data.exists = static_cast<std::uint32_t>(*r.number);
        } else if (r.type == "RECENT" && r.number) {
            data.recent = static_cast<std::uint32_t>(*r.number);
        } else if (r.type == "FLAGS" && !r.args.empty()) {
            data.flags = node_strings(r.args[0]);
        } else if (r.type == "OK" && r.code) {
            handle_code(*r.code);
        } else if (qresync && r.type == "VANISHED") {
            // VANISHED [(EARLIER)] known-uids (RFC 7162 §7.2.10)
            for (const auto& n : r.args) {
                if (n.kind == Node::Kind::List) continue;
                merge_into(data.vanished, parse_uid_set(n.text));
            }
        } else if (qresync && r.type == "FETCH") {
            auto fetched = to_fetch_data(r, frame);
            if (!fetched.uid) return false;
            if (qresync->on_changed) {
                qresync->on_changed(fetched);
            } else {
                data.changed.push_back(std::move(fetched));
            }
        } else {
            return false;
        }
        return true;
    };
    m_state = State::Authenticated;  // a failed SELECT leaves nothing selected
    m_exists = 0;
    std::vector<std::string> needs{"EXISTS",          "RECENT",       "FLAGS",
                                   "OK [UIDVALIDITY]", "OK [UIDNEXT]", "OK [HIGHESTMODSEQ]",
                                   "OK [PERMANENTFLAGS]"};
    if (qresync) needs.insert(needs.end(), {"VANISHED", "FETCH"});
    auto c = wait(submit_needing(std::move(needs), read_only ? "EXAMINE" : "SELECT", args, handler));
    expect_ok(read_only ? "EXAMINE" : "SELECT", c);
    if (c.code) handle_code(*c.code);
    m_state = State::Selected;
    if (!read_only && data.read_only) throw ReadOnly("mailbox status changed to READ-ONLY");
    return data;
}

void Client::unselect() {
    if (m_state != State::Selected) return;
    bool has_unselect = has_capability("UNSELECT");
    auto c = run(has_unselect ? "UNSELECT" : "CLOSE", {});
    m_state = State::Authenticated;
    expect_ok(has_unselect ? "UNSELECT" : "CLOSE", c);
}

void Client::close() {
    auto c = run("CLOSE", {});
    m_state = State::Authenticated;
    expect_ok("CLOSE", c);
}

std::vector<ListEntry> Client::list(const std::string& reference, const std::string& pattern,
                                    const ListOptions& options, std::vector<StatusData>* statuses) {
    std::vector<ListEntry> entries;
    std::vector<Arg> args{Arg::astring(encode_mailbox(reference)),
                          Arg::astring(encode_mailbox(pattern))};
    // list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"  (RFC 5258)
    std::vector<Arg> returns;
    if (options.special_use) returns.push_back(Arg::atom("SPECIAL-USE"));
    if (!options.return_status.empty()) {
        returns.push_back(Arg::atom("STATUS"));
        returns.push_back(options.return_status.arg());
    }
    if (!returns.empty()) {
        args.push_back(Arg::atom("RETURN"));
        args.push_back(Arg::list(std::move(returns)));
    }
    auto handler = [&](const Response& r, const wire::Frame&) {
        if (r.type == "LIST" && r.args.size() >= 3) {
            // mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
            ListEntry e;
            e.attributes = node_strings(r.args[0]);
            if (r.args[1].kind != Node::Kind::Nil) e.delimiter = r.args[1].text;
            e.raw_name = r.args[2].text;
            e.name = decode_mailbox(e.raw_name);
            // Quirk(RFC 3501 §5.1): INBOX is case-insensitive; normalise it.
            if (upper(e.name) == "INBOX") e.name = "INBOX";
            entries.push_back(std::move(e));
            return true;
        }
        if (r.type == "STATUS" && r.args.size() >= 2 && statuses) {
            StatusData s;
            s.raw_name = r.args[0].text;
            s.name = decode_mailbox(s.raw_name);
            if (upper(s.name) == "INBOX") s.name = "INBOX";
            parse_status_items(r.args[1], s);
            statuses->push_back(std::move(s));
            return true;
        }
        return false;
    };
    std::vector<std::string> needs{"LIST"};
    if (statuses) needs.push_back("STATUS");
    auto c = wait(submit_needing(std::move(needs), "LIST", args, handler));
    expect_ok("LIST", c);
    return entries;
}

StatusData Client::status(const std::string& mailbox, const StatusItems& items) {
    auto data = status(mailbox_name(mailbox), items);
    data.name = mailbox;
    return data;
}

StatusData Client::status(const MailboxName& mailbox, const StatusItems& items) {
    StatusData data;
    data.raw_name = mailbox.wire();
    data.name = decode_mailbox(mailbox.wire());
    auto c = wait(submit_needing({"STATUS"}, "STATUS", {Arg::mailbox(mailbox.wire()), items.arg()},
                                 [&](const Response& r, const wire::Frame&) {
                                     if (r.type != "STATUS" || r.args.size() < 2) return false;
                                     parse_status_items(r.args[1], data);
                                     return true;
                                 }));
    expect_ok("STATUS", c);
    return data;
}

Client::Tag Client::submit_uid_fetch(const UidSet& uids, const FetchItems& items,
                                     FetchHandler handler, std::optional<ModSeq> changed_since,
                                     bool vanished) {
    std::vector<Arg> args{Arg::raw(uids.to_string()), items.arg()};
    if (changed_since) {
        std::string m = "(CHANGEDSINCE " + std::to_string(changed_since->value);
        if (vanished) m += " VANISHED";
        args.push_back(Arg::raw(m + ")"));
    }
    return submit_needing({"FETCH"}, "UID FETCH", args, [handler = std::move(handler)](const Response& r,
                                                                  const wire::Frame& frame) {
        if (r.type != "FETCH") return false;
        auto data = to_fetch_data(r, frame);
        if (!data.uid) return false;  // an unsolicited flag change, not ours
        handler(data);
        return true;
    });
}

void Client::uid_fetch(const UidSet& uids, const FetchItems& items, FetchHandler handler,
                       std::optional<ModSeq> changed_since, bool vanished) {
    auto c = wait(submit_uid_fetch(uids, items, std::move(handler), changed_since, vanished));
    expect_ok("UID FETCH", c);
}

// store = "STORE" SP sequence-set SP store-att-flags; the UID form takes UIDs.
void Client::uid_store(const UidSet& uids, const StoreFlags& change) {
    std::vector<Arg> args{Arg::raw(uids.to_string())};
    for (auto& a : change.args()) args.push_back(std::move(a));
    expect_ok("UID STORE", run("UID STORE", args));
}

void Client::add_append_message(std::vector<Arg>& args, AppendMessage message) {
    if (!message.flags.empty()) args.push_back(message.flags.arg());
    if (message.internaldate) args.push_back(Arg::string(*message.internaldate));
    if (message.message.is_stream())
        args.push_back(Arg::literal(message.message.source()));
    else if (message.message.is_file())
        args.push_back(Arg::literal(std::make_shared<FileLiteral>(message.message.path(), message.message.size())));
    else
        args.push_back(Arg::literal(message.message.take_bytes()));
}

Client::Tag Client::submit_append(const std::string& mailbox, const FlagList& flags,
                                  const std::optional<std::string>& internaldate,
                                  AppendBody message) {
    return submit_append(mailbox_name(mailbox), flags, internaldate, std::move(message));
}

Client::Tag Client::submit_append(const MailboxName& mailbox, const FlagList& flags,
                                  const std::optional<std::string>& internaldate,
                                  AppendBody message) {
    std::vector<Arg> args{Arg::mailbox(mailbox.wire())};
    add_append_message(args, AppendMessage{flags, internaldate, std::move(message)});
    return submit("APPEND", args);
}

AppendResult Client::finish_append(const Tag& tag) {
    auto c = wait(tag);
    expect_ok("APPEND", c);
    AppendResult result;
    // resp-code-apnd = "APPENDUID" SP nz-number SP append-uid (RFC 4315 §4)
    if (c.code && c.code->name == "APPENDUID" && c.code->args.size() >= 2 &&
        c.code->args[0].kind == Node::Kind::Number && c.code->args[1].kind == Node::Kind::Number) {
        result.uidvalidity = UidValidity(static_cast<std::uint32_t>(c.code->args[0].number));
        result.uid = Uid(static_cast<std::uint32_t>(c.code->args[1].number));
    }
    return result;
}

void Client::create(const std::string& mailbox) { create(mailbox_name(mailbox)); }

void Client::create(const MailboxName& mailbox) {
    expect_ok("CREATE", run("CREATE", {Arg::mailbox(mailbox.wire())}));
}

void Client::delete_mailbox(const std::string& mailbox) { delete_mailbox(mailbox_name(mailbox)); }

void Client::delete_mailbox(const MailboxName& mailbox) {
    expect_ok("DELETE", run("DELETE", {Arg::mailbox(mailbox.wire())}));
}

void Client::rename_mailbox(const std::string& from, const std::string& to) {
    rename_mailbox(mailbox_name(from), mailbox_name(to));
}

void Client::rename_mailbox(const MailboxName& from, const MailboxName& to) {
    expect_ok("RENAME", run("RENAME", {Arg::mailbox(from.wire()), Arg::mailbox(to.wire())}));
}

void Client::noop() { expect_ok("NOOP", run("NOOP", {})); }

}  // namespace imapkeep::imap
