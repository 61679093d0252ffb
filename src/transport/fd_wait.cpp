#include "fd_wait.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>

namespace imapkeep::transport::detail {

bool wait_fd_until(int fd, short events, std::optional<Clock::time_point> deadline) {
    while (true) {
        int wait_ms = -1;
        if (deadline) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            wait_ms = left.count() < 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
        }
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, wait_ms);
        if (rc > 0) return true;
        if (rc == 0) {
            if (!deadline || Clock::now() >= *deadline) return false;
            continue;  // woke early (rounding); wait for the rest
        }
        if (errno != EINTR) {
            throw TransportError(TransportError::Kind::Io, errno_message("poll", errno));
        }
    }
}

bool wait_fd(int fd, short events, std::optional<std::chrono::milliseconds> timeout) {
    std::optional<Clock::time_point> deadline;
    if (timeout) deadline = Clock::now() + *timeout;
    return wait_fd_until(fd, events, deadline);
}

std::string errno_message(const std::string& what, int err) {
    return what + ": " + std::strerror(err);
}

}  // namespace imapkeep::transport::detail
