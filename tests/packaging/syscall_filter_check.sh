#!/usr/bin/env bash
# syscall_filter_check.sh UNIT STRACE_LOG [PROGRAM...] : every system call in
# STRACE_LOG (strace -f -o, default format) passes UNIT's SystemCallFilter=
# lines, and every socket family it opened is in UNIT's RestrictAddressFamilies=.
# The filters bind imapkeep's children too (/bin/sh and a password command), so
# they are checked, except a process that executed one of PROGRAMs (and what
# it starts): stand-ins for a server, whose calls are the server's business.
# systemd applies the lines in order: the first non-~ line starts an allow
# list, a ~ line removes its calls, a later non-~ line adds again.
# Run by scripts/test.sh on a backup by the installed binary: a call the unit
# would refuse (EPERM) fails the test before a user's timer does.
set -euo pipefail

unit=${1:?usage: syscall_filter_check.sh UNIT STRACE_LOG}
trace=${2:?usage: syscall_filter_check.sh UNIT STRACE_LOG}
shift 2
ignored=" $* "
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

: >"$work/allowed"
while IFS= read -r value; do
  # shellcheck disable=SC2086
  case "$value" in
    ~*) bash "$here/syscall_groups.sh" ${value#\~} >"$work/deny"
        grep -vxF -f "$work/deny" "$work/allowed" >"$work/next" || true ;;
    *)  { cat "$work/allowed"; bash "$here/syscall_groups.sh" $value; } | sort -u >"$work/next" ;;
  esac
  mv "$work/next" "$work/allowed"
done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
if [ ! -s "$work/allowed" ]; then
  echo "syscall_filter_check.sh: $unit allows no system call (no SystemCallFilter= line?)" >&2
  exit 1
fi

# "PID name(args..." lines; "<... name resumed>" repeats a name already seen.
# A process that executes an ignored PROGRAM leaves the check after that
# execve, and so do the processes it forks (the PID a clone returns).
awk -v ignored="$ignored" '
  { pid = $1 }
  pid in foreign {
    if (match($0, /(clone|clone3|fork|vfork)[( ].* = [0-9]+$/)) foreign[$NF] = 1
    next
  }
  match($0, /^[0-9]+ +[a-z0-9_]+\(/) {
    name = substr($0, RSTART, RLENGTH - 1); sub(/^[0-9]+ +/, "", name); print name
    if (name == "socket" && match($0, /socket\(AF_[A-Z0-9]+/)) print substr($0, RSTART + 7, RLENGTH - 7)
    if (name == "execve" && match($0, /execve\("[^"]*"/)) {
      path = substr($0, RSTART + 8, RLENGTH - 9)
      if (index(ignored, " " path " ")) foreign[pid] = 1
    }
  }' "$trace" | sort -u >"$work/calls"
grep -v '^AF_' "$work/calls" >"$work/used" || true
if [ ! -s "$work/used" ]; then
  echo "syscall_filter_check.sh: no system call in $trace" >&2
  exit 1
fi
refused=$(grep -vxF -f "$work/allowed" "$work/used" || true)
if [ -n "$refused" ]; then
  echo "syscall_filter_check.sh: $unit's SystemCallFilter= refuses what imapkeep called: $(tr '\n' ' ' <<<"$refused")" >&2
  exit 1
fi

families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
while read -r family; do
  if ! grep -qw -- "$family" <<<"$families"; then
    echo "syscall_filter_check.sh: $unit's RestrictAddressFamilies= refuses $family, which imapkeep opened" >&2
    exit 1
  fi
done < <(grep '^AF_' "$work/calls" || true)
echo "ok: $(wc -l <"$work/used") system calls and the socket families imapkeep used pass the filters of $unit"
