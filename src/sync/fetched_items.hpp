// One message's FETCH items gathered over every response that named its UID.
// IMAP is a cache-filling protocol: a server may send a message's items in
// several untagged FETCH responses, each with the UID (RFC 3501 §7: untagged
// data at any time), and some do: Gmail sends a second FETCH of the same UID
// (modern-email/defects#39), and emailjs-imap-client merges "UID 123" /
// "MODSEQ 456" of one message (PR #53). A caller that read one response alone
// would store a body without its FLAGS, INTERNALDATE or MODSEQ.
#pragma once

#include <functional>
#include <imapkeep/imap/types.hpp>
#include <optional>

namespace imapkeep::sync {

// Copies the items `from` carries into `into`: a later response's item wins
// over an earlier one's, an item `from` lacks is left as it was. Sections
// (BODY[HEADER.FIELDS ...]) are kept one per name. The body (has_body,
// body_sink, body) is never copied: bodies are the caller's.
void merge_fetched(imap::FetchData& into, const imap::FetchData& from);

// For a listing of many UIDs: hands each message's items on once, joined. A
// response without every item `whole` wants waits for the next response; one
// of the same UID is merged into it, one of another UID (or finish()) hands
// it on as it stands. One waits at a time, so memory stays fixed: servers
// that split send one message's responses one after the other.
class ConsecutiveItems {
  public:
    using Test = std::function<bool(const imap::FetchData&)>;
    using Take = std::function<void(const imap::FetchData&)>;
    ConsecutiveItems(Test whole, Take take) : m_whole(std::move(whole)), m_take(std::move(take)) {}
    void add(const imap::FetchData& d);  // one without a UID is ignored
    void finish();                       // after the listing's completion

  private:
    Test m_whole;
    Take m_take;
    std::optional<imap::FetchData> m_waiting;
};

}  // namespace imapkeep::sync
