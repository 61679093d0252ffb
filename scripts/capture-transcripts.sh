#!/usr/bin/env bash
# scripts/capture-transcripts.sh [BUILD_DIR]
# Re-captures the real-server seeds of the fuzz corpora: starts the test
# servers (scripts/test-env/up.sh: Dovecot and Cyrus), shapes one account on
# each (seed.sh, scripts/capture/mailboxes.py), and runs BUILD_DIR/imapkeep
# backup (default build/) through a logging proxy (scripts/capture/transcript.py):
# for each sync path (best, condstore, plain) a first backup, a day's changes
# on the server, and a second backup. Writes
#   fuzz/corpus/sync/SERVER_PATH                both runs, fuzz_sync's format
#   fuzz/corpus/{framer,response}/SERVER_*      the distinct replies
#   fuzz/corpus/*/quirk_*                       replies rewritten as quirky servers send them
# No test password reaches the corpus (transcript.py checks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=$(realpath "${1:-build}")/imapkeep
[ -x "$bin" ] || { echo "capture-transcripts.sh: build $bin first" >&2; exit 1; }
tool=scripts/capture/transcript.py

work=$(mktemp -d)
envfile=$work/env
proxy_pid=
finish() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  bash scripts/test-env/down.sh "$envfile" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap finish EXIT
bash scripts/test-env/up.sh "$envfile"
# shellcheck disable=SC1090
source "$envfile"
user=$IMAPKEEP_TEST_USER2
export CAPTURE_PASSWORD=$IMAPKEEP_TEST_PASSWORD2
secrets=()
for pw in "$IMAPKEEP_TEST_PASSWORD" "$IMAPKEEP_TEST_PASSWORD2" "$IMAPKEEP_TEST_PASSWORD3" \
  "$IMAPKEEP_TEST_PASSWORD4"; do
  secrets+=(--secret "$pw")
done
printf '%s' "$CAPTURE_PASSWORD" >"$work/password"
chmod 600 "$work/password"

bash scripts/test-env/seed.sh "$envfile" "$user" 4
python3 scripts/capture/mailboxes.py setup "$IMAPKEEP_TEST_IMAP_PORT" "$user"
python3 scripts/capture/mailboxes.py setup "$IMAPKEEP_TEST_CYRUS_PORT" "$user" --inbox 4

# backup SERVER_PORT STORE SYNC_PATH CAPTURE_DIR: one backup through the proxy.
backup() {
  local port=$1 store=$2 path=$3 out=$4
  coproc PROXY { exec python3 "$tool" proxy --upstream "127.0.0.1:$port" --out "$out"; }
  proxy_pid=$PROXY_PID
  local line
  read -r line <&"${PROXY[0]}"
  local sync_path=""
  [ "$path" != best ] && sync_path="sync_path = \"$path\""
  cat >"$work/config.toml" <<TOML
[store]
path = "$store"
[[account]]
name = "capture"
host = "127.0.0.1"
port = ${line#PORT }
tls = "none"
allow_plaintext_auth = true
user = "$user"
password_file = "$work/password"
connections = 1
$sync_path
TOML
  "$bin" backup --config "$work/config.toml" >"$out.log" 2>&1 || {
    cat "$out.log" >&2
    exit 1
  }
  kill "$proxy_pid"
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
}

# fuzz_sync's knob byte: bits 0-1 pick the sync path the capture forced.
declare -A knob=([best]=@ [condstore]=B [plain]=C)
# A capture replaces the last one whole.
rm -f fuzz/corpus/{framer,response}/{dovecot,cyrus,quirk}_* fuzz/corpus/sync/{dovecot,cyrus,quirk}_*
round=0
for server in dovecot cyrus; do
  port=$IMAPKEEP_TEST_IMAP_PORT
  [ $server = cyrus ] && port=$IMAPKEEP_TEST_CYRUS_PORT
  for path in best condstore plain; do
    round=$((round + 1))
    store=$work/$server-$path
    backup "$port" "$store" "$path" "$work/$server-$path-1"
    python3 scripts/capture/mailboxes.py change "$port" "$user" "$round"
    backup "$port" "$store" "$path" "$work/$server-$path-2"
    python3 "$tool" sync "fuzz/corpus/sync/${server}_$path" "${knob[$path]}" \
      "$work/$server-$path-1" "$work/$server-$path-2" "${secrets[@]}"
  done
  python3 "$tool" responses "$server" "$work/$server"-*-[12] \
    --framer-dir fuzz/corpus/framer --response-dir fuzz/corpus/response "${secrets[@]}"
done
python3 scripts/capture/quirks.py fuzz/corpus
echo "capture-transcripts.sh: corpora written under fuzz/corpus/"
