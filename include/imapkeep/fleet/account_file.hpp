// `imapkeep accounts import FILE`: fleet accounts from CSV (RFC 4180: fields
// with a comma, quote or line break in double quotes, quotes doubled; CRLF or
// LF line ends), the format a directory or a control panel exports.
//
// The first row names the columns, in any order:
//   name,user            required
//   host,port,tls,master_user,password_command,template,interval_minutes
// Empty fields take the defaults of `imapkeep accounts add`. Blank lines are
// skipped. Any error (an unknown column, a missing required one, a bad
// number, a bad name, a name twice, an unterminated quote) throws FleetError
// "LINE: ..." naming the 1-based line of the file; nothing is returned then,
// so an import adds all of its rows or none.
#pragma once

#include <imapkeep/fleet/fleet_account.hpp>
#include <string_view>
#include <vector>

namespace imapkeep::fleet {

std::vector<FleetAccount> parse_fleet_accounts_csv(std::string_view text);

}  // namespace imapkeep::fleet
