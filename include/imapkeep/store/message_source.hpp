// Reading a stored message back: what a MessageStore's open_read() takes (a
// MessageRef: what the catalog knows of the message, never a path) and gives
// (a MessageSource: the message's bytes, pulled in bounded pieces). Restore,
// export, verify and Gmail adoption read message bytes only this way, so every
// MessageStore (Maildir today, content-addressed object storage next) serves
// them the same.
#pragma once

#include <cstddef>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/line_endings.hpp>
#include <string>
#include <string_view>

namespace imapkeep::store {

// Bytes read from storage per piece (a piece a reader hands out is at most
// twice this: LF given back as CRLF).
constexpr std::size_t kReadChunk = 64 * 1024;

// A stored message is not there: no file (object) under its key, also after
// looking for it where a killed run may have left it. Callers tell it apart
// from a failing read (a plain StoreError): "missing" is a finding about the
// store, an I/O error is a reason to try again.
class MessageMissing : public StoreError {
  public:
    using StoreError::StoreError;
};

// A message's identity in the store, as its catalog row holds it: the key
// the store handed out for it (MessageRecord::file, from commit() or a later
// rename) and the SHA-256 of its bytes (content-addressed stores key by it),
// plus the form the bytes are kept in. The views are only read during the
// open_read() call.
struct MessageRef {
    std::string_view file;
    std::string_view sha256;  // lower-case hex; "" for rows that have none
    LineEndings line_endings = LineEndings::Wire;
};

inline MessageRef message_ref(const MessageRecord& row) {
    return {row.file, row.sha256, row.line_endings};
}

// How open_read() takes MessageRef::file.
enum class ReadLookup {
    // Where the catalog says, or else where a run killed between a rename and
    // its catalog commit left it (MessageStore::locate()). What restore,
    // export and adoption want.
    FollowRenames,
    // Only under that very key: verify reports a moved file itself.
    Exact,
};

// One message being read: its original bytes, the ones the server sent
// (CRLF given back to a message kept with LF endings, line_endings.hpp), in
// pieces, from the first byte to the last. The bytes are not checked against
// MessageRef::sha256 here: callers that must prove them hash what they read
// (digest() in message_reader.hpp). Owned by the caller; not thread-safe; it
// holds storage open (a descriptor, a connection) until destroyed. It may
// outlive the MessageStore call that made it, not the MessageStore.
class MessageSource {
  public:
    virtual ~MessageSource() = default;
    // The next piece: never empty before the end, at most 2 * kReadChunk
    // bytes; empty at the end and at every call after. The view stays valid
    // until the next call or the source's destruction. Throws StoreError when
    // the bytes cannot be read (never MessageMissing: open_read() found them).
    virtual std::string_view next() = 0;
    // The key the bytes are read under, store-relative, for messages to
    // people: MessageRef::file, or where FollowRenames found the message.
    virtual const std::string& file() const = 0;
};

}  // namespace imapkeep::store
