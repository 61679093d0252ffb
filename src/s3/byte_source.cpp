#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <imapkeep/s3/byte_source.hpp>
#include <stdexcept>
#include <system_error>

namespace imapkeep::s3 {

namespace {
[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}
}  // namespace

std::size_t MemorySource::read(char* out, std::size_t max) {
    const std::size_t n = std::min(max, m_bytes.size() - m_position);
    std::memcpy(out, m_bytes.data() + m_position, n);
    m_position += n;
    return n;
}

void MemorySource::seek(std::uint64_t offset) {
    if (offset > m_bytes.size()) throw std::out_of_range("MemorySource: seek past the end");
    m_position = static_cast<std::size_t>(offset);
}

FileSource::FileSource(const std::string& path) : m_path(path) {
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) throw_errno("cannot open " + path);
    struct stat st {};
    if (::fstat(m_fd, &st) != 0) {
        const int saved = errno;
        ::close(m_fd);
        errno = saved;
        throw_errno("cannot stat " + path);
    }
    m_size = static_cast<std::uint64_t>(st.st_size);
}

FileSource::~FileSource() {
    if (m_fd >= 0) ::close(m_fd);
}

std::size_t FileSource::read(char* out, std::size_t max) {
    const std::uint64_t left = m_size - std::min(m_position, m_size);
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(max, left));
    if (want == 0) return 0;
    while (true) {
        const ssize_t n = ::pread(m_fd, out, want, static_cast<off_t>(m_position));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("cannot read " + m_path);
        // The file shrank under us: the size announced to the server is wrong.
        if (n == 0) throw std::runtime_error(m_path + " became shorter while being uploaded");
        m_position += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
    }
}

void FileSource::seek(std::uint64_t offset) {
    if (offset > m_size) throw std::out_of_range("FileSource: seek past the end of " + m_path);
    m_position = offset;
}

}  // namespace imapkeep::s3
