#!/usr/bin/env bash
# syscall_groups.sh NAME_OR_@GROUP... : the system calls systemd's
# SystemCallFilter= means by them, one per line, groups expanded recursively
# (systemd-analyze syscall-filter lists a group's members, groups included).
set -euo pipefail

expand() {
  local item
  for item in "$@"; do
    case "$item" in
      @*)
        # Members are the indented lines; '#' lines are the group's comment.
        # shellcheck disable=SC2046
        expand $(systemd-analyze syscall-filter --no-pager "$item" |
                 sed -n 's/^ \{4\}\([@a-z0-9_-]\+\)$/\1/p')
        ;;
      *) echo "$item" ;;
    esac
  done
}
expand "$@" | sort -u
