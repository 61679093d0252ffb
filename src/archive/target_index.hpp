// Private to restore: which messages a target mailbox already holds, known by
// what they are, the SHA-256 of their bytes (the catalog has it for every
// message), not by Message-ID or size, which other messages can share.
#pragma once

#include <cstdint>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/util/types.hpp>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::archive::detail {

struct WantedMessage {
    std::string sha256;  // lower-case hex
    std::uint64_t size = 0;
};

// For each wanted message, a UID of the selected mailbox whose RFC822.SIZE
// and SHA-256 of BODY.PEEK[] are the same, or nullopt. A target UID answers
// at most one wanted entry (two identical copies need two target copies);
// earlier entries are served first. Only UIDs in `within` and not in `taken`
// are looked at.
//
// Cost: one UID FETCH (RFC822.SIZE) over `within`, then the bodies of the
// messages of a wanted size, fetched in chunks and hashed as they stream:
// memory is the candidate UIDs (as ranges) and the wanted list, never a body.
// Throws what the Client throws (imap::Error); leaves the body sink unset.
std::vector<std::optional<Uid>> find_in_target(imap::Client& client,
                                               const std::vector<WantedMessage>& wanted,
                                               const UidSet& within, const UidSet& taken = {});

// 1:4294967295, every UID.
UidSet all_uids();

}  // namespace imapkeep::archive::detail
