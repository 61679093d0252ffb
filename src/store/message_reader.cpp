#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/util/sha256.hpp>

namespace imapkeep::store {
namespace {

// One file read from start to end. The read buffer is left uninitialised
// (no 64 KiB memset per message); an LF file's pieces are expanded into a
// second buffer, the only copy made.
class FileSource final : public MessageSource {
  public:
    FileSource(int fd, std::string path, LineEndings form, std::string name)
        : m_fd(fd),
          m_path(std::move(path)),
          m_name(std::move(name)),
          m_form(form),
          m_buffer(new char[kReadChunk]) {}
    ~FileSource() override { ::close(m_fd); }
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    std::string_view next() override {
        const std::string_view stored = read_some();
        if (m_form == LineEndings::Wire || stored.empty()) return stored;
        m_expanded.clear();
        lf_to_crlf(stored, m_expanded);
        return m_expanded;
    }

    const std::string& file() const override { return m_name; }

  private:
    std::string_view read_some() {
        while (true) {
            const ssize_t n = ::read(m_fd, m_buffer.get(), kReadChunk);
            if (n >= 0) return {m_buffer.get(), static_cast<std::size_t>(n)};
            if (errno != EINTR)
                throw StoreError("cannot read " + m_path + ": " + std::strerror(errno));
        }
    }

    int m_fd;
    std::string m_path;
    std::string m_name;
    LineEndings m_form;
    std::unique_ptr<char[]> m_buffer;
    std::string m_expanded;
};

int open_for_reading(const std::string& path) {
    while (true) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) return fd;
        if (errno == EINTR) continue;
        const std::string reason = std::strerror(errno);
        if (errno == ENOENT || errno == ENOTDIR) throw MessageMissing("no message file " + path);
        throw StoreError("cannot open " + path + ": " + reason);
    }
}

}  // namespace

void for_each_piece(MessageSource& source, const std::function<void(std::string_view)>& each) {
    for (auto piece = source.next(); !piece.empty(); piece = source.next()) each(piece);
}

OriginalDigest digest(MessageSource& source) {
    util::Sha256 hash;
    OriginalDigest out;
    for (auto piece = source.next(); !piece.empty(); piece = source.next()) {
        hash.update(piece);
        out.size += piece.size();
    }
    out.sha256 = hash.hex_digest();
    return out;
}

std::unique_ptr<MessageSource> open_file_source(const std::string& path, LineEndings form,
                                                std::string name) {
    const int fd = open_for_reading(path);
    try {
        return std::make_unique<FileSource>(fd, path, form, std::move(name));
    } catch (...) {
        ::close(fd);
        throw;
    }
}

void read_original(const std::string& path, LineEndings form,
                   const std::function<void(std::string_view)>& each) {
    auto source = open_file_source(path, form, path);
    for_each_piece(*source, each);
}

OriginalDigest digest_original(const std::string& path, LineEndings form) {
    auto source = open_file_source(path, form, path);
    return digest(*source);
}

}  // namespace imapkeep::store
