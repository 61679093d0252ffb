// Typed results of the commands the backup engine uses.
#pragma once

#include <imapkeep/imap/flag_list.hpp>
#include <imapkeep/imap/mailbox_name.hpp>
#include <imapkeep/util/types.hpp>
#include <imapkeep/wire/encoder.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::wire {
class LiteralSink;
}

namespace imapkeep::imap {

// LIST / LSUB (RFC 3501 §7.2.2; RFC 5258; RFC 6154 attributes; RFC 5819 STATUS).
struct StatusData;
struct ListEntry {
    std::vector<std::string> attributes;   // as sent: "\\HasNoChildren", "\\Noselect", "\\Sent"
    std::string delimiter;                 // "" for NIL
    std::string name;                      // UTF-8, decoded from modified UTF-7 (or UTF-8 when enabled)
    std::string raw_name;                  // as on the wire
    // The name to give back to the server: raw_name's exact bytes (invariant 6).
    MailboxName mailbox() const { return MailboxName::from_wire(raw_name); }
    bool has_attribute(std::string_view attr) const;  // case-insensitive
    bool selectable() const;  // not \Noselect / \NonExistent
};

// STATUS (RFC 3501 §6.3.10, RFC 7162 HIGHESTMODSEQ, RFC 8474 MAILBOXID,
// RFC 8438 SIZE, RFC 7889 APPENDLIMIT), asked with StatusItems. An item not
// asked, or not answered, stays unset.
struct StatusData {
    std::string name;
    std::string raw_name;  // as on the wire: tells apart names that decode alike
    std::optional<std::uint32_t> messages;
    std::optional<std::uint32_t> recent;
    std::optional<std::uint32_t> unseen;
    std::optional<Uid> uidnext;
    std::optional<UidValidity> uidvalidity;
    std::optional<ModSeq> highestmodseq;
    std::optional<std::uint64_t> size;
    std::string mailboxid;  // "" when not an objectid (see client_commands.cpp's Quirk(Cyrus 3.6))
    std::optional<std::uint64_t> appendlimit;  // unset for NIL: no limit for this mailbox
};

// UID SEARCH / ESEARCH results (RFC 3501 §7.2.5, RFC 4731).
struct SearchData {
    // SEARCH's numbers and ESEARCH's ALL alike, as ranges: a server can name
    // 4294967295 UIDs in 12 bytes (DESIGN.md invariant 4). Test membership
    // with uids.contains(); list them only with a bound (to_vector(max)).
    UidSet uids;
    std::optional<std::uint32_t> min, max, count;
    std::optional<ModSeq> modseq;
};

// One FETCH response (RFC 3501 §7.4.2, RFC 7162 MODSEQ, RFC 8474 EMAILID).
struct FetchData {
    SeqNum seq{0};
    std::optional<Uid> uid;
    std::optional<std::vector<std::string>> flags;
    std::optional<std::string> internaldate;   // raw date-time text, unquoted
    std::optional<std::uint64_t> rfc822_size;
    std::optional<ModSeq> modseq;
    std::string emailid;
    // Gmail's X-GM-EXT-1: X-GM-MSGID and X-GM-THRID (64-bit numbers) and
    // X-GM-LABELS (a list of astrings, as sent: modified UTF-7, "\\Inbox").
    std::optional<std::uint64_t> gm_msgid, gm_thrid;
    std::optional<std::vector<std::string>> gm_labels;
    // BODY[] (or BODY.PEEK[]): either streamed to `body_sink` (chosen by the
    // fetch call's sink factory) or buffered in `body`.
    bool has_body = false;
    wire::LiteralSink* body_sink = nullptr;
    std::string body;
    // Other BODY[section] items, buffered: e.g. {"HEADER.FIELDS (MESSAGE-ID)", "..."}.
    std::vector<std::pair<std::string, std::string>> sections;
};

// SELECT / EXAMINE (RFC 3501 §6.3.1, RFC 7162 §3.1.2.1, RFC 8474 §4.1).
struct SelectData {
    std::uint32_t exists = 0;
    std::uint32_t recent = 0;
    std::vector<std::string> flags;
    std::optional<std::vector<std::string>> permanent_flags;
    UidValidity uidvalidity{0};
    std::optional<Uid> uidnext;
    std::optional<ModSeq> highestmodseq;  // absent = [NOMODSEQ] or no CONDSTORE
    bool nomodseq = false;
    bool read_only = false;               // [READ-ONLY] vs [READ-WRITE]
    std::string mailboxid;                // [MAILBOXID (id)]
    // SELECT/EXAMINE with QRESYNC parameters (RFC 7162 §3.2.5.1): what changed
    // since the given modseq, sent by the server before the tagged OK.
    UidSet vanished;                   // VANISHED (EARLIER)
    std::vector<FetchData> changed;       // FETCH (UID FLAGS MODSEQ)
};

// The body of an APPEND: bytes held in memory, or a file that is read in
// 64 KiB chunks while it is sent, so a 200 MB message never costs 200 MB.
class AppendBody {
public:
    AppendBody() = default;
    AppendBody(std::string bytes) : m_bytes(std::move(bytes)) {}
    AppendBody(const char* bytes) : m_bytes(bytes) {}
    // `size` is announced as the literal's length: the file must still have
    // exactly that many bytes when it is sent, else the connection ends with
    // Abort (a literal of another length would desynchronise it).
    static AppendBody file(std::string path, std::uint64_t size) {
        AppendBody body;
        body.m_path = std::move(path);
        body.m_file_size = size;
        return body;
    }
    // Bytes produced by `source` while they are sent (its size() is the
    // literal's length; it must hand over exactly that many), for a body that
    // is not a plain file: e.g. a stored message given back its CRLF.
    static AppendBody stream(std::shared_ptr<const wire::LiteralSource> source) {
        AppendBody body;
        body.m_source = std::move(source);
        return body;
    }
    bool is_stream() const { return m_source != nullptr; }
    const std::shared_ptr<const wire::LiteralSource>& source() const { return m_source; }  // is_stream() only
    bool is_file() const { return m_path.has_value(); }
    const std::string& path() const { return *m_path; }  // is_file() only
    const std::string& bytes() const { return m_bytes; }  // empty for a file
    std::string take_bytes() { return std::move(m_bytes); }
    std::uint64_t size() const {
        if (m_source) return m_source->size();
        return m_path ? m_file_size : m_bytes.size();
    }

private:
    std::string m_bytes;
    std::shared_ptr<const wire::LiteralSource> m_source;
    std::optional<std::string> m_path;
    std::uint64_t m_file_size = 0;
};

// One message of an APPEND (RFC 3501 §6.3.11) or MULTIAPPEND (RFC 3502).
struct AppendMessage {
    FlagList flags;
    std::optional<std::string> internaldate;  // date-time text, unquoted
    AppendBody message;
};

struct AppendResult {
    std::optional<UidValidity> uidvalidity;  // APPENDUID (RFC 4315) when offered
    std::optional<Uid> uid;
};

}  // namespace imapkeep::imap
