#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/util/files.hpp>
#include <imapkeep/util/sha256.hpp>

namespace imapkeep::store {

void read_original(const std::string& path, LineEndings form,
                   const std::function<void(std::string_view)>& each) {
    if (form == LineEndings::Wire) {
        util::for_each_chunk(path, kReadChunk, each);
        return;
    }
    std::string expanded;
    expanded.reserve(2 * kReadChunk);
    util::for_each_chunk(path, kReadChunk, [&](std::string_view stored) {
        expanded.clear();
        lf_to_crlf(stored, expanded);
        each(expanded);
    });
}

OriginalDigest digest_original(const std::string& path, LineEndings form) {
    util::Sha256 hash;
    OriginalDigest digest;
    read_original(path, form, [&](std::string_view wire) {
        hash.update(wire);
        digest.size += wire.size();
    });
    digest.sha256 = hash.hex_digest();
    return digest;
}

}  // namespace imapkeep::store
