// Whether a BODY[] that came shorter than its RFC822.SIZE is the whole
// message. A literal arrives whole or the connection fails, so a short body
// is either all the server has, its RFC822.SIZE an estimate
// (Quirk(OVH Hosted Exchange), new_mail.cpp), or a server that cut it: the
// server itself tells which when asked for one octet past the body's end.
#pragma once

#include <cstdint>
#include <imapkeep/imap/client.hpp>
#include <map>
#include <set>

namespace imapkeep::sync {

// Of `ends` (UID -> octets of BODY[] received), the UIDs whose BODY[] the
// server says ends there: BODY.PEEK[]<end.1> comes back empty (RFC 3501
// §6.4.5: an origin past the end gives an empty string). A UID answered with
// an octet, with its FETCH refused, or not answered at all is not among them.
// The selected mailbox's connection must have no FETCH in flight. The first
// probe goes alone: a server that refuses it (no partial fetch) is asked no
// more, so a server that counts refusals (O365 hangs up after 10) sees one.
// Throws what Client::wait throws; a connection left with probes in flight
// is abandoned.
std::set<std::uint32_t> bodies_ending_at(imap::Client& client,
                                         const std::map<std::uint32_t, std::uint64_t>& ends);

}  // namespace imapkeep::sync
