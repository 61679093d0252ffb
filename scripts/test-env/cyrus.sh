#!/usr/bin/env bash
# cyrus.sh DIR PORT [LAYOUT]
# Starts a throwaway Cyrus IMAP 3.6 on 127.0.0.1:PORT with everything under
# DIR/cyrus (DIR/cyrus-LAYOUT for another LAYOUT): imapd.conf, cyrus.conf, a sasldb with user1..user4 and the admin "cyrus"
# (passwords: $IMAPKEEP_TEST_PASSWORDS, $IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD from up.sh), then creates each user's INBOX and waits for
# the greeting. The master writes DIR/cyrus/master.pid (down.sh stops it).
#
# Debian's cyrus-imapd and dovecot-imapd conflict (both provide imap-server),
# so the imapd binary comes unpacked from the .deb (scripts/deps.sh puts it in
# $IMAPKEEP_CYRUS_ROOT) while the master and tools come from cyrus-common.
#
# LAYOUT: "unix" (default: unixhierarchysep, separator "/", altnamespace as
# 3.x defaults it: folders beside INBOX), "inbox-dot" (Cyrus's classic
# namespace: separator ".", every personal folder INBOX.x) or "dot"
# (separator "." with altnamespace: folders beside INBOX).
set -euo pipefail

dir=${1:?usage: cyrus.sh DIR PORT}
port=${2:?usage: cyrus.sh DIR PORT}
layout=${3:-unix}
root=${IMAPKEEP_CYRUS_ROOT:-/var/cache/imapkeep-test/cyrus-imapd}
case "$layout" in
  unix) c=$dir/cyrus hierarchy="unixhierarchysep: yes" sep=/ ;;
  inbox-dot) c=$dir/cyrus-$layout hierarchy=$'unixhierarchysep: no\naltnamespace: no' sep=. ;;
  dot) c=$dir/cyrus-$layout hierarchy=$'unixhierarchysep: no\naltnamespace: yes' sep=. ;;
  *) echo "cyrus.sh: unknown LAYOUT '$layout' (unix, inbox-dot, dot)" >&2; exit 2 ;;
esac
imapd=$root/usr/lib/cyrus/bin/imapd
master=/usr/lib/cyrus/bin/master

for f in "$imapd" "$master" /usr/sbin/saslpasswd2; do
  if [ ! -x "$f" ]; then
    echo "cyrus.sh: $f is missing (run scripts/deps.sh as root)" >&2
    exit 1
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "cyrus.sh: must run as root (the master switches to the cyrus user)" >&2
  exit 1
fi

mkdir -p "$c/lib" "$c/spool" "$c/run" "$c/socket"
chmod 755 "$dir"

cat >"$c/imapd.conf" <<EOF
configdirectory: $c/lib
defaultpartition: default
partition-default: $c/spool
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $c/sasldb2
sasl_mech_list: PLAIN LOGIN
$hierarchy
lmtpsocket: $c/socket/lmtp
idlesocket: $c/socket/idle
notifysocket: $c/socket/notify
mboxname_lockpath: $c/lib/lock
proc_path: $c/run/proc
syslog_prefix: imapkeep-test-cyrus
tls_server_cert: $dir/server.pem
tls_server_key: $dir/server.key
EOF

cat >"$c/cyrus.conf" <<EOF
START {
  recover cmd="/usr/sbin/cyrus ctl_cyrusdb -r -C $c/imapd.conf"
}
SERVICES {
  imap cmd="$imapd -C $c/imapd.conf" listen="127.0.0.1:$port" prefork=0
}
EVENTS {
}
DAEMON {
}
EOF

read -ra passwords <<<"${IMAPKEEP_TEST_PASSWORDS:?set by up.sh: four passwords}"
admin_password=${IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD:?set by up.sh}
echo "$admin_password" | saslpasswd2 -c -p -f "$c/sasldb2" cyrus
for n in 1 2 3 4; do
  echo "${passwords[n - 1]}" | saslpasswd2 -c -p -f "$c/sasldb2" "user$n"
done
# The master runs as cyrus and must read the TLS key too.
cp "$dir/server.key" "$c/server.key" 2>/dev/null || true
chown -R cyrus:mail "$c"
sed -i "s|^tls_server_key: .*|tls_server_key: $c/server.key|" "$c/imapd.conf"

"$master" -M "$c/cyrus.conf" -C "$c/imapd.conf" -p "$c/master.pid" -d

# Wait for the greeting, then create the users' mailboxes as the admin.
python3 - "$port" "$sep" <<'PY'
import imaplib, os, sys, time
port, sep = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 15
while True:
    try:
        admin = imaplib.IMAP4("127.0.0.1", port)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("cyrus.sh: Cyrus did not answer on 127.0.0.1:%d" % port)
        time.sleep(0.1)
admin.login("cyrus", os.environ["IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD"])
for n in range(1, 5):
    typ, data = admin.create("user%suser%d" % (sep, n))
    if typ != "OK":
        sys.exit("cyrus.sh: CREATE user%suser%d: %r" % (sep, n, data))
admin.logout()
PY
