#!/usr/bin/env bash
# The README's first command: sudo bash scripts/demo.sh [CONFIG]
#
# Installs missing Debian packages and builds imapkeep. Then:
# - with CONFIG: runs `imapkeep backup --config CONFIG -v` (your real backup);
# - without: starts a throwaway Dovecot on 127.0.0.1 with sample mail in a few
#   mailboxes (flags and keywords included), backs it up with imapkeep over
#   implicit TLS into ./demo-backup (or $IMAPKEEP_DEMO_DIR), changes the server,
#   backs up again (only the change travels), prints `imapkeep status`, and
#   says where the backup went. The Dovecot is stopped; the backup is kept,
#   and the closing hints are commands that work on it without the server
#   (tests/cli/demo_test.sh runs each of them).
# IMAPKEEP_DEMO_BIN=PATH uses that imapkeep binary and skips installing and
# building (for that test).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

if [ -n "${IMAPKEEP_DEMO_BIN:-}" ]; then
  bin=$IMAPKEEP_DEMO_BIN
else
  bash scripts/deps.sh
  echo "== building (build/)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 --target imapkeep_cli
  bin=$root/build/imapkeep
fi

if [ $# -ge 1 ]; then
  exec "$bin" backup --config "$1" -v
fi

out=${IMAPKEEP_DEMO_DIR:-$root/demo-backup}
# Each demo Dovecot is new (new UIDVALIDITYs), so each demo starts a new store.
rm -rf "$out/store"
mkdir -p "$out"
chmod 700 "$out"
work=$(mktemp -d)
trap 'bash scripts/test-env/down.sh "$work/env" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "== starting a throwaway Dovecot on 127.0.0.1"
bash scripts/test-env/up.sh "$work/env" >"$work/up.log" 2>&1 </dev/null || { cat "$work/up.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/env"
bash scripts/test-env/seed.sh "$work/env" user1 5
python3 - "$IMAPKEEP_TEST_HOST" "$IMAPKEEP_TEST_IMAP_PORT" <<'PY'
import imaplib, os, sys
M = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
M.login("user1", os.environ["IMAPKEEP_TEST_PASSWORD"])
def ok(result):
    typ, data = result
    if typ != "OK":
        sys.exit(f"demo: seeding the server failed: {data}")
for box in ("Archive", "Archive/2024", "Projects"):
    ok(M.create(box))
for i in range(1, 9):
    box = ("Archive", "Archive/2024", "Projects")[i % 3]
    msg = (f"From: Bob <bob@example.org>\r\nTo: user1@example.org\r\n"
           f"Subject: {box} note {i}\r\nMessage-ID: <demo-{i}@imapkeep.test>\r\n\r\n"
           f"Note {i} filed in {box}.\r\n").encode()
    ok(M.append(box, "(\\Seen $Work)" if i % 2 else "(\\Flagged)", None, msg))
M.select("INBOX")
M.store("1:2", "+FLAGS", "(\\Seen)")
M.logout()
PY

config=$out/config.toml
cat >"$config" <<TOML
# Written by scripts/demo.sh for a throwaway Dovecot; see config.example.toml.
[store]
path = "$out/store"

[[account]]
name = "demo"
host = "localhost"
port = $IMAPKEEP_TEST_IMAPS_PORT
tls = "implicit"
ca_file = "$IMAPKEEP_TEST_CA_FILE"
user = "user1"
password = "$IMAPKEEP_TEST_PASSWORD"
mailboxes = ["*"]
exclude = ["Junk", "Trash"]
TOML
chmod 600 "$config"

echo
echo "== imapkeep backup --config $config -v"
"$bin" backup --config "$config" -v

echo
echo "== the server changes: a flag, an expunge, a new message"
python3 - "$IMAPKEEP_TEST_HOST" "$IMAPKEEP_TEST_IMAP_PORT" <<'PY'
import imaplib, os, sys
M = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
M.login("user1", os.environ["IMAPKEEP_TEST_PASSWORD"])
M.select("INBOX")
M.store("3", "+FLAGS", "(\\Answered)")
M.store("5", "+FLAGS", "(\\Deleted)")
M.expunge()
M.append("Projects", "()", None, b"Subject: late arrival\r\nMessage-ID: <late@imapkeep.test>\r\n\r\nNew.\r\n")
M.logout()
PY
echo "== imapkeep backup again (only what changed travels)"
"$bin" backup --config "$config" -v

echo
echo "== imapkeep status"
"$bin" status --config "$config"

echo
echo "The backup went to $out/store:"
echo "  $out/store/catalog.sqlite      the catalog (messages, flags history, runs)"
echo "  $out/store/mail/demo/          a Maildir++ tree (mutt -f, notmuch, Dovecot can open it)"
echo "  $out/store/attic/demo/         messages the server expunged since"
echo
# Read after the demo exited and stopped its Dovecot: every hint works on the store alone.
echo "Look around (the demo server is gone; these read the backup only):"
echo "  \$ $bin status --config $config"
echo "  \$ $bin verify --config $config"
echo "  \$ $bin export --config $config --account demo --format mbox --output $out/export"
echo "  \$ mutt -R -f $out/store/mail/demo"
echo "Back up your own mail: sudo bash scripts/demo.sh YOUR-CONFIG (see README, Backing up)"
