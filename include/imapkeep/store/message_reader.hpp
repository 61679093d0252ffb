// Reading message bytes back as the server sent them (line_endings.hpp).
// Outside the store everything reads through MessageStore::open_read() and the
// helpers on a MessageSource below. The path-level functions are for files
// that are not behind a MessageStore: the Maildir implementation's own files,
// an export's spool, tests. All of them read in bounded pieces: memory stays
// flat whatever the message's size.
#pragma once

#include <cstdint>
#include <functional>
#include <imapkeep/store/line_endings.hpp>
#include <imapkeep/store/message_source.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace imapkeep::store {

// Hands every remaining piece of `source` to `each`. Throws what next() and
// `each` throw.
void for_each_piece(MessageSource& source, const std::function<void(std::string_view)>& each);

// Size and SHA-256 (lower-case hex) of the original bytes: what the catalog
// records for the message.
struct OriginalDigest {
    std::uint64_t size = 0;
    std::string sha256;
};
// Reads the rest of `source`. Throws what next() throws.
OriginalDigest digest(MessageSource& source);

// The file at `path` (absolute), stored in form `form`, as a MessageSource
// whose file() is `name`. Throws MessageMissing when there is no such file
// (ENOENT, ENOTDIR), StoreError ("cannot open|read PATH: reason") otherwise.
std::unique_ptr<MessageSource> open_file_source(const std::string& path, LineEndings form,
                                                std::string name);

// Streams the original bytes of the file at `path` to `each`, in pieces of at
// most 2 * kReadChunk bytes. Throws like open_file_source, and whatever
// `each` throws.
void read_original(const std::string& path, LineEndings form,
                   const std::function<void(std::string_view)>& each);
// digest() of the file at `path`. Throws like open_file_source.
OriginalDigest digest_original(const std::string& path, LineEndings form);

}  // namespace imapkeep::store
