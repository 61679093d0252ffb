#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <imapkeep/store/verify.hpp>
#include <imapkeep/util/sha256.hpp>
#include <optional>

namespace imapkeep::store {
namespace {

struct FileDigest {
    std::uint64_t size = 0;
    std::string sha256;
};

// Streams the file through SHA-256 in 1 MiB reads; nullopt if it cannot be opened or read.
std::optional<FileDigest> digest_file(const std::string& path) {
    int fd;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return std::nullopt;
    util::Sha256 hash;
    FileDigest result;
    std::string buffer(1 << 20, '\0');
    while (true) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        result.size += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    result.sha256 = hash.hex_digest();
    return result;
}

}  // namespace

std::vector<VerifyProblem> verify_files(Catalog& catalog, MessageStore& messages, Id account_id) {
    std::vector<VerifyProblem> problems;
    for (const auto& mailbox : catalog.mailboxes(account_id, true)) {
        for (const auto& message : catalog.all_messages(mailbox.id)) {
            std::optional<FileDigest> digest;
            try {
                digest = digest_file(messages.absolute(message.file));
            } catch (const StoreError&) {
                // A path the store refuses to resolve cannot name a good file.
            }
            if (!digest)
                problems.push_back({message.file, "missing", message.id});
            else if (digest->size != message.size)
                problems.push_back({message.file, "size", message.id});
            else if (digest->sha256 != message.sha256)
                problems.push_back({message.file, "corrupt", message.id});
        }
    }
    return problems;
}

}  // namespace imapkeep::store
