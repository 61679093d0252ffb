#include <imapkeep/util/files.hpp>
#include <vector>
#include <algorithm>
#include <imapkeep/util/process_id.hpp>

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace imapkeep::util {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    // close() reports deferred write errors (NFS), so it is checked when it matters.
    int close() {
        int rc = ::close(m_fd);
        m_fd = -1;
        return rc;
    }

private:
    int m_fd;
};

int open_retry(const std::string& path, int flags, mode_t mode = 0) {
    int fd;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

std::string parent_dir(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view data) {
    // A unique temp name in the same directory, so rename() stays atomic and
    // concurrent writers (threads or processes) never share a temp file.
    static std::atomic<unsigned> counter{0};
    std::string tmp = path + ".tmp." + std::to_string(util::process_id()) + "." + std::to_string(counter++);
    Fd fd(open_retry(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600));
    if (fd.get() < 0) throw_errno(errno, "cannot create " + tmp);
    auto fail = [&](int err, const std::string& what) {
        fd.close();
        ::unlink(tmp.c_str());
        throw_errno(err, what);
    };
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(errno, "cannot write " + tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) fail(errno, "cannot fsync " + tmp);
    if (fd.close() != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_errno(err, "cannot close " + tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_errno(err, "cannot rename " + tmp + " to " + path);
    }
    fsync_parent_dir(path);
}

void fsync_path(const std::string& path) {
    Fd fd(open_retry(path, O_RDONLY));
    if (fd.get() < 0) throw_errno(errno, "cannot open " + path);
    if (::fsync(fd.get()) != 0) throw_errno(errno, "cannot fsync " + path);
}

void fsync_parent_dir(const std::string& path) { fsync_path(parent_dir(path)); }

void for_each_chunk(const std::string& path, std::size_t chunk,
                    const std::function<void(std::string_view)>& each) {
    Fd fd(open_retry(path, O_RDONLY));
    if (fd.get() < 0) throw_errno(errno, "cannot open " + path);
    std::vector<char> buf(std::max<std::size_t>(chunk, 1));
    while (true) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(errno, "cannot read " + path);
        }
        if (n == 0) break;
        each(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
}

std::string read_file(const std::string& path) {
    std::string out;
    for_each_chunk(path, 1 << 15, [&](std::string_view piece) { out.append(piece); });
    return out;
}

}  // namespace imapkeep::util
