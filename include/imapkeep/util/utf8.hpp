// Text that came from a server may hold any bytes (8-bit mailbox names,
// Quirk(Cyrus 3.6)'s pointer bytes in a MAILBOXID, a broken error text).
// Whatever imapkeep prints must be valid UTF-8 (issue 9): invalid sequences
// become U+FFFD, and control characters other than TAB are escaped "\xNN" so
// a server cannot move a terminal's cursor or forge a log line.
#pragma once

#include <string>
#include <string_view>

namespace imapkeep::util {

// RFC 3629 UTF-8: overlong forms, surrogates and code points above U+10FFFF
// are invalid. Each invalid byte becomes one U+FFFD.
std::string printable_utf8(std::string_view text);

}  // namespace imapkeep::util
