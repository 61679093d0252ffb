// The one way to read a stored message file back as the bytes the server
// sent (line_endings.hpp): verify, restore, export and repair all go through
// here, so none of them can forget to undo the LF form. Files are read in
// bounded chunks: memory stays flat whatever the message's size.
#pragma once

#include <cstdint>
#include <functional>
#include <imapkeep/store/line_endings.hpp>
#include <string>
#include <string_view>

namespace imapkeep::store {

// Streams the original (wire) bytes of the file at `path` (absolute), stored
// in form `form`, to `each`, in pieces of at most 2 * kReadChunk bytes.
// Throws std::system_error ("cannot open|read PATH: reason") and whatever
// `each` throws.
constexpr std::size_t kReadChunk = 64 * 1024;
void read_original(const std::string& path, LineEndings form,
                   const std::function<void(std::string_view)>& each);

// Size and SHA-256 (lower-case hex) of the original bytes: what the catalog
// records for the message. Throws like read_original.
struct OriginalDigest {
    std::uint64_t size = 0;
    std::string sha256;
};
OriginalDigest digest_original(const std::string& path, LineEndings form);

}  // namespace imapkeep::store
