// FileLiteral: an APPEND body streamed from a file.
#include "imap/file_literal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace imapkeep::imap {

namespace {

class Fd {
  public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

  private:
    int m_fd;
};

std::size_t read_some(int fd, char* buf, std::size_t len, const std::string& path) {
    for (;;) {
        const ssize_t n = ::read(fd, buf, len);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR)
            throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    }
}

}  // namespace

// Reads one byte past the announced size: a file that grew since it was
// measured would otherwise be cut short without anyone noticing.
void FileLiteral::write_to(const Sink& sink) const {
    Fd fd(::open(m_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw std::runtime_error("cannot open " + m_path + ": " + std::strerror(errno));
    std::vector<char> buf(kChunk);
    std::uint64_t sent = 0;
    for (;;) {
        const std::uint64_t left = m_size - sent;
        const std::size_t want =
            left < buf.size() ? static_cast<std::size_t>(left) + 1 : buf.size();
        const std::size_t n = read_some(fd.get(), buf.data(), want, m_path);
        if (n == 0) break;
        if (n > left)
            throw std::runtime_error(m_path + " is longer than the " + std::to_string(m_size) +
                                     " bytes announced");
        sink(std::string_view(buf.data(), n));
        sent += n;
    }
    if (sent != m_size)
        throw std::runtime_error(m_path + " has " + std::to_string(sent) + " bytes, not the " +
                                 std::to_string(m_size) + " announced");
}

}  // namespace imapkeep::imap
