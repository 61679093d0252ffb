// Private helpers shared by the descriptor-based transports (tcp, process):
// waiting with poll() against an optional deadline, and errno messages.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace imapkeep::transport::detail {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT) or `timeout` passes.
// Returns false on timeout; EINTR restarts with the remaining time. Error and
// hang-up conditions count as ready so the following read/write reports them.
bool wait_fd(int fd, short events, std::optional<std::chrono::milliseconds> timeout);

// Same, against an absolute deadline (nullopt = forever).
bool wait_fd_until(int fd, short events, std::optional<Clock::time_point> deadline);

// "what: strerror(err)"
std::string errno_message(const std::string& what, int err);

}  // namespace imapkeep::transport::detail
