#!/usr/bin/env bash
# bench/run.sh [MESSAGES]
# Backs up one generated mailbox from a throwaway loopback Dovecot with
# imapkeep, mbsync (isync) and offlineimap3, in one run, and prints each tool's
# wall time and the ratio to imapkeep for: the first full download, a no-op
# re-run, and a re-run after 1% of flags changed. Also imapkeep over SSH exec
# against plain TCP. Ratios, not pass/fail: timings depend on the machine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
count=${1:-2000}

bash "$root/scripts/deps.sh"
command -v mbsync >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q isync >/dev/null
command -v offlineimap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q offlineimap3 >/dev/null
cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIMAPKEEP_TESTS=OFF >/dev/null
cmake --build "$root/build-bench" --target imapkeep_cli -j2 >/dev/null
bin="$root/build-bench/imapkeep"

work=$(mktemp -d)
envfile=$work/env.sh
trap 'bash "$root/scripts/test-env/down.sh" "$envfile" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bash "$root/scripts/test-env/up.sh" "$envfile" >/dev/null 2>&1 </dev/null
# shellcheck disable=SC1090
source "$envfile"
H=$IMAPKEEP_TEST_HOST P=$IMAPKEEP_TEST_IMAP_PORT U=$IMAPKEEP_TEST_USER2 W=$IMAPKEEP_TEST_PASSWORD2
python3 "$here/seed.py" "$H" "$P" "$U" "$W" Bench "$count"

cat >"$work/imapkeep.toml" <<TOML
[store]
path = "$work/ik"
[[account]]
name = "bench"
host = "$H"
port = $P
tls = "none"
user = "$U"
password = "$W"
allow_plaintext_auth = true
mailboxes = ["Bench"]
TOML
cat >"$work/imapkeep-ssh.toml" <<TOML
[store]
path = "$work/iks"
[[account]]
name = "bench"
user = "$U"
mailboxes = ["Bench"]
[account.ssh]
host = "$H"
port = $IMAPKEEP_TEST_SSH_PORT
user = "$IMAPKEEP_TEST_SSH_USER"
identity = "$IMAPKEEP_TEST_SSH_KEY"
known_hosts = "$IMAPKEEP_TEST_SSH_KNOWN_HOSTS"
command = "${IMAPKEEP_TEST_STREAM_COMMAND/user1/$U}"
TOML
chmod 600 "$work"/*.toml

mkdir -p "$work/mb"
cat >"$work/mbsyncrc" <<RC
IMAPAccount bench
Host $H
Port $P
User $U
Pass $W
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path $work/mb/
Inbox $work/mb/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns Bench
Create Near
Sync Pull
SyncState *
RC

mkdir -p "$work/oli"
cat >"$work/offlineimaprc" <<RC
[general]
accounts = bench
metadata = $work/oli/meta
[Account bench]
localrepository = local
remoterepository = remote
[Repository local]
type = Maildir
localfolders = $work/oli/mail
[Repository remote]
type = IMAP
remotehost = $H
remoteport = $P
remoteuser = $U
remotepass = $W
ssl = no
starttls = no
readonly = True
folderfilter = lambda f: f == 'Bench'
RC

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "  (exit $? from $1)" >&2; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
flip_flags() {
  python3 - "$H" "$P" "$U" "$W" "$count" "$1" <<'PY'
import imaplib, sys
h, p, u, w, n, op = sys.argv[1:7]
M = imaplib.IMAP4(h, int(p)); M.login(u, w); M.select("Bench")
for i in range(1, int(n) + 1, 100):
    M.store(str(i), op, "(\\Flagged)")
M.logout()
PY
}
fresh() {  # forget every local copy
  rm -rf "$work/ik" "$work/iks" "$work/mb" "$work/oli"
  mkdir -p "$work/mb" "$work/oli"
  sync  # the deletions' writeback must not land on whichever tool fsyncs first
}
run_tool() {
  case $1 in
    imapkeep) t "$bin" backup --config "$work/imapkeep.toml" -q ;;
    imapkeep-ssh) t "$bin" backup --config "$work/imapkeep-ssh.toml" -q ;;
    mbsync) t mbsync -c "$work/mbsyncrc" bench ;;
    offlineimap) t offlineimap -c "$work/offlineimaprc" -u quiet ;;
  esac
}

# Each figure is the median of $rounds rounds, each from a fresh local copy,
# so one slow moment of a shared machine does not decide a ratio.
rounds=${ROUNDS:-3}
declare -A first noop flags
tools=(imapkeep mbsync offlineimap imapkeep-ssh)
declare -A f n g
for tool in "${tools[@]}"; do f[$tool]=""; n[$tool]=""; g[$tool]=""; done
for round in $(seq "$rounds"); do
  fresh
  # Rotate the order so no tool always runs first.
  tools=("${tools[@]:1}" "${tools[0]}")
  for tool in "${tools[@]}"; do f[$tool]+=" $(run_tool "$tool")"; sync; done
  for tool in "${tools[@]}"; do n[$tool]+=" $(run_tool "$tool")"; done
  flip_flags $([ $((round % 2)) = 1 ] && echo +FLAGS || echo -FLAGS)
  for tool in "${tools[@]}"; do g[$tool]+=" $(run_tool "$tool")"; done
done
for tool in "${tools[@]}"; do
  # shellcheck disable=SC2086
  first[$tool]=$(median ${f[$tool]}); noop[$tool]=$(median ${n[$tool]}); flags[$tool]=$(median ${g[$tool]})
done
ssh_first=${first[imapkeep-ssh]}
bytes=$(du -sb "$work/ik/mail" | cut -f1)

printf '\n%s messages, %s MB stored, median of %s rounds\n' "$count" "$((bytes / 1000000))" "$rounds"
printf '%-12s %12s %12s %14s\n' tool "first (s)" "no-op (s)" "1% flags (s)"
for tool in imapkeep mbsync offlineimap; do
  printf '%-12s %12.2f %12.2f %14.2f\n' "$tool" "${first[$tool]}" "${noop[$tool]}" "${flags[$tool]}"
done
printf '\nratio to imapkeep (higher = imapkeep faster)\n'
for tool in mbsync offlineimap; do
  printf '%-12s %12.2f %12.2f %14.2f\n' "$tool" \
    "$(echo "${first[$tool]} / ${first[imapkeep]}" | bc -l)" \
    "$(echo "${noop[$tool]} / ${noop[imapkeep]}" | bc -l)" \
    "$(echo "${flags[$tool]} / ${flags[imapkeep]}" | bc -l)"
done
printf '\nimapkeep first backup over ssh exec: %.2f s (tcp %.2f s, ratio %.2f)\n' \
  "$ssh_first" "${first[imapkeep]}" "$(echo "$ssh_first / ${first[imapkeep]}" | bc -l)"
