// A child process whose stdin/stdout carry IMAP: `/bin/sh -c command`
// (imaplib's IMAP4_stream, mbsync's Tunnel). stderr is inherited.
#pragma once

#include <imapkeep/transport/stream.hpp>

namespace imapkeep::transport {

// Throws TransportError(Io) if the process cannot be started. EOF from the
// child's stdout reads as 0; close() closes the pipes and reaps the child.
StreamPtr spawn_process(const std::string& command,
                        std::optional<std::chrono::milliseconds> read_timeout = {});

}  // namespace imapkeep::transport
