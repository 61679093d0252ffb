// Private to restore: a target mailbox's own size limit (RFC 7889 §4). A
// server that announces APPENDLIMIT without a value has limits per mailbox,
// which STATUS (APPENDLIMIT) tells: a number, or NIL for none.
#pragma once

#include <imapkeep/imap/client.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::archive::detail {

// The capability list has APPENDLIMIT without "=n" (RFC 7889 §3).
bool per_mailbox_append_limits(const std::vector<std::string>& capabilities);

// STATUS mailbox (APPENDLIMIT): the limit, or nullopt for NIL, none given, or a
// STATUS the server refuses (the APPEND's own answer then decides). Throws
// imap::Abort when the connection is lost.
std::optional<std::uint64_t> mailbox_append_limit(imap::Client& client, const std::string& mailbox);

}  // namespace imapkeep::archive::detail
