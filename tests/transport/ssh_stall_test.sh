#!/usr/bin/env bash
# tests/transport/ssh_stall_test.sh IMAPKEEP_BIN SOURCE_DIR
#
# An SSH exec backup never sleeps with work pending. SshStream drained stderr
# after a read or write returned EAGAIN and then polled with the drain's block
# directions: a window adjust it had taken in, or one still waiting to go
# out, left both sides idle until the next keepalive (60 s). Under strace
# (which slows each system call and so widens the window), 5 of 6 backups of
# 2,000 messages stalled; fixed, each takes about a second. Needs the test
# Dovecot and sshd (scripts/test-env/up.sh) and strace.
set -euo pipefail
bin=${1:?imapkeep binary}
src=${2:?source dir}
need=(IMAPKEEP_TEST_DIR IMAPKEEP_TEST_SSH_PORT IMAPKEEP_TEST_SSH_KEY IMAPKEEP_TEST_SSH_KNOWN_HOSTS)
for v in "${need[@]}"; do
  if [ -z "${!v:-}" ]; then
    if [ -n "${IMAPKEEP_TEST_REQUIRE_SERVERS:-}" ]; then echo "FAIL: $v is not set" >&2; exit 1; fi
    echo "skipped: no test servers ($v unset)"; exit 0
  fi
done
command -v strace >/dev/null || { echo "FAIL: strace is not installed (scripts/deps.sh)" >&2; exit 1; }

box="SshStall$$"
maildir="$IMAPKEEP_TEST_DIR/mail/user4"
work=$(mktemp -d "${TMPDIR:-/tmp}/ssh-stall.XXXXXX")
cleanup() { rm -rf "$work" "$maildir/.$box"; }
trap cleanup EXIT
python3 "$src/bench/corpus.py" generate "$maildir" --layout "$box:2000" --tag stall >/dev/null

runs=4 limit=30
for i in $(seq 1 $runs); do
  cat >"$work/config$i.toml" <<TOML
[store]
path = "$work/store$i"

[[account]]
name = "stall"
user = "user4"
mailboxes = ["$box"]
[account.ssh]
host = "127.0.0.1"
port = $IMAPKEEP_TEST_SSH_PORT
user = "${IMAPKEEP_TEST_SSH_USER:-root}"
identity = "$IMAPKEEP_TEST_SSH_KEY"
known_hosts = "$IMAPKEEP_TEST_SSH_KNOWN_HOSTS"
command = "/usr/lib/dovecot/imap -c $IMAPKEEP_TEST_DIR/dovecot.conf -u user4"
TOML
  chmod 600 "$work/config$i.toml"
  start=$(date +%s)
  rc=0
  timeout -k 5 $limit strace -f -qq -o /dev/null "$bin" backup --config "$work/config$i.toml" -q \
    >"$work/out$i" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ]; then
    echo "FAIL: run $i exited $rc after ${took}s (a stall is killed after ${limit}s):" >&2
    cat "$work/out$i" >&2
    exit 1
  fi
  stored=$(find "$work/store$i/mail" -path '*/cur/*' -type f | wc -l)
  if [ "$stored" -ne 2000 ]; then
    echo "FAIL: run $i stored $stored of 2000 messages" >&2
    exit 1
  fi
  echo "run $i: 2000 messages over ssh exec under strace in ${took}s"
done
