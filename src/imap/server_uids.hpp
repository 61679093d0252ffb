// UIDs and UID sets read from server responses (private to the client). They
// stay ranges (DESIGN.md invariant 4): "1:4294967295" costs 8 bytes, not 16 GB.
#pragma once

#include <imapkeep/util/types.hpp>
#include <imapkeep/wire/response.hpp>
#include <string_view>

namespace imapkeep::imap {

// nz-number as a UID; 0 or more than 32 bits -> Error.
Uid node_uid(const wire::Node& n);
// sequence-set (VANISHED, ESEARCH ALL, APPENDUID) -> ranges; bad syntax -> Error.
UidSet parse_uid_set(std::string_view text);
// Adds `more` to `into` without listing a UID. Several responses may answer
// one command; sets that follow each other (the usual case) are appended.
void merge_into(UidSet& into, const UidSet& more);

}  // namespace imapkeep::imap
