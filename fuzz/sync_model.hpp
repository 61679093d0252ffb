// fuzz_sync's model mode: the input is decoded into a server (the tests'
// in-process model server, tests/support/model_server.hpp), the changes the
// server sees between backup runs, and faults in each run's replies. Because
// the server's true state is known, invariant 1 is checked exactly: a
// mailbox's mark (UIDNEXT) never passes a message of the server whose bytes
// are not stored, and nothing stored differs from what the server holds. A
// last run without faults must bring the store level with the server.
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/sha256.hpp>
#include <imapkeep/util/utf7.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "support/model_server.hpp"

namespace imapkeep::fuzz {

// Bytes taken one at a time; zeros once the input is used up.
class Bytes {
  public:
    explicit Bytes(std::string_view data) : m_data(data) {}
    std::uint8_t next() {
        if (m_pos >= m_data.size()) return 0;
        return static_cast<std::uint8_t>(m_data[m_pos++]);
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : next() % n; }

  private:
    std::string_view m_data;
    std::size_t m_pos = 0;
};

// Names as LIST sends them: nested, modified UTF-7, and ones that look like paths.
inline const std::vector<std::string>& mailbox_names() {
    static const std::vector<std::string> kNames = {
        "INBOX", "Archive", "Archive/2024", "Caf&AOk-", "../up", ".hidden", "a.b",
        "Sent Items", "x/../y", "&Jjo-", "INBOX/sub", "Trash"};
    return kNames;
}

inline std::string model_body(Bytes& in, std::uint32_t serial) {
    std::string body = "From: a@example.org\r\nSubject: m" + std::to_string(serial) + "\r\n";
    // Shared Message-IDs on purpose: a UIDVALIDITY re-match must not pair two
    // different messages that share Message-ID, date and size (sync/plan.cpp).
    if (in.next() % 4 != 0) body += "Message-ID: <m" + std::to_string(serial % 5) + "@example.org>\r\n";
    body += "\r\n";
    const std::size_t lines = in.below(6);
    for (std::size_t i = 0; i < lines; ++i) body += "line " + std::to_string(i) + " (" + std::to_string(serial) + ")\r\n";
    return body;
}

inline std::vector<std::string> model_flags(std::uint8_t bits) {
    static const char* const kFlags[] = {"\\Seen", "\\Flagged", "\\Answered", "\\Draft", "$Label1"};
    std::vector<std::string> out;
    for (int i = 0; i < 5; ++i)
        if (bits & (1 << i)) out.push_back(kFlags[i]);
    return out;
}

// One fault in one run's replies, chosen by the input.
struct Fault {
    enum class Kind { Cut, No, Bad, Garbage, BodyNil, BodyShort, BodyOmitted } kind = Kind::Cut;
    std::size_t command = 0;  // which command of the run (Cut, No, Bad, Garbage)
    std::uint32_t uid = 0;    // which message (Body*)
    std::size_t offset = 0;   // where a Cut ends the reply
};

// A STATUS line without its numbers: which mailbox and items it answers.
inline std::string without_digits(std::string line) {
    std::erase_if(line, [](char c) { return c >= '0' && c <= '9'; });
    return line;
}

// The server's own behaviour, the same in every run (the clean one too, but
// for a stale STATUS): each a way a real server, or RFC 3501, lets replies
// differ from the plain model's.
struct Quirks {
    bool any = false;  // also: a rebuilt index, UIDs back (before_clean_run)
    bool inflated_size = false;  // RFC822.SIZE above the body (Quirk(OVH Hosted Exchange))
    bool literal8 = false;     // BODY[] as literal8 "~{n}" (RFC 3516) although BINARY was not asked
    bool logout_bye = false;   // LOGOUT answered by BYE alone, then the connection ends
    bool stale_status = false;  // STATUS (and LIST-STATUS) repeat their first answer (not in the clean run)
    bool mid_run = false;       // the server changes during a run, between two commands (not the clean one)
};

class ModelScenario {
  public:
    testing::ModelServer server;

    // `hostile`: one more byte turns on the model server's quirks (Quirks).
    ModelScenario(Bytes& in, bool hostile) : m_in(in) {
        static const char* const kCaps[] = {"ENABLE", "CONDSTORE", "QRESYNC", "ESEARCH",
                                            "LIST-STATUS", "OBJECTID", "UNSELECT", "LITERAL+"};
        std::set<std::string> caps;
        const std::uint8_t bits = in.next();
        for (int i = 0; i < 8; ++i)
            if (!(bits & (1 << i))) caps.insert(kCaps[i]);  // 0: all offered
        server.set_capabilities(caps);
        server.user = "fuzz";
        server.password = "fuzz-password";
        if (hostile) {
            set_quirks(in.next());
            set_more_quirks(in.next());
        }
        add_mailbox("INBOX");
        const std::size_t mailboxes = in.below(4);
        for (std::size_t i = 0; i < mailboxes; ++i) add_mailbox(pick_name());
        for (std::size_t i = 0, n = in.below(8); i < n; ++i) append();
        server.on_fetch_item = [this](const std::string&, std::uint32_t uid, const std::string& item,
                                      std::string& rendered) {
            quirk_item(uid, item, rendered);
            body_fault(uid, item, rendered);
        };
        server.on_reply = [this](const testing::ModelCommand& c, std::string& reply, bool& drop) {
            quirk_reply(c, reply, drop);
            reply_fault(reply, drop);
        };
        server.on_command = [this](const testing::ModelCommand&) {
            if (m_seen++ == m_change_at) change();
        };
    }

    // What the server does between two runs.
    void change() {
        for (std::size_t i = 0, n = m_in.below(5); i < n; ++i) {
            const std::string name = existing_name();
            const auto op = m_in.below(8);
            if (std::getenv("IMAPKEEP_FUZZ_VERBOSE"))
                std::fprintf(stderr, "  change %zu in %s (command %zu)\n", op, name.c_str(), m_seen);
            switch (op) {
                case 0: case 1: append(); break;
                case 2: expunge(name); break;
                case 3: flag(name); break;
                case 4: rename(name); break;
                case 5: if (name != "INBOX") server.delete_mailbox(name); break;
                case 6: server.reset_uidvalidity(name, 5000 + m_serial++); break;
                case 7: server.mailbox(name).nomodseq = !server.mailbox(name).nomodseq; break;
            }
        }
    }

    // Quirks (hostile only) a run must see before the server changes again,
    // so only right before the clean run:
    // - a rebuilt index (rebuild_modseqs): every modseq restarts at 1. Changes
    //   after it count up again and may bring HIGHESTMODSEQ back to the
    //   catalog's mark or past it, where nothing can tell that it went down
    //   and the changes from before the rebuild are not named;
    // - the server goes back to an older state of one mailbox with the same
    //   UIDVALIDITY: its last messages are gone and UIDNEXT is where it was
    //   before them (MailboxSync::uids_went_back). UIDs given again before a
    //   run saw the drop cannot be told from the old ones.
    void before_clean_run() {
        if (!m_quirks.any) return;
        if (m_in.below(2) == 1) {
            // With new mail in it too, as the clean run must fetch it; taken
            // in before the rebuild, as new mail after it would count
            // HIGHESTMODSEQ up again, past a low mark (a run that failed or
            // was skipped), where "went down" cannot be seen either.
            const std::string rebuilt = existing_name();
            for (std::size_t i = 0, n = m_in.below(3); i < n; ++i) {
                const std::uint32_t serial = m_serial++;
                server.append(rebuilt, model_body(m_in, serial), model_flags(m_in.next()));
            }
            server.rebuild_modseqs(rebuilt);
        }
        if (m_in.below(2) == 0) return;
        const std::string name = existing_name();
        auto& mb = server.mailbox(name);
        std::uint32_t lowest = 0;
        for (std::size_t k = 1 + m_in.below(3); k > 0 && !mb.messages.empty(); --k) {
            lowest = mb.messages.rbegin()->first;
            server.expunge(name, lowest);
        }
        if (lowest) mb.uidnext = lowest;
    }

    // Faults for the next run (none for the last, clean run).
    void arm_faults(bool clean) {
        m_faults.clear();
        m_commands = 0;
        m_seen = 0;
        m_change_at = kNever;
        m_clean = clean;
        if (clean) return;
        // The server changes while the run is under way (RFC 3501 §5.2: a
        // mailbox may change under a client), between two of its commands.
        if (m_quirks.mid_run) m_change_at = m_in.below(40);
        for (std::size_t i = 0, n = m_in.below(4); i < n; ++i) {
            Fault f;
            f.kind = static_cast<Fault::Kind>(m_in.below(7));
            f.command = m_in.below(40);
            f.uid = 1 + static_cast<std::uint32_t>(m_in.below(12));
            f.offset = m_in.next() * 7u;
            m_faults.push_back(f);
        }
    }

    void print_faults() const {
        std::fprintf(stderr, "run:%s\n", m_change_at == kNever ? "" : " with a change");
        for (const auto& f : m_faults)
            std::fprintf(stderr, "  fault %d command %zu uid %u offset %zu\n", static_cast<int>(f.kind), f.command,
                         f.uid, f.offset);
        for (const auto& [name, mb] : server_state())
            std::fprintf(stderr, "  server %s: %s\n", name.c_str(), mb.c_str());
    }

    // Invariant 1, exactly: below a mailbox's mark every server message is
    // stored, byte for byte; `clean` (a run without faults): every server
    // message is stored, with the server's flags.
    void check(store::Catalog& catalog, const std::string& account, bool clean) {
        auto id = catalog.find_account(account);
        for (const auto& name : server_names()) {
            const auto& mb = server.mailbox(name);
            std::optional<store::MailboxRecord> record;
            if (id) record = catalog.find_mailbox(*id, util::utf7_decode(name).value_or(name));
            if (record && record->deleted_at) record.reset();
            fuzz::check(record || !clean, "a clean run backs up every mailbox");
            if (!record || record->uidvalidity != mb.uidvalidity) {
                fuzz::check(!clean, "a clean run takes the server's UIDVALIDITY");
                continue;
            }
            std::map<std::uint32_t, store::MessageRecord> stored;
            for (auto& m : catalog.messages(record->id))
                if (m.uidvalidity == mb.uidvalidity) stored[m.uid] = std::move(m);
            for (const auto& [uid, m] : mb.messages) {
                auto it = stored.find(uid);
                const bool below_mark = uid < record->uidnext;
                if (std::getenv("IMAPKEEP_FUZZ_VERBOSE") && it == stored.end() && below_mark)
                    std::fprintf(stderr, "  %s: UID %u not stored, mark %u\n", name.c_str(), uid, record->uidnext);
                fuzz::check(it != stored.end() || (!below_mark && !clean),
                            below_mark ? "invariant 1: the mark never passes a message that is not stored"
                                       : "a clean run stores every message");
                if (it == stored.end()) continue;
                fuzz::check(it->second.sha256 == util::sha256_hex(m.body), "stored bytes are the server's");
                if (clean && std::getenv("IMAPKEEP_FUZZ_VERBOSE") &&
                    it->second.flags != store::normalize_flags(m.flags))
                    std::fprintf(stderr, "  %s: UID %u flags %zu stored, %zu on the server (modseq %llu)\n",
                                 name.c_str(), uid, it->second.flags.size(), m.flags.size(),
                                 static_cast<unsigned long long>(m.modseq));
                if (clean)
                    fuzz::check(it->second.flags == store::normalize_flags(m.flags),
                                "a clean run leaves the server's flags");
            }
        }
    }

  private:
    std::map<std::string, std::string> server_state() const {
        std::map<std::string, std::string> out;
        auto& self = const_cast<ModelScenario&>(*this);
        for (const auto& name : self.server_names()) {
            const auto& mb = self.server.mailbox(name);
            std::string text = "uidvalidity " + std::to_string(mb.uidvalidity) + " uidnext " + std::to_string(mb.uidnext) + " uids";
            for (const auto& [uid, m] : mb.messages) text += " " + std::to_string(uid);
            out[name] = text;
        }
        return out;
    }

    // Bits 0-1 split_fetch (none, items first, body first, none), 2
    // interleave_fetches, 3 same_uidvalidity, 4-7 the Quirks in order.
    void set_quirks(std::uint8_t bits) {
        static const testing::ModelServer::FetchSplit kSplits[] = {
            testing::ModelServer::FetchSplit::None, testing::ModelServer::FetchSplit::ItemsFirst,
            testing::ModelServer::FetchSplit::BodyFirst, testing::ModelServer::FetchSplit::None};
        m_quirks.any = true;
        server.split_fetch = kSplits[bits & 3];
        server.interleave_fetches = bits & 4;
        if (bits & 8) server.same_uidvalidity = 777;
        m_quirks.inflated_size = bits & 16;
        m_quirks.literal8 = bits & 32;
        m_quirks.logout_bye = bits & 64;
        m_quirks.stale_status = bits & 128;
    }

    // Bit 0: changes in the middle of a run (not the clean one); bit 1:
    // Quirk(O365)'s message rate, a throttle after every 1-4 bodies.
    void set_more_quirks(std::uint8_t bits) {
        m_quirks.mid_run = bits & 1;
        if (bits & 2) server.o365_message_rate(1 + (bits >> 2) % 4, 1000);
    }

    void quirk_item(std::uint32_t uid, const std::string& item, std::string& rendered) {
        if (m_quirks.inflated_size && item == "RFC822.SIZE")
            rendered += "7";  // ten times the size, and then some
        if (m_quirks.literal8 && item == "BODY[]" && (uid % 2) == 1 && rendered.rfind("BODY[] {", 0) == 0)
            rendered.insert(7, "~");
    }

    void quirk_reply(const testing::ModelCommand& c, std::string& reply, bool& drop) {
        if (m_quirks.logout_bye && c.name == "LOGOUT") {
            reply = "* BYE Server shutting down\r\n";
            drop = true;
        }
        if (m_quirks.stale_status && (c.name == "STATUS" || c.name == "LIST")) stale_status(reply);
    }

    // Each "* STATUS name (...)" line as the server first sent it for that
    // name (LIST-STATUS included); the clean run sees the truth.
    void stale_status(std::string& reply) {
        std::string out;
        for (std::size_t at = 0; at < reply.size();) {
            auto end = reply.find("\r\n", at);
            end = end == std::string::npos ? reply.size() : end + 2;
            std::string line = reply.substr(at, end - at);
            at = end;
            if (line.rfind("* STATUS ", 0) == 0 && line.find('{') == std::string::npos) {
                auto [it, added] = m_first_status.try_emplace(without_digits(line), line);
                if (!m_clean) line = it->second;
            }
            out += line;
        }
        reply = std::move(out);
    }

    std::vector<std::string> server_names() {
        std::vector<std::string> out;
        for (const auto& name : mailbox_names())
            if (server.has_mailbox(name)) out.push_back(name);
        return out;
    }
    std::string pick_name() { return mailbox_names()[m_in.below(mailbox_names().size())]; }
    std::string existing_name() {
        auto names = server_names();
        return names[m_in.below(names.size())];
    }
    void add_mailbox(const std::string& name) {
        if (!server.has_mailbox(name)) server.add_mailbox(name);
    }
    void append() {
        const std::string name = existing_name();
        const std::uint32_t serial = m_serial++;
        server.append(name, model_body(m_in, serial), model_flags(m_in.next()));
    }
    std::uint32_t pick_uid(const std::string& name) {
        const auto& messages = server.mailbox(name).messages;
        if (messages.empty()) return 0;
        return std::next(messages.begin(), static_cast<std::ptrdiff_t>(m_in.below(messages.size())))->first;
    }
    void expunge(const std::string& name) {
        if (auto uid = pick_uid(name)) server.expunge(name, uid);
    }
    void flag(const std::string& name) {
        if (auto uid = pick_uid(name)) server.set_flags(name, uid, model_flags(m_in.next()));
    }
    void rename(const std::string& name) {
        const std::string to = pick_name();
        if (name != "INBOX" && !server.has_mailbox(to)) server.rename_mailbox(name, to);
    }

    void body_fault(std::uint32_t uid, const std::string& item, std::string& rendered) {
        if (item != "BODY[]") return;
        for (const auto& f : m_faults) {
            if (f.uid != uid) continue;
            if (f.kind == Fault::Kind::BodyNil) rendered = "BODY[] NIL";
            if (f.kind == Fault::Kind::BodyOmitted) rendered.clear();
            if (f.kind == Fault::Kind::BodyShort) {
                auto crlf = rendered.find("\r\n");
                std::string bytes = rendered.substr(crlf + 2);
                bytes.resize(bytes.size() / 2);
                rendered = "BODY[] {" + std::to_string(bytes.size()) + "}\r\n" + bytes;
            }
        }
    }

    void reply_fault(std::string& reply, bool& drop) {
        const std::size_t index = m_commands++;
        if (reply.size() < 2) return;
        for (const auto& f : m_faults) {
            if (f.command != index) continue;
            if (reply.size() < 2) return;
            const auto last = reply.rfind("\r\n", reply.size() - 3);
            const std::size_t tagged = last == std::string::npos ? 0 : last + 2;
            const std::string tag = reply.substr(tagged, reply.find(' ', tagged) - tagged);
            switch (f.kind) {
                case Fault::Kind::Cut:
                    reply.resize(f.offset % (reply.size() + 1));
                    drop = true;
                    break;
                case Fault::Kind::No: reply = reply.substr(0, tagged) + tag + " NO [UNAVAILABLE] fuzz\r\n"; break;
                case Fault::Kind::Bad: reply = reply.substr(0, tagged) + tag + " BAD fuzz\r\n"; break;
                case Fault::Kind::Garbage: reply = "* 1 FETCH (UID\r\n" + reply; break;
                default: break;
            }
        }
    }

    Bytes& m_in;
    Quirks m_quirks;
    bool m_clean = false;
    std::map<std::string, std::string> m_first_status;  // stale_status
    std::vector<Fault> m_faults;
    std::size_t m_commands = 0;
    static constexpr std::size_t kNever = ~std::size_t{0};
    std::size_t m_seen = 0;               // commands of this run (mid_run)
    std::size_t m_change_at = kNever;
    std::uint32_t m_serial = 1;
};

}  // namespace imapkeep::fuzz
