// A child process whose stdin/stdout carry IMAP: `/bin/sh -c command`
// (imaplib's IMAP4_stream, mbsync's Tunnel). stderr is inherited.
#pragma once

#include <imapkeep/transport/stream.hpp>

namespace imapkeep::transport {

// Throws TransportError(Io) if the process cannot be started. EOF from the
// child's stdout reads as 0 (also when the command does not exist: sh exits
// 127). Writing to a child that has gone is TransportError(Io), never SIGPIPE.
// close() closes the pipes, gives the child 0.5 s to exit, then SIGTERM, 0.5 s
// more, then SIGKILL, and reaps it. describe() is "process: COMMAND".
StreamPtr spawn_process(const std::string& command,
                        std::optional<std::chrono::milliseconds> read_timeout = {});

}  // namespace imapkeep::transport
