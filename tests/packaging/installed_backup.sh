#!/usr/bin/env bash
# installed_backup.sh ENVFILE COUNT : the installed /usr/bin/imapkeep (the
# imapkeep package) backs up user1 of the servers that up.sh ENVFILE started,
# over TLS, a local command and SSH, after seed.sh delivered COUNT messages to
# its INBOX: the backup, `status` and `verify` exit 0 and the store holds
# COUNT messages for each. The backup runs under strace, and each installed
# unit's system call and address family filters must allow everything it did
# (syscall_filter_check.sh), so that the timer's run does what this one did.
# KEEP_TRACE=FILE keeps the strace log.
set -euo pipefail

envfile=${1:?usage: installed_backup.sh ENVFILE COUNT}
count=${2:?usage: installed_backup.sh ENVFILE COUNT}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC1090
source "$envfile"
imapkeep=/usr/bin/imapkeep

work=$(mktemp -d)
trap '[ -n "${KEEP_TRACE:-}" ] && cp "$work/trace" "$KEEP_TRACE"; rm -rf "$work"' EXIT

version=$("$imapkeep" --version)
[[ $version =~ ^imapkeep\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  { echo "installed_backup.sh: $imapkeep --version printed '$version'" >&2; exit 1; }
pkg_version=$(dpkg-query -W -f='${Version}' imapkeep)
[ "${pkg_version%-*}" = "${version#imapkeep }" ] ||
  { echo "installed_backup.sh: package $pkg_version holds $version" >&2; exit 1; }

# As the system unit would have it: config and password file 0600. Three
# accounts on user1's INBOX, one per way of reaching a server, so that the
# trace holds the system calls of each (TLS; a spawned command, as for a
# password_command; libssh2).
(
  umask 077
  printf '%s\n' "$IMAPKEEP_TEST_PASSWORD" >"$work/password"
  # The test CA's certificate names localhost only.
  cat >"$work/config.toml" <<TOML
[store]
path = "$work/store"

[[account]]
name = "tls"
host = "localhost"
port = $IMAPKEEP_TEST_IMAPS_PORT
tls = "implicit"
ca_file = "$IMAPKEEP_TEST_CA_FILE"
user = "$IMAPKEEP_TEST_USER"
password_command = "cat $work/password"

[[account]]
name = "command"
command = "$IMAPKEEP_TEST_STREAM_COMMAND"

[[account]]
name = "ssh"

[account.ssh]
host = "127.0.0.1"
port = $IMAPKEEP_TEST_SSH_PORT
user = "$IMAPKEEP_TEST_SSH_USER"
identity = "$IMAPKEEP_TEST_SSH_KEY"
known_hosts = "$IMAPKEEP_TEST_SSH_KNOWN_HOSTS"
command = "$IMAPKEEP_TEST_SSH_IMAP_COMMAND"
TOML
)
accounts="tls command ssh"

run() {
  "$@" >"$work/out" 2>&1 || { echo "installed_backup.sh: '$*' failed:" >&2; cat "$work/out" >&2; exit 1; }
}
run strace -f -qq -o "$work/trace" "$imapkeep" --config "$work/config.toml" backup
cat "$work/out"
run "$imapkeep" --config "$work/config.toml" status --json
for account in $accounts; do
  inbox=$(python3 -c '
import json, sys
status = json.load(open(sys.argv[1]))
inbox = [m for a in status["accounts"] if a["name"] == sys.argv[2]
         for m in a["mailboxes"] if m["name"] == "INBOX"]
print(inbox[0]["messages"] if inbox else "none")' "$work/out" "$account")
  [ "$inbox" = "$count" ] ||
    { echo "installed_backup.sh: status shows $inbox messages in $account's INBOX, not $count" >&2; cat "$work/out" >&2; exit 1; }
  files=$(find "$work/store/mail/$account/cur" -type f | wc -l)
  [ "$files" = "$count" ] ||
    { echo "installed_backup.sh: the store holds $files message files of $account, not $count" >&2; exit 1; }
done
run "$imapkeep" --config "$work/config.toml" verify
echo "installed imapkeep backed up, listed and verified $count messages in each account: $accounts"

for unit in /usr/lib/systemd/system/imapkeep-backup@.service /usr/lib/systemd/user/imapkeep-backup@.service; do
  # The command account's Dovecot imap stands for a server (it runs setuid()).
  bash "$here/syscall_filter_check.sh" "$unit" "$work/trace" "${IMAPKEEP_TEST_STREAM_COMMAND%% *}"
done
