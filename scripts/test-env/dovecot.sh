#!/usr/bin/env bash
# dovecot.sh DIR IMAP_PORT IMAPS_PORT OAUTH_PORT [LAYOUT]
# Writes DIR/dovecot.conf (from dovecot.conf.in), DIR/dovecot-oauth2.conf.ext
# (the oauth2 passdb asks oauth_server.py on OAUTH_PORT) and DIR/users, starts Dovecot
# as the current user and waits until the IMAP port greets with "* OK".
# Expects DIR/server.pem and DIR/server.key (scripts/test-env/ca.sh).
# Users: user1 ... user4, passwords from $IMAPKEEP_TEST_PASSWORDS (up.sh) (whole-account tests own user3: the CLI tests,
# and user4: the kill test). Their mail belongs to the current user,
# or to nobody:nogroup when run as root (Dovecot won't serve mail as root).
# LAYOUT of the personal namespace: "slash" (default: separator "/", no
# prefix, what most tests run on) or "inbox-dot" (separator ".", prefix
# "INBOX.": every folder is INBOX.Sent, INBOX.Lists.foo, as cPanel and Courier
# migrations set Dovecot up) or "mbox" ("/", mbox files instead of Maildir).
# A second instance needs its own DIR and ports.
set -euo pipefail

dir=${1:?usage: dovecot.sh DIR IMAP_PORT IMAPS_PORT OAUTH_PORT}
imap_port=${2:?usage: dovecot.sh DIR IMAP_PORT IMAPS_PORT OAUTH_PORT}
imaps_port=${3:?usage: dovecot.sh DIR IMAP_PORT IMAPS_PORT OAUTH_PORT}
oauth_port=${4:?usage: dovecot.sh DIR IMAP_PORT IMAPS_PORT OAUTH_PORT}
layout=${5:-slash}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mail_location="maildir:$dir/mail/%u"
case "$layout" in
  slash) separator=/ inbox_prefix="" instance_suffix="" ;;
  inbox-dot) separator=. inbox_prefix=INBOX. instance_suffix=-inbox-dot ;;
  # mbox files, as older and UW-IMAP-migrated installations keep them: a
  # folder holds mail or folders, never both.
  mbox) separator=/ inbox_prefix="" instance_suffix=-mbox
    mail_location="mbox:$dir/mail/%u:INBOX=$dir/mail/%u/INBOX" ;;
  *) echo "dovecot.sh: unknown LAYOUT '$layout' (slash, inbox-dot, mbox)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -eq 0 ]; then
  mail_uid=$(id -u nobody)
  mail_gid=$(getent group nogroup | cut -d: -f3)
  internal_user=dovecot
  internal_group=dovecot
  login_user=dovenull
  login_chroot=""
else
  # A non-root master can't switch users or chroot.
  mail_uid=$(id -u)
  mail_gid=$(id -g)
  internal_user=$(id -un)
  internal_group=$(id -gn)
  login_user=$internal_user
  login_chroot="  chroot ="
fi

mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/home" "$dir/index-private" "$dir/acl"
# Login, auth and mail processes run as other users; they must reach their
# sockets and the mail.
chmod 755 "$dir"
chown "$mail_uid:$mail_gid" "$dir/mail" "$dir/home" "$dir/index-private" "$dir/acl"

read -ra passwords <<<"${IMAPKEEP_TEST_PASSWORDS:?set by up.sh: four passwords}"
{
  for n in 1 2 3 4; do
    echo "user$n:{PLAIN}${passwords[n - 1]}:::$dir/home/user$n::"
  done
} >"$dir/users"
chmod 644 "$dir/users"

# The worker fleet's accounts (issue 13): fleet01 ... fleetNN, reached only
# through the master user (SASL PLAIN authzid = the user, authcid = the
# master), as a hosting firm's backup would; their own passwords are random
# and never told. The master's password is $IMAPKEEP_TEST_MASTER_PASSWORD.
fleet_users=${IMAPKEEP_TEST_FLEET_USERS:-60}
for n in $(seq -w 1 "$fleet_users"); do
  echo "fleet$n:{PLAIN}$(openssl rand -hex 12):::$dir/home/fleet$n::" >>"$dir/users"
done
echo "${IMAPKEEP_TEST_MASTER_USER:-fleetmaster}:{PLAIN}${IMAPKEEP_TEST_MASTER_PASSWORD:?set by up.sh}" >"$dir/masters"
chmod 644 "$dir/masters"

# Dovecot 2.3 oauth2 passdb: RFC 7662 introspection by POST, over TLS checked
# against the test CA. The answer names the user and says it is active.
cat >"$dir/dovecot-oauth2.conf.ext" <<CONF
introspection_mode = post
introspection_url = https://localhost:$oauth_port/introspect
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = $dir/ca.pem
CONF
chmod 644 "$dir/dovecot-oauth2.conf.ext"

sed -e "s|@DIR@|$dir|g" \
    -e "s|@IMAP_PORT@|$imap_port|g" \
    -e "s|@IMAPS_PORT@|$imaps_port|g" \
    -e "s|@MAIL_UID@|$mail_uid|g" \
    -e "s|@MAIL_GID@|$mail_gid|g" \
    -e "s|@INTERNAL_USER@|$internal_user|g" \
    -e "s|@INTERNAL_GROUP@|$internal_group|g" \
    -e "s|@LOGIN_USER@|$login_user|g" \
    -e "s|@LOGIN_CHROOT@|$login_chroot|g" \
    -e "s|@SEPARATOR@|$separator|g" \
    -e "s|@INBOX_PREFIX@|$inbox_prefix|g" \
    -e "s|@INSTANCE_SUFFIX@|$instance_suffix|g" \
    -e "s|@MAIL_LOCATION@|$mail_location|g" \
    "$here/dovecot.conf.in" >"$dir/dovecot.conf"

dovecot -c "$dir/dovecot.conf"

# Wait for the greeting: the master forks the listeners asynchronously.
for _ in $(seq 100); do
  if greeting=$(python3 - "$imap_port" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    print(s.recv(512).decode(errors="replace").strip())
PY
  ) && [[ $greeting == "* OK"* ]]; then
    exit 0
  fi
  sleep 0.1
done
echo "dovecot.sh: Dovecot did not answer on 127.0.0.1:$imap_port; log:" >&2
tail -n 30 "$dir/dovecot.log" >&2 || true
exit 1
