#!/usr/bin/env bash
# The man pages of packaging/man/ format without a warning and have a NAME
# line that mandb indexes:  tests/cli/man_lint.sh SOURCE_DIR
# (groff-base and man-db, from scripts/deps.sh; missing ones fail.)
set -uo pipefail
failures=0
for page in "$1"/packaging/man/*.[1-9]; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || { echo "FAIL: groff cannot format $page" >&2; failures=$((failures + 1)); }
  if [ -n "$warnings" ]; then
    echo "FAIL: groff warns about $page:" >&2
    printf '%s\n' "$warnings" >&2
    failures=$((failures + 1))
  fi
  name=$(basename "$page")
  name=${name%.*}
  if ! lexgrog "$page" | grep -q ": \"$name - "; then
    echo "FAIL: lexgrog finds no NAME line for $name in $page" >&2
    failures=$((failures + 1))
  fi
done
[ "$failures" -eq 0 ] || exit 1
echo "man_lint: all passed"
