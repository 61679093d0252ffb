#!/usr/bin/env bash
# The demo's closing hints work after the demo has stopped its server (issue 11:
# "Run it again with: ..." failed because the demo server was already gone).
# Runs scripts/demo.sh with the built binary into a temp dir, then every
# "  $ imapkeep ..." hint it printed, each of which must exit 0; a "mutt -R -f DIR"
# hint must name a Maildir.
#   demo_test.sh IMAPKEEP_BINARY SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"

IMAPKEEP_DEMO_BIN=$bin IMAPKEEP_DEMO_DIR=$dir/demo bash "$src/scripts/demo.sh" >"$dir/out" 2>&1 || {
  cat "$dir/out"
  echo "FAIL: scripts/demo.sh exited non-zero"
  exit 1
}

mapfile -t hints < <(sed -n 's/^  \$ //p' "$dir/out")
if [ "${#hints[@]}" -lt 3 ]; then
  cat "$dir/out"
  echo "FAIL: expected at least 3 closing hints (\"  \$ command\"), found ${#hints[@]}"
  exit 1
fi

failed=0
for hint in "${hints[@]}"; do
  read -r -a words <<<"$hint"
  case "${words[0]}" in
    "$bin")
      rc=0
      "${words[@]}" >"$dir/hint.out" 2>&1 || rc=$?
      if [ "$rc" -ne 0 ]; then
        echo "FAIL: hint exited $rc: $hint"
        cat "$dir/hint.out"
        failed=1
      else
        echo "ok: $hint"
      fi
      ;;
    mutt)
      maildir=${words[-1]}
      if [ -d "$maildir/cur" ] && [ -d "$maildir/new" ] && [ -d "$maildir/tmp" ]; then
        echo "ok: $hint (a Maildir)"
      else
        echo "FAIL: $hint: $maildir is not a Maildir"
        failed=1
      fi
      ;;
    *)
      echo "FAIL: a hint this test does not know how to check: $hint"
      failed=1
      ;;
  esac
done
exit "$failed"
