// An in-process model IMAP server for tests. It holds mailboxes and messages in
// memory, answers the commands the backup engine sends (CAPABILITY, LOGIN,
// ENABLE, LIST [RETURN (STATUS ...)], STATUS, SELECT/EXAMINE [QRESYNC|CONDSTORE],
// UID FETCH [CHANGEDSINCE [VANISHED]] (BODY.PEEK[]<origin.count> too),
// UID SEARCH [RETURN (...)], UNSELECT,
// CLOSE, NOOP, LOGOUT) and plugs into the engine through
// imap::ConnectOptions::stream_factory (each connection is a ScriptedStream).
//
// Gmail (make_gmail): X-GM-EXT-1 as Google documents it. All Mail (\\All)
// holds every message once, with X-GM-MSGID, X-GM-THRID and X-GM-LABELS;
// each label is a mailbox that shows the message again under its own UID;
// UID STORE [+-]X-GM-LABELS changes labels; CONDSTORE without QRESYNC;
// SPECIAL-USE attributes; the [Gmail]/ names may be localized.
//
// Microsoft 365 (make_o365): Exchange Online's IMAP as client trackers and
// imapsync's FAQ.Office365 show it (O365Quirks below).
//
// Quirks are injected by hooks: `on_fetch_item` rewrites one FETCH item of one
// message (e.g. "BODY[] NIL", or "" to omit it; a partial fetch is the item
// "BODY[]<origin.count>", never "BODY[]"), `on_reply` rewrites or cuts
// the whole reply to a command.
//
// Thread safety: any number of connections (one per thread) share one model;
// every call into the model, and every hook, runs under one recursive mutex.
// Tests change the model between runs through the public methods.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/util/types.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace imapkeep::testing {

struct ModelMessage {
    std::uint32_t uid = 0;
    std::vector<std::string> flags;
    std::string internaldate = "01-Jan-2024 10:00:00 +0000";
    std::string body;
    std::uint64_t modseq = 1;
    // Gmail only (make_gmail).
    std::uint64_t gm_msgid = 0;
    std::uint64_t gm_thrid = 0;
    std::vector<std::string> gm_labels;  // wire form: "\\Inbox", "Work"
};

// The names of Gmail's special mailboxes (Google localizes them by the
// account's language; only SPECIAL-USE tells which is which).
struct GmailNames {
    std::string root = "[Gmail]";
    std::string all = "[Gmail]/All Mail";
    std::string sent = "[Gmail]/Sent Mail";
    std::string drafts = "[Gmail]/Drafts";
    std::string trash = "[Gmail]/Trash";
    std::string spam = "[Gmail]/Spam";
    std::string important = "[Gmail]/Important";
    std::string starred = "[Gmail]/Starred";
    static GmailNames german() {
        return {"[Google Mail]",           "[Google Mail]/Alle Nachrichten",
                "[Google Mail]/Gesendet",  "[Google Mail]/Entw&APw-rfe",
                "[Google Mail]/Papierkorb", "[Google Mail]/Spam",
                "[Google Mail]/Wichtig",   "[Google Mail]/Markiert"};
    }
};

// Microsoft 365's behaviour (make_o365), after imapsync's FAQ.Office365 and
// the protocol logs in client trackers (MailKit, node-imap, mailcore2):
// - greeting "The Microsoft Exchange IMAP4 service is ready." without
//   capabilities; no CONDSTORE, QRESYNC, ESEARCH, LIST-STATUS, MULTIAPPEND;
// - FLAGS and PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft
//   $MDNSent), no \*: an APPEND or STORE with any other keyword is
//   "BAD Command Argument Error. 11";
// - the system folder "Files" at the top level: attachment copies without
//   headers ("messages with no sender"); CREATE of that name and APPEND into
//   it: "NO Folder name is reserved.";
// - an APPEND above max_append (35-45 MB on O365): "NO Maximum size of
//   appendable message has been exceeded."; one with a line longer than
//   max_line (10,500 characters): "BAD Command Argument Error. 11";
// - after errors_before_bye NO or BAD answers on one connection the server
//   says "* BYE Connection closed. 14" and hangs up ("Office365 closes the
//   connection after 10 errors").
struct O365Quirks {
    std::size_t errors_before_bye = 10;
    std::uint64_t max_append = 35ull << 20;  // 0 = no limit
    std::size_t max_line = 10500;             // 0 = no limit
    bool announce_append_limit = false;      // APPENDLIMIT=max_append in CAPABILITY (O365 does not)
    bool files_listed = true;                // LIST shows Files (it sometimes does not)
};

struct ModelMailbox {
    std::string name;  // the exact wire bytes LIST sends
    std::string delimiter = "/";
    std::vector<std::string> attributes;  // e.g. "\\Noselect"
    std::uint32_t uidvalidity = 1;
    std::uint32_t uidnext = 1;
    std::uint64_t highestmodseq = 1;
    std::string mailboxid;  // RFC 8474; "" = none even with OBJECTID
    bool nomodseq = false;  // EXAMINE answers [NOMODSEQ]
    // RFC 7889: STATUS (APPENDLIMIT) gives it (NIL when unset), and a larger
    // APPEND is "NO [TOOBIG]". Announce "APPENDLIMIT" with set_capabilities.
    std::optional<std::uint64_t> append_limit;
    std::map<std::uint32_t, ModelMessage> messages;
    // Expunged UIDs with the modseq of their expunge, for VANISHED (EARLIER).
    std::vector<std::pair<UidSet, std::uint64_t>> expunged;
};

// One parsed client command, as the hooks see it.
struct ModelCommand {
    std::string tag;
    std::string name;  // upper-case; "UID FETCH" / "UID SEARCH" as one name
    std::string text;  // the command after the name, literals inlined
    std::size_t connection = 0;
    std::string mailbox;  // selected when the command came ("" for none)
    // Which of the connection's reads brought it (in-process stream: the
    // client reads once it waits). Commands sent before the client waited for
    // an answer, that is pipelined, share a read.
    std::size_t read = 0;
};

class ModelServer {
  public:
    ModelServer();
    ~ModelServer();
    ModelServer(const ModelServer&) = delete;
    ModelServer& operator=(const ModelServer&) = delete;

    // --- Configuration (call before or between runs) ----------------------
    // Offered capabilities besides IMAP4rev1 (upper-case).
    void set_capabilities(std::set<std::string> caps);
    // Quirk(Gmail), Quirk(O365): mailbox names that differ only in case are
    // one mailbox. The case of the name it was created with is kept; LIST
    // patterns, SELECT, APPEND and STATUS match ignoring case (Exchange:
    // `LIST "" sweet` answers `SWEET`, MailKit#803). A CREATE of a name that
    // exists in another case gets `create_reply` after the tag: Gmail's
    // "NO [ALREADYEXISTS] Duplicate folder name" (the default), a bare NO,
    // or an OK that creates nothing.
    void fold_case(std::string create_reply = "NO [ALREADYEXISTS] Duplicate folder name (Failure)");
    std::set<std::string> capabilities() const;
    // Quirk: non-zero gives every mailbox created without an explicit
    // UIDVALIDITY this one (RFC 3501 makes it unique per name only).
    std::uint32_t same_uidvalidity = 0;
    std::string user = "user";
    std::string password = "secret";

    // --- The model ----------------------------------------------------------
    // Creates a mailbox; uidvalidity 0 picks the next of a counter (as servers
    // that allocate UIDVALIDITY from a clock do).
    ModelMailbox& add_mailbox(const std::string& name, std::uint32_t uidvalidity = 0,
                              const std::string& mailboxid = "");
    bool has_mailbox(const std::string& name) const;
    ModelMailbox& mailbox(const std::string& name);  // throws std::out_of_range
    void delete_mailbox(const std::string& name);
    // Keeps UIDVALIDITY, MAILBOXID and messages, as RFC 3501 RENAME does.
    void rename_mailbox(const std::string& from, const std::string& to);
    // Appends a message; returns its UID.
    std::uint32_t append(const std::string& mailbox, const std::string& body,
                         std::vector<std::string> flags = {},
                         const std::string& internaldate = "01-Jan-2024 10:00:00 +0000");
    void expunge(const std::string& mailbox, std::uint32_t uid);
    void set_flags(const std::string& mailbox, std::uint32_t uid, std::vector<std::string> flags);
    // Quirk: a rebuilt index that keeps UIDVALIDITY but not the mod-sequences
    // (closeio/sync-engine#943: "Some servers can decrement the HIGHESTMODSEQ
    // value while the UIDVALIDITY remains unchanged"): every message's modseq
    // and HIGHESTMODSEQ restart at 1, and the expunge history is gone.
    void rebuild_modseqs(const std::string& mailbox);
    // A UIDVALIDITY reset: every message renumbered from 1 in order.
    void reset_uidvalidity(const std::string& mailbox, std::uint32_t uidvalidity);

    // --- Gmail ----------------------------------------------------------------
    // Makes the model a Gmail account: X-GM-EXT-1 and Gmail's capabilities
    // (CONDSTORE, no QRESYNC), INBOX and the special mailboxes of `names`
    // with their SPECIAL-USE attributes.
    void make_gmail(const GmailNames& names = {});
    const GmailNames& gmail_names() const { return m_gmail; }
    // Delivers a message to All Mail with `labels` (wire form); each label's
    // mailbox (created when missing) shows it under a UID of its own.
    // Returns its X-GM-MSGID.
    std::uint64_t gmail_deliver(const std::string& body, std::vector<std::string> labels,
                                std::vector<std::string> flags = {},
                                const std::string& internaldate = "01-Jan-2024 10:00:00 +0000");
    // Sets a message's labels, as the web interface does: its copies in label
    // mailboxes come and go, and its modseq moves everywhere it is.
    void gmail_set_labels(std::uint64_t msgid, std::vector<std::string> labels);
    // Renames a user label: its mailbox, and the label on every message;
    // `moves_modseq` false leaves every modseq as it was (a server that does
    // not count a rename as a change of the messages).
    void gmail_rename_label(const std::string& from, const std::string& to,
                            bool moves_modseq = true);
    // The mailbox that shows label `label` ("\\Inbox" is INBOX, "\\Sent"
    // the \\Sent mailbox, a user label the mailbox of its name).
    std::string gmail_label_mailbox(const std::string& label) const;
    // The All Mail message with that X-GM-MSGID (throws std::out_of_range).
    ModelMessage& gmail_message(std::uint64_t msgid);

    // --- Microsoft 365 -------------------------------------------------------
    // Makes the model an Exchange Online account (O365Quirks): INBOX and the
    // reserved Files folder, holding `files_items` attachment copies.
    void make_o365(const O365Quirks& quirks = {}, std::size_t files_items = 2);
    static constexpr const char* kO365FilesFolder = "Files";
    // NO or BAD answers the O365 model gave, over all connections.
    std::size_t o365_errors() const;

    // --- Providers' own limits (issue 12), kept by the model itself --------------
    // Quirk(Gmail): about 2,500 MB of IMAP download a day. Once `bytes` of
    // bodies were served since the last provider_new_day(), a UID FETCH of
    // bodies answers "NO Account exceeded command or bandwidth limits.
    // (Failure)" and serves nothing; the fetch that crosses the limit is
    // served whole (Gmail's figure is "about").
    void gmail_daily_download_limit(std::uint64_t bytes);
    // Quirk(O365): about 3,600 messages an hour. After every `messages`
    // bodies served, the next UID FETCH of bodies answers "NO Request is
    // throttled. Suggested Backoff Time: `backoff_ms` milliseconds" once.
    void o365_message_rate(std::size_t messages, std::uint64_t backoff_ms);
    // A new day for gmail_daily_download_limit.
    void provider_new_day();
    // The provider refusals the model gave (either rule).
    std::size_t provider_refusals() const;

    // BODY[] (or RFC822) items served, by mailbox: downloads as the server sees them.
    std::size_t body_fetches(const std::string& mailbox) const;
    std::size_t body_fetches() const;

    // --- OAuth2 ------------------------------------------------------------------
    // Set: the model takes AUTHENTICATE XOAUTH2 (with SASL-IR, as O365 and
    // Gmail offer it) for a token this says is valid, and refuses the others
    // ("NO AUTHENTICATE failed."). Quirk(O365): a session whose token is no
    // longer valid ends at its next command with
    // "* BYE Session invalidated - AccessTokenExpired" (no tagged reply).
    std::function<bool(const std::string& token)> oauth2_valid;
    // The tokens AUTHENTICATE was tried with, in order (accepted or not).
    std::vector<std::string> oauth2_tried() const;
    // Sessions ended with AccessTokenExpired.
    std::size_t oauth2_expired_byes() const;

    // --- Quirks -------------------------------------------------------------
    // Called for each FETCH item of each message with its rendering (e.g.
    // "BODY[] {5}\r\nhello"); may replace it ("BODY[] NIL") or clear it (omit).
    std::function<void(const std::string& mailbox, std::uint32_t uid, const std::string& item,
                       std::string& rendered)>
        on_fetch_item;
    // Called with each command before the model answers it: may change the
    // model (e.g. expunge a message between a client's two commands).
    std::function<void(const ModelCommand& command)> on_command;
    // UID FETCHes that arrive in one read are answered as a server running
    // them at once may (RFC 3501 §5.5): all their untagged data first, then
    // their completions.
    bool interleave_fetches = false;
    // A server that splits one message's FETCH items over two responses,
    // each with the UID (RFC 3501 §7: untagged data may come at any time;
    // Gmail sends a second FETCH of the same UID, modern-email/defects#39):
    // the body sections in one, every other item in the other, in this order.
    enum class FetchSplit { None, ItemsFirst, BodyFirst };
    FetchSplit split_fetch = FetchSplit::None;
    // Called with each command and its complete reply (untagged + tagged);
    // may rewrite the reply. Setting `drop` sends the (rewritten) reply and then
    // ends the connection (EOF).
    std::function<void(const ModelCommand& command, std::string& reply, bool& drop)> on_reply;

    // --- Plumbing -----------------------------------------------------------
    // A new connection to the model: greeting first, then command by command.
    transport::StreamPtr open();
    // Connection settings that reach this model (plaintext LOGIN user/password).
    imap::ConnectOptions connect_options();

    // Every command received, "TAG NAME text" (literals inlined), in order.
    std::vector<std::string> commands() const;
    std::size_t count_commands(const std::string& name) const;
    void clear_log();
    std::size_t connections_opened() const { return m_connections; }
    // Connections whose client still holds them (for throttling hooks: a
    // server that refuses a LOGIN beyond N connections, as Gmail does).
    std::size_t connections_live() const { return m_live; }

    class Connection;

  private:
    friend class Connection;
    std::string capability_line() const;

    // Changes a message's labels in every mailbox that shows it (lock held).
    void apply_labels(std::uint64_t msgid, std::vector<std::string> labels);

    mutable std::recursive_mutex m_mutex;
    GmailNames m_gmail;
    bool m_is_gmail = false;
    std::optional<std::string> m_fold_case;  // fold_case(): the CREATE reply
    std::optional<O365Quirks> m_o365;
    std::size_t m_o365_errors = 0;
    std::vector<std::string> m_oauth2_tried;
    std::size_t m_oauth2_expired_byes = 0;
    std::uint64_t m_next_msgid = 1000000000000000001ull;
    std::map<std::string, std::size_t> m_body_fetches;
    std::optional<std::uint64_t> m_gmail_daily_limit;
    std::uint64_t m_served_today = 0;  // body bytes since provider_new_day()
    std::size_t m_o365_rate = 0;       // 0: no rate
    std::uint64_t m_o365_backoff_ms = 0;
    std::size_t m_served_since_throttle = 0;
    std::size_t m_provider_refusals = 0;
    std::set<std::string> m_caps;
    std::map<std::string, ModelMailbox> m_mailboxes;
    std::vector<std::string> m_log;
    std::uint32_t m_next_uidvalidity = 1000;
    std::uint64_t m_next_mailboxid = 1;
    std::atomic<std::size_t> m_connections{0};
    std::atomic<std::size_t> m_live{0};
};

}  // namespace imapkeep::testing
