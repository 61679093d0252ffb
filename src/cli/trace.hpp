// -vv: every line a connection sends and receives, on stderr, prefixed with
// what the connection is for. The client redacts LOGIN and AUTHENTICATE
// (imap/client.hpp); server text is made printable. Connections run in
// parallel, so lines are written one at a time under one process-wide lock.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace imapkeep::cli {

// A ClientOptions::trace writing "imapkeep: NAME: LINE" to `err`, which must
// outlive every connection that uses it.
std::function<void(std::string_view)> connection_trace(std::ostream& err, std::string name);

}  // namespace imapkeep::cli
