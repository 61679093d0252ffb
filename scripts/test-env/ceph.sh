#!/usr/bin/env bash
# ceph.sh DIR RGW_PORT TLS_PORT ACCESS_KEY SECRET_KEY
# Starts a throwaway one-node Ceph with an S3 endpoint on loopback, everything
# under DIR/ceph: one monitor, one OSD on memstore (RAM only), no mgr, the seven
# pools radosgw uses (created here: radosgw making its own takes seconds more),
# and radosgw serving S3 (beast) for one user with the given keys, over HTTP on
# 127.0.0.1:RGW_PORT and over HTTPS on 127.0.0.1:TLS_PORT with the test CA's
# "localhost" certificate (DIR/server.pem and DIR/server.key from ca.sh). Each daemon writes DIR/ceph/run/NAME.pid; down.sh SIGKILLs them
# (SIGTERM takes about 6 s, and memstore holds nothing worth a clean stop).
# Facts and pitfalls: ../shared/reference/scale-out.md ("S3: Ceph radosgw").
set -euo pipefail

usage="usage: ceph.sh DIR RGW_PORT TLS_PORT ACCESS_KEY SECRET_KEY"
dir=${1:?$usage}
rgw_port=${2:?$usage}
tls_port=${3:?$usage}
access_key=${4:?$usage}
secret_key=${5:?$usage}
for f in "$dir/server.pem" "$dir/server.key"; do
  [ -s "$f" ] || { echo "ceph.sh: $f is missing (scripts/test-env/ca.sh makes it)" >&2; exit 1; }
done

for tool in ceph ceph-authtool monmaptool ceph-mon ceph-osd radosgw radosgw-admin; do
  if ! command -v "$tool" >/dev/null; then
    echo "ceph.sh: $tool is missing (run scripts/deps.sh as root)" >&2
    exit 1
  fi
done

c=$dir/ceph
mkdir -p "$c/mon/a" "$c/osd/0" "$c/run" "$c/log" "$c/rgw"
conf=$c/ceph.conf
mon_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)

# v2 addresses everywhere: a v1 monmap entry under a v2 "mon host" hangs the CLI.
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
# Without it the OSD also listens on 0.0.0.0.
cluster addr = 127.0.0.1
ms bind ipv6 = false
keyring = $c/keyring
run dir = $c/run
pid file = $c/run/\$name.pid
admin socket = $c/run/\$name.asok
log file = $c/log/\$name.log
mon data = $c/mon/\$id
osd data = $c/osd/\$id
osd objectstore = memstore
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
paxos propose interval = 0.05

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port ssl_endpoint=127.0.0.1:$tls_port ssl_certificate=$dir/server.pem ssl_private_key=$dir/server.key tcp_nodelay=1
rgw data = $c/rgw
EOF

# cephx stays on (without it the OSD died with "wrong fsid"): one keyring holds
# every key, and the monitor imports it at mkfs.
keyring=$c/keyring
ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$keyring" --gen-key -n osd.0 \
  --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
ceph-authtool "$keyring" --gen-key -n client.rgw \
  --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null

# Daemons print harmless notes at start ("Falling back to public interface"):
# kept in a log, shown only when a start fails.
start_log=$c/log/start.log
start() {
  "$@" >>"$start_log" 2>&1 || {
    echo "ceph.sh: '$*' failed:" >&2
    cat "$start_log" >&2
    exit 1
  }
}

monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$c/monmap" >/dev/null
start ceph-mon -c "$conf" --mkfs -i a --monmap "$c/monmap" --keyring "$keyring"
start ceph-mon -c "$conf" -i a

cli() { ceph -c "$conf" --connect-timeout 30 "$@"; }

osd_id=$(cli osd new "$osd_uuid")
if [ "$osd_id" != 0 ]; then
  echo "ceph.sh: 'ceph osd new' gave OSD id '$osd_id', not 0" >&2
  exit 1
fi
start ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid"
start ceph-osd -c "$conf" -i 0

# One CLI session for the 14 commands: each separate `ceph` costs a
# Python start and a monitor handshake.
pools=(.rgw.root default.rgw.log default.rgw.control default.rgw.meta
  default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)
pool_log=$c/log/pools.log
for p in "${pools[@]}"; do
  echo "osd pool create $p 8 8"
  echo "osd pool application enable $p rgw"
done | cli >"$pool_log" 2>&1
if grep -qiE 'error|invalid' "$pool_log"; then
  echo "ceph.sh: creating the rgw pools failed:" >&2
  cat "$pool_log" >&2
  exit 1
fi

start radosgw -c "$conf" -n client.rgw
radosgw-admin -c "$conf" user create --uid=imapkeep-test --display-name="imapkeep test" \
  --access-key="$access_key" --secret="$secret_key" >/dev/null

# Ready when beast accepts connections on both ports.
for _ in $(seq 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$rgw_port") 2>/dev/null &&
    (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null; then
    exit 0
  fi
  sleep 0.1
done
echo "ceph.sh: radosgw did not listen on 127.0.0.1:$rgw_port and $tls_port within 30 s" \
  "(see $c/log/client.rgw.log)" >&2
exit 1
