// The password command of a fleet account: a template, so that one secret
// store serves thousands of mailboxes and no password is ever written to the
// catalog ("cat /run/secrets/%u", "pass show mail/%a", or one master user's
// secret for all: "cat /run/secrets/%m").
//
//   %u  the mailbox's user    %m  the master user ("" without one)
//   %a  the account's name    %%  a "%"
//
// Each value is put in single quotes for /bin/sh (a quote inside becomes
// '\''), so a user name can never add words or commands to the line. Any
// other "%" sequence, or a lone "%" at the end, throws FleetError: a typo
// must not run a different command.
#pragma once

#include <imapkeep/fleet/fleet_account.hpp>
#include <string>

namespace imapkeep::fleet {

std::string expand_password_command(const std::string& pattern, const FleetAccount& account);

// `value` quoted for /bin/sh: 'it'\''s'.
std::string shell_quote(const std::string& value);

}  // namespace imapkeep::fleet
