#!/usr/bin/env bash
# up.sh ENVFILE
# Starts the integration-test servers on loopback, each in one fresh temp dir:
# a Dovecot (dovecot.sh) with a throwaway CA (ca.sh), a Cyrus IMAP (cyrus.sh),
# a Ceph RGW for S3 (ceph.sh), a PostgreSQL (postgres.sh), and an sshd
# (sshd.sh) when that script exists. Writes `export IMAPKEEP_TEST_...=...`
# lines to ENVFILE for the tests to source. scripts/test-env/down.sh ENVFILE undoes it.
set -euo pipefail

envfile=${1:?usage: up.sh ENVFILE}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

dir=$(mktemp -d "${TMPDIR:-/tmp}/imapkeep-test.XXXXXX")
# A failure half way must not leave a server running.
cleanup_on_error() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "up.sh: failed; stopping what was started" >&2
    bash "$here/down.sh" "$envfile" >&2 || true
    rm -rf "$dir"
  fi
}
trap cleanup_on_error EXIT

# Written first so that down.sh can find the dir even if a later step fails.
: >"$envfile"
emit() {
  # Single-quoted so that commands with spaces survive `source`.
  printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}" >>"$envfile"
}
emit IMAPKEEP_TEST_DIR "$dir"

# Free loopback ports. Another process could take one before Dovecot binds it;
# dovecot.sh then fails loudly rather than testing the wrong server.
read -r imap_port imaps_port cyrus_port oauth_port rgw_port rgw_tls_port pg_port \
  dotted_imap_port dotted_imaps_port cyrus_inbox_dot_port cyrus_dot_port mbox_imap_port mbox_imaps_port \
  < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(13)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()
PY
)

# Distinctive passwords, so that scripts/test.sh can grep every test's output
# for them: "pass1" would also match innocent text.
export IMAPKEEP_TEST_PASSWORDS="Pw1-k3Vq9x Pw2-m8Rt4z Pw3-q5Ln7w Pw4-h2Jc6y"
export IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD="Pw0-a9Dm3s"
read -r pw1 pw2 pw3 pw4 <<<"$IMAPKEEP_TEST_PASSWORDS"
# The Dovecot master user of the worker fleet's accounts (dovecot.sh).
export IMAPKEEP_TEST_MASTER_USER=fleetmaster
export IMAPKEEP_TEST_MASTER_PASSWORD="Pw9-f4Mw8t"
export IMAPKEEP_TEST_FLEET_USERS=60

bash "$here/ca.sh" "$dir"
# The OAuth2 provider (token, device and introspection endpoints) that
# Dovecot's oauth2 passdb asks: started first, Dovecot's config names its port.
bash "$here/oauth.sh" "$dir" "$oauth_port"
emit IMAPKEEP_TEST_OAUTH_URL "https://localhost:$oauth_port"
bash "$here/dovecot.sh" "$dir" "$imap_port" "$imaps_port" "$oauth_port"
conf=$dir/dovecot.conf
emit IMAPKEEP_TEST_DOVECOT_CONF "$conf"
emit IMAPKEEP_TEST_DOVECOT_PID "$(cat "$dir/run/master.pid")"

# imap run directly on stdin/stdout, already logged in (like `ssh host imap`).
stream_command="/usr/lib/dovecot/imap -c $conf -u user1"
transcript=$(printf 'a LOGOUT\r\n' | $stream_command 2>&1) || true
if [[ $transcript != "* PREAUTH"* ]]; then
  echo "up.sh: '$stream_command' did not greet with PREAUTH: $transcript" >&2
  exit 1
fi

emit IMAPKEEP_TEST_HOST 127.0.0.1
emit IMAPKEEP_TEST_IMAP_PORT "$imap_port"
emit IMAPKEEP_TEST_IMAPS_PORT "$imaps_port"
emit IMAPKEEP_TEST_CA_FILE "$dir/ca.pem"
emit IMAPKEEP_TEST_USER user1
emit IMAPKEEP_TEST_PASSWORD "$pw1"
emit IMAPKEEP_TEST_USER2 user2
# user3 belongs to tests that back up a whole account: nothing else touches it.
emit IMAPKEEP_TEST_USER3 user3
emit IMAPKEEP_TEST_PASSWORD3 "$pw3"
# user4 belongs to the kill test (tests/integration/kill_test.cpp), for the same reason.
emit IMAPKEEP_TEST_USER4 user4
emit IMAPKEEP_TEST_PASSWORD4 "$pw4"
emit IMAPKEEP_TEST_PASSWORD2 "$pw2"
emit IMAPKEEP_TEST_PASSWORDS "$IMAPKEEP_TEST_PASSWORDS"
emit IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD "$IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD"
emit IMAPKEEP_TEST_MASTER_USER "$IMAPKEEP_TEST_MASTER_USER"
emit IMAPKEEP_TEST_MASTER_PASSWORD "$IMAPKEEP_TEST_MASTER_PASSWORD"
emit IMAPKEEP_TEST_FLEET_USERS "$IMAPKEEP_TEST_FLEET_USERS"
emit IMAPKEEP_TEST_STREAM_COMMAND "$stream_command"
emit IMAPKEEP_TEST_DOVEADM "doveadm -c $conf"

# Cyrus IMAP 3.6 beside Dovecot: the integration tests run against both.
bash "$here/cyrus.sh" "$dir" "$cyrus_port"
emit IMAPKEEP_TEST_CYRUS_PORT "$cyrus_port"
emit IMAPKEEP_TEST_CYRUS_PID "$(cat "$dir/cyrus/master.pid")"
# For tests that make what IMAP cannot (tests/integration/server_backdoors.hpp).
emit IMAPKEEP_TEST_CYRUS_CONF "$dir/cyrus/imapd.conf"

# The same servers as real installations often lay out their folders
# (tests/integration/layouts_test.cpp): a Dovecot with separator "." and the
# personal prefix "INBOX." (cPanel, Courier migrations), one with mbox files, a Cyrus with its
# classic namespace (INBOX.x) and one with "." beside INBOX (altnamespace).
# Each in its own dir and ports; the instances above stay as they are.
mkdir -p "$dir/dovecot-inbox-dot"
cp "$dir/server.pem" "$dir/server.key" "$dir/ca.pem" "$dir/dovecot-inbox-dot/"
bash "$here/dovecot.sh" "$dir/dovecot-inbox-dot" "$dotted_imap_port" "$dotted_imaps_port" "$oauth_port" inbox-dot
emit IMAPKEEP_TEST_DOVECOT_INBOX_DOT_PORT "$dotted_imap_port"
mkdir -p "$dir/dovecot-mbox"
cp "$dir/server.pem" "$dir/server.key" "$dir/ca.pem" "$dir/dovecot-mbox/"
bash "$here/dovecot.sh" "$dir/dovecot-mbox" "$mbox_imap_port" "$mbox_imaps_port" "$oauth_port" mbox
emit IMAPKEEP_TEST_DOVECOT_MBOX_PORT "$mbox_imap_port"
bash "$here/cyrus.sh" "$dir" "$cyrus_inbox_dot_port" inbox-dot
emit IMAPKEEP_TEST_CYRUS_INBOX_DOT_PORT "$cyrus_inbox_dot_port"
bash "$here/cyrus.sh" "$dir" "$cyrus_dot_port" dot
emit IMAPKEEP_TEST_CYRUS_DOT_PORT "$cyrus_dot_port"

# Ceph RGW, the S3 server of the S3 client tests (tests/s3): one monitor, one
# memstore OSD and radosgw. A fresh key pair each run; the secret is as
# distinctive as the passwords, for scripts/test.sh's leak check.
s3_access_key=IKTEST$(openssl rand -hex 7 | tr a-f A-F)
s3_secret_key=S3s-$(openssl rand -hex 16)
bash "$here/ceph.sh" "$dir" "$rgw_port" "$rgw_tls_port" "$s3_access_key" "$s3_secret_key"
emit IMAPKEEP_TEST_S3_ENDPOINT "http://127.0.0.1:$rgw_port"
# HTTPS with the certificate for "localhost" of IMAPKEEP_TEST_CA_FILE.
emit IMAPKEEP_TEST_S3_TLS_PORT "$rgw_tls_port"
emit IMAPKEEP_TEST_S3_ACCESS_KEY "$s3_access_key"
emit IMAPKEEP_TEST_S3_SECRET_KEY "$s3_secret_key"
emit IMAPKEEP_TEST_S3_BUCKET imapkeep-test

# PostgreSQL for the catalog's contract tests (tests/store/catalog_backends.hpp).
bash "$here/postgres.sh" "$dir" "$pg_port"
emit IMAPKEEP_TEST_PG_URL "postgresql://postgres@127.0.0.1:$pg_port/postgres"
emit IMAPKEEP_TEST_PG_PID "$(head -n 1 "$dir/postgres/data/postmaster.pid")"

if [ -f "$here/sshd.sh" ]; then
  # sshd.sh may use the variables above (the stream command) for its own.
  # shellcheck disable=SC1090
  source "$envfile"
  bash "$here/sshd.sh" "$dir" "$envfile"
fi
