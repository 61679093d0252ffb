#include "store/s3/spool_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <imapkeep/store/catalog.hpp>

namespace imapkeep::store::s3store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRunPrefix = "run-";
constexpr const char* kLockName = ".lock";
constexpr std::size_t kWriteBuffer = 256 * 1024;

[[noreturn]] void fail(const std::string& what) {
    throw StoreError(what + ": " + std::strerror(errno));
}

// Opens DIR/.lock and takes it (without waiting). -1 when another process holds it.
int take_lock(const std::string& dir) {
    const std::string path = dir + "/" + kLockName;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    ::close(fd);
    return -1;
}

std::size_t count_files(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename() != kLockName) ++n;
    return n;
}

}  // namespace

SpoolDir::SpoolDir(const std::string& root) : m_root(root) {
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) throw StoreError("cannot make the spool directory " + root + ": " + ec.message());
    std::string templ = root + "/" + kRunPrefix + "XXXXXX";
    if (!::mkdtemp(templ.data())) fail("cannot make a directory in the spool directory " + root);
    m_dir = templ;
    m_lock = take_lock(m_dir);
    if (m_lock < 0) fail("cannot lock the spool directory " + m_dir);
    clean_stale();
}

SpoolDir::~SpoolDir() {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
    ::close(m_lock);
}

std::string SpoolDir::new_file() { return m_dir + "/m" + std::to_string(++m_counter); }

std::size_t SpoolDir::clean_stale() {
    std::size_t removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(m_root, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string dir = it->path().string();
        if (dir == m_dir || it->path().filename().string().rfind(kRunPrefix, 0) != 0) continue;
        const int lock = take_lock(dir);
        if (lock < 0) continue;  // a live store's
        removed += count_files(dir);
        std::error_code ignored;
        fs::remove_all(dir, ignored);
        ::close(lock);
    }
    return removed;
}

SpooledMessage::SpooledMessage(std::string path) : m_path(std::move(path)) {
    m_fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (m_fd < 0) fail("cannot make the spool file " + m_path);
}

SpooledMessage::~SpooledMessage() {
    if (m_fd >= 0) ::close(m_fd);
    ::unlink(m_path.c_str());
}

void SpooledMessage::write(std::string_view bytes) {
    if (m_buffer.size() + bytes.size() > kWriteBuffer) {
        write_fully(m_buffer);
        m_buffer.clear();
        // A big piece goes straight to the file, not through the buffer.
        if (bytes.size() >= kWriteBuffer) return write_fully(bytes);
    }
    m_buffer.append(bytes);
}

void SpooledMessage::finish() {
    write_fully(m_buffer);
    std::string().swap(m_buffer);
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0) fail("cannot write the spool file " + m_path);
}

void SpooledMessage::write_fully(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(m_fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write the spool file " + m_path);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace imapkeep::store::s3store
