// The planner: pure functions from (server view, catalog view) to actions. No
// I/O, no IMAP, no SQL, so every decision of the sync can be tested by table.
#pragma once

#include <imapkeep/imap/types.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/sync/pacing.hpp>
#include <imapkeep/util/types.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::sync {

// LIST pattern match (RFC 3501 §6.3.8): "*" matches anything, "%" anything but
// the hierarchy delimiter. INBOX compares case-insensitively.
bool mailbox_matches(const std::string& name, const std::string& pattern,
                     const std::string& delimiter);

// True if `name` is selected by include patterns and not by exclude patterns.
bool mailbox_selected(const std::string& name, const std::string& delimiter,
                      const std::vector<std::string>& include,
                      const std::vector<std::string>& exclude);

struct ServerMailbox {
    std::string name;
    std::string delimiter;
    std::uint32_t uidvalidity = 0;  // 0 = unknown (no LIST-STATUS)
    std::string mailboxid;          // RFC 8474, "" when not offered
    // The exact bytes LIST sent (invariant 6: names go back as listed): every
    // command about this mailbox sends these, `name` is for the catalog and
    // for display.
    std::string wire_name;
};

// Listed mailboxes whose wire names differ but read as the same name: a raw
// 8-bit name beside its modified UTF-7 spelling, or invalid modified UTF-7
// (kept as its bytes) beside the valid name that decodes to those bytes. The
// catalog knows a mailbox by its name, so twins would share one catalog
// mailbox and one folder. Returns the name each mailbox is known by: its own,
// except for a twin whose wire name is not `canonical_wire(name)` (what the
// client sends for that name; it may throw), which becomes NAME~XXXXXXXX, the
// first 8 hex digits of SHA-256 of its wire name (stable from run to run). A
// name without a twin keeps its name, even if not canonical.
std::vector<std::string> distinct_names(const std::vector<ServerMailbox>& listed,
                                        const std::function<std::string(const std::string&)>& canonical_wire);

// distinct_names over a LIST answer: each twin's ListEntry::name is replaced.
// Every reader of a server's mailboxes (backup, export --url, verify --server)
// calls it, so that all name a mailbox alike.
void distinguish_twins(std::vector<imap::ListEntry>& entries,
                       const std::function<std::string(const std::string&)>& canonical_wire);

struct MailboxChanges {
    std::vector<ServerMailbox> created;                       // on the server, not in the catalog
    std::vector<std::pair<store::Id, ServerMailbox>> renamed; // catalog id -> new server mailbox
    // Same UIDVALIDITY only: a rename if the candidate's messages match
    // (same_messages), else a delete of the catalog one plus a create.
    std::vector<std::pair<store::Id, ServerMailbox>> unproven;
    std::vector<store::Id> deleted;                           // in the catalog, gone from the server
};

// A catalog mailbox missing on the server is renamed when a new server mailbox
// has the same MAILBOXID (both sides have one). Without MAILBOXID, the one new
// mailbox with the same non-zero UIDVALIDITY is an unproven candidate: RFC 3501
// §2.3.1.1 makes UIDVALIDITY unique per name only, so a mailbox created after a
// delete may reuse it. Otherwise it was deleted.
MailboxChanges plan_mailboxes(const std::vector<ServerMailbox>& server,
                              const std::vector<store::MailboxRecord>& catalog);

// The catalog messages a rename check asks the candidate for: up to `count`
// of `uidvalidity`, spread over the UID range (lowest, highest, between).
std::vector<store::MessageRecord> rename_sample(std::vector<store::MessageRecord> catalog,
                                                std::uint32_t uidvalidity, std::size_t count);

struct FlagDiff {
    std::vector<std::pair<store::Id, std::vector<std::string>>> changed;  // id -> new flags
    std::vector<store::Id> expunged;
};

// `server_flags` holds every UID the server still has (in the known range) with
// its flags; catalog messages missing from it are expunged. With
// `complete = false` (CHANGEDSINCE), absent UIDs mean "unchanged", not gone.
FlagDiff plan_flags(const std::vector<store::MessageRecord>& catalog,
                    const std::map<std::uint32_t, std::vector<std::string>>& server_flags,
                    bool complete);
// The same, with the server's flags of a UID looked up (null: not reported),
// for callers that keep them in a form of their own.
using ServerFlagsOf = std::function<const std::vector<std::string>*(std::uint32_t uid)>;
FlagDiff plan_flags(const std::vector<store::MessageRecord>& catalog, const ServerFlagsOf& server_flags,
                    bool complete);
FlagDiff plan_flags(const std::vector<store::KnownFlags>& catalog,
                    const ServerFlagsOf& server_flags, bool complete);

// Messages to expunge given the full list of UIDs the server has.
// `present` stays ranges, as the server sent them (invariant 4).
std::vector<store::Id> plan_expunges(const std::vector<store::MessageRecord>& catalog, const UidSet& present);
std::vector<store::Id> plan_expunges(const std::vector<store::KnownFlags>& catalog,
                                     const UidSet& present);

struct ServerMessageKey {
    std::uint32_t uid;
    std::string message_id;
    std::int64_t internaldate;
    std::uint64_t size;
};

struct Rematch {
    std::vector<std::pair<store::Id, std::uint32_t>> matched;  // catalog id -> new uid
    std::vector<std::uint32_t> unmatched_server;              // to download
    std::vector<store::Id> unmatched_catalog;                 // gone: to the attic
};

// Evidence for a rename: `server` holds what the candidate sent for the
// sample's UIDs. Every sampled UID it still has must match by Message-ID and
// size, and at least one match must have a Message-ID.
bool same_messages(const std::vector<store::MessageRecord>& sample,
                   const std::vector<ServerMessageKey>& server);

// A re-match key: the first 16 bytes of SHA-256 over a message's Message-ID,
// INTERNALDATE and RFC822.SIZE (the Message-ID length-prefixed, so no two
// keys share an encoding). Two different keys share a digest with odds of
// about 2^-128 per pair: never, in practice.
using RematchDigest = std::array<std::uint8_t, 16>;
RematchDigest rematch_digest(std::string_view message_id, std::int64_t internaldate, std::uint64_t size);

// The two sides of a re-match after a UIDVALIDITY change, in a fixed number
// of bytes a message (24 on each side, the Message-ID only as its digest), so
// that a mailbox of any size re-matches in bounded memory.
//
// plan() pairs a catalog message with a server message by Message-ID +
// INTERNALDATE + size, where that key is unique on both sides (a shared key
// could pair different messages) and the Message-ID is not empty. The rest is
// unmatched. Rematch::matched and unmatched_server come in ascending new UID,
// unmatched_catalog in ascending id.
class RematchKeys {
  public:
    void add_catalog(store::Id id, std::string_view message_id, std::int64_t internaldate, std::uint64_t size);
    // `tag` is the caller's, given back by tag_of(): e.g. the message's flag
    // set, interned.
    void add_server(std::uint32_t uid, std::string_view message_id, std::int64_t internaldate,
                    std::uint64_t size, std::uint32_t tag = 0);

    // Sorts the keys and drops the catalog's: call once, after the adds.
    Rematch plan();
    // After plan(): the tag the server message `uid` was added with; 0 for a
    // UID never added, or added without a Message-ID.
    std::uint32_t tag_of(std::uint32_t uid) const;

  private:
    struct CatalogKey {
        RematchDigest key;
        store::Id id;
    };
    struct ServerKey {
        RematchDigest key;
        std::uint32_t uid;
        std::uint32_t tag;
    };
    // Deques: no reallocation copies, and slack of one block, however many
    // messages come (a vector doubles).
    std::deque<CatalogKey> m_catalog;
    std::deque<ServerKey> m_server;
    // Without a Message-ID the key cannot tell messages apart: never matched.
    std::deque<store::Id> m_catalog_unkeyed;
    std::deque<std::uint32_t> m_server_unkeyed;
};

// RematchKeys::plan() over whole records, for tests and small callers.
Rematch plan_rematch(const std::vector<store::MessageRecord>& catalog,
                     const std::vector<ServerMessageKey>& server);

// How many new messages one UID FETCH of bodies asks for. A chunk is the
// unit of commit: what a kill, a dropped connection or an expired token
// throws away, and one command the server sees running until its last body.
struct ChunkLimits {
    std::size_t messages = 200;
    std::uint64_t bytes = 32ull << 20;
};

// A paced run's chunks hold at most what its rate limits
// (PacingLimits::max_messages_per_second, max_bytes_per_second) let through
// in kChunkSeconds, never less than one message: at 1 message a second a
// chunk of 200 would be more than three minutes of bodies in one command.
inline constexpr double kChunkSeconds = 60;
ChunkLimits chunk_limits(const PacingLimits& pacing);

// Splits `wanted` (uid, RFC822.SIZE; in UID order) into chunks within
// `limits`, in order. A message larger than limits.bytes is a chunk alone.
std::vector<UidSet> plan_chunks(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted,
                                const ChunkLimits& limits);

}  // namespace imapkeep::sync
