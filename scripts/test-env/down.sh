#!/usr/bin/env bash
# down.sh ENVFILE
# Stops the servers that up.sh ENVFILE started and removes their temp dir.
# Safe to run twice, or after a failed up.sh.
set -uo pipefail

envfile=${1:?usage: down.sh ENVFILE}
[ -f "$envfile" ] || exit 0
dir=$(sed -n "s/^export IMAPKEEP_TEST_DIR='\(.*\)'$/\1/p" "$envfile")
# Never act on a dir that up.sh didn't make.
case "$dir" in
  */imapkeep-test.*) ;;
  *) exit 0 ;;
esac
[ -d "$dir" ] || exit 0

# Every server writes a pid file under the dir (Dovecot's master.pid, sshd's
# PidFile). Only a process whose command line names the dir is ours: a stale
# pid may have been reused by something else.
ours() {
  tr "\\0" " " 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$dir"
}
mapfile -t pids < <(find "$dir" -name '*.pid' -type f -exec cat {} + 2>/dev/null | grep -E '^[0-9]+$')

# Ceph's daemons (ceph.sh) take about 6 s to stop on SIGTERM and keep nothing
# worth a clean stop (memstore): SIGKILL, about 1.5 s.
for f in "$dir"/ceph/run/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] && ours "$pid" && kill -9 "$pid" 2>/dev/null
done

# PostgreSQL (postgres.sh): pg_ctl's fast stop ends the backends too; a
# SIGTERM to the postmaster alone would wait for every client to leave.
if [ -f "$dir/postgres/data/postmaster.pid" ] && [ -f "$dir/postgres.pg_ctl" ]; then
  as_postgres=()
  [ "$(id -u)" -eq 0 ] && as_postgres=(runuser -u postgres --)
  "${as_postgres[@]}" "$(cat "$dir/postgres.pg_ctl")" -D "$dir/postgres/data" -m fast -w -t 10 \
    stop >/dev/null 2>&1
fi

# Dovecot's own stop also ends its children (logins, imap, auth).
for conf in "$dir/dovecot.conf" "$dir"/dovecot-*/dovecot.conf; do
  [ -f "$conf" ] && doveadm -c "$conf" stop >/dev/null 2>&1
done
for pid in "${pids[@]}"; do
  ours "$pid" && kill "$pid" 2>/dev/null
done
for pid in "${pids[@]}"; do
  for _ in $(seq 50); do
    ours "$pid" || break
    sleep 0.1
  done
  ours "$pid" && kill -9 "$pid" 2>/dev/null
done

rm -rf "$dir"
exit 0
