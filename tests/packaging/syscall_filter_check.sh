#!/usr/bin/env bash
# syscall_filter_check.sh UNIT STRACE_LOG : every system call in STRACE_LOG
# (strace -f -o, default format) passes UNIT's SystemCallFilter= lines, and
# every socket family it opened is in UNIT's RestrictAddressFamilies=.
# systemd applies the lines in order: the first non-~ line starts an allow
# list, a ~ line removes its calls, a later non-~ line adds again.
# Run by scripts/test.sh on a backup by the installed binary: a call the unit
# would refuse (EPERM) fails the test before a user's timer does.
set -euo pipefail

unit=${1:?usage: syscall_filter_check.sh UNIT STRACE_LOG}
trace=${2:?usage: syscall_filter_check.sh UNIT STRACE_LOG}
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
sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$trace" | sort -u >"$work/used"
if [ ! -s "$work/used" ]; then
  echo "syscall_filter_check.sh: no system call in $trace" >&2
  exit 1
fi
refused=$(grep -vxF -f "$work/allowed" "$work/used" || true)
if [ -n "$refused" ]; then
  echo "syscall_filter_check.sh: $unit's SystemCallFilter= refuses what imapkeep called:" $refused >&2
  exit 1
fi

families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
for family in $(grep -oE 'socket\(AF_[A-Z0-9]+' "$trace" | sed 's/socket(//' | sort -u); do
  if ! grep -qw -- "$family" <<<"$families"; then
    echo "syscall_filter_check.sh: $unit's RestrictAddressFamilies= refuses $family, which imapkeep opened" >&2
    exit 1
  fi
done
echo "ok: $(wc -l <"$work/used") system calls and the socket families imapkeep used pass the filters of $unit"
