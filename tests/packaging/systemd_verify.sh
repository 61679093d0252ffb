#!/usr/bin/env bash
# systemd_verify.sh UNIT_DIR : `systemd-analyze verify` passes, silently, on
# the system units UNIT_DIR/imapkeep-backup@.{service,timer} and the user
# units UNIT_DIR/user/imapkeep-backup@.{service,timer} (packaging/systemd).
#
# No systemd runs here (a container, CI), so verify gets what it needs by hand:
# - system units: --root=ROOT, a tree with systemd's own units (verify loads
#   sysinit.target & co. from it) and a stub /usr/bin/imapkeep, since verify
#   requires ExecStart's program to be executable;
# - user units: verify --user cannot take --root, so they are checked in a copy
#   whose ExecStart points at the stub, with an XDG_RUNTIME_DIR of their own.
# verify exits 0 on an unknown key or a value it cannot parse ("ignoring"), so
# any line it prints fails the test. A unit with an unknown key must fail, or
# this test proves nothing: checked first.
set -euo pipefail

units=${1:?usage: systemd_verify.sh UNIT_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/root
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd" "$work/user" "$work/runtime"
chmod 700 "$work/runtime"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/imapkeep"
chmod 755 "$root/usr/bin/imapkeep"

# verify_system FILE... : verify inside ROOT, each FILE installed there.
verify_system() {
  local f paths=()
  for f in "$@"; do
    cp "$f" "$root/usr/lib/systemd/system/"
    paths+=("$root/usr/lib/systemd/system/$(basename "$f")")
  done
  systemd-analyze verify --man=no --root="$root" "${paths[@]}"
}

# verify_user FILE... : verify --user, ExecStart's /usr/bin/imapkeep -> the stub.
verify_user() {
  local f paths=()
  for f in "$@"; do
    sed "s|^ExecStart=/usr/bin/imapkeep |ExecStart=$root/usr/bin/imapkeep |" "$f" >"$work/user/$(basename "$f")"
    paths+=("$work/user/$(basename "$f")")
  done
  XDG_RUNTIME_DIR=$work/runtime systemd-analyze --user verify --man=no "${paths[@]}"
}

# check KIND FILE... : verify_KIND passes and prints nothing.
check() {
  local kind=$1 out rc=0
  shift
  out=$("verify_$kind" "$@" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "systemd-analyze verify ($kind units) failed (exit $rc):" >&2
    echo "$out" >&2
    return 1
  fi
  echo "ok: $kind units $(basename -a "$@" | tr '\n' ' ')"
}

bad=$work/bad/imapkeep-backup@.service
mkdir -p "$(dirname "$bad")"
sed 's/^\[Service\]$/[Service]\nNoSuchKey=1/' "$units/imapkeep-backup@.service" >"$bad"
if check system "$bad" >/dev/null 2>&1; then
  echo "systemd_verify.sh: a unit with an unknown key passed: the check is broken" >&2
  exit 1
fi
rm "$root/usr/lib/systemd/system/imapkeep-backup@.service"

check system "$units/imapkeep-backup@.service" "$units/imapkeep-backup@.timer"
check system "$units/imapkeep-worker@.service"
check user "$units/user/imapkeep-backup@.service" "$units/user/imapkeep-backup@.timer"
