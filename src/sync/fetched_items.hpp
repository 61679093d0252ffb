// One message's FETCH items gathered over every response that named its UID.
// IMAP is a cache-filling protocol: a server may send a message's items in
// several untagged FETCH responses, each with the UID (RFC 3501 §7: untagged
// data at any time), and some do: Gmail sends a second FETCH of the same UID
// (modern-email/defects#39), and emailjs-imap-client merges "UID 123" /
// "MODSEQ 456" of one message (PR #53). A caller that read one response alone
// would store a body without its FLAGS, INTERNALDATE or MODSEQ.
#pragma once

#include <imapkeep/imap/types.hpp>

namespace imapkeep::sync {

// Copies the items `from` carries into `into`: a later response's item wins
// over an earlier one's, an item `from` lacks is left as it was. Sections
// (BODY[HEADER.FIELDS ...]) are kept one per name. The body (has_body,
// body_sink, body) is never copied: bodies are the caller's.
void merge_fetched(imap::FetchData& into, const imap::FetchData& from);

}  // namespace imapkeep::sync
