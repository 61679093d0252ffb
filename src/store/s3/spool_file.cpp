#include "store/s3/spool_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <imapkeep/store/catalog.hpp>
#include <stdexcept>

namespace imapkeep::store::s3store {
namespace {

constexpr std::size_t kWriteBuffer = 256 * 1024;

[[noreturn]] void fail(const std::string& what, const std::string& dir) {
    throw StoreError(what + " in the spool directory " + dir + ": " + std::strerror(errno));
}

int open_anonymous(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    // EOPNOTSUPP/EISDIR: no O_TMPFILE here. A name for microseconds instead.
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        fail("cannot make a spool file", dir);
    std::string name = dir + "/" + kSpoolNamePrefix + "XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) fail("cannot make a spool file", dir);
    ::unlink(name.c_str());
    return fd;
}

}  // namespace

SpoolFile::SpoolFile(const std::string& dir) : m_dir(dir), m_fd(open_anonymous(dir)) {}

SpoolFile::~SpoolFile() { ::close(m_fd); }

void SpoolFile::write(std::string_view bytes) {
    m_size += bytes.size();
    if (m_buffer.size() + bytes.size() > kWriteBuffer) {
        flush();
        // A big piece goes straight to the file, not through the buffer.
        if (bytes.size() >= kWriteBuffer) return write_fully(bytes);
    }
    m_buffer.append(bytes);
}

void SpoolFile::flush() {
    write_fully(m_buffer);
    m_buffer.clear();
}

void SpoolFile::write_fully(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(m_fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write a spool file", m_dir);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::size_t SpoolFile::read_at(std::uint64_t offset, char* out, std::size_t max) const {
    while (true) {
        const ssize_t n = ::pread(m_fd, out, max, static_cast<off_t>(offset));
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) fail("cannot read a spool file", m_dir);
    }
}

std::size_t SpoolByteSource::read(char* out, std::size_t max) {
    const std::size_t n = m_file.read_at(m_position, out, max);
    m_position += n;
    return n;
}

void SpoolByteSource::seek(std::uint64_t offset) {
    if (offset > m_file.size()) throw std::out_of_range("spool file: seek past the end");
    m_position = offset;
}

}  // namespace imapkeep::store::s3store
