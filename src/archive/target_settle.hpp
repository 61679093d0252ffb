// Waiting for a target mailbox to stop changing before a resumed restore
// looks at it (issue 8 case 16).
#pragma once

#include <imapkeep/imap/client.hpp>

#include <chrono>
#include <string>

namespace imapkeep::archive::detail {

// A server goes on executing what a killed client had already sent: the
// pipelined APPENDs in its socket buffer still land after the kill. A rerun
// that looked at the target before they land would append those messages
// again. So after an interrupted run, each target mailbox is asked STATUS
// (MESSAGES UIDNEXT) until two answers `quiet` apart agree, for at most `max`.
// Returns whether it settled; a mailbox that never settles is restored anyway
// (and reported by the caller). CommandFailed/Abort pass through.
bool wait_until_settled(imap::Client& client, const std::string& mailbox,
                        std::chrono::milliseconds quiet = std::chrono::milliseconds(1000),
                        std::chrono::milliseconds max = std::chrono::seconds(60));

}  // namespace imapkeep::archive::detail
