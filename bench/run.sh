#!/usr/bin/env bash
# bench/run.sh [--large] [--rounds N] [--messages N] [--scenarios LIST] [--out DIR] [--huge-mb N]
#
# The benchmark of issue 10, in one command (run as root on Debian 12):
# installs what is missing (scripts/deps.sh, then isync and gnuplot-nox),
# builds imapkeep and the bench tools in Release into build-bench/, starts a
# private Dovecot and sshd on loopback (scripts/test-env/up.sh), writes the
# deterministic corpus straight into its Maildir, runs the scenarios
# (bench/bench.py) and stops every server it started, also on failure or ^C.
#   --messages N     size of the main corpus (default 20000)
#   --large          200000 messages (unless --messages says otherwise)
#   --rounds N       rounds per scenario, each participant once per round (default 3)
#   --scenarios LIST comma-separated scenario numbers, 1-9 (default all)
#   --out DIR        where <time>.csv, <time>-samples.csv and <time>.png go
#                    (default bench/results/, ignored by git)
#   --huge-mb N      size of scenario 8's single message (default 200)
# Exit status: 0 when every run succeeded (targets missed or not), 1 when a
# run failed (each failure is printed with its command and output).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

messages="" rounds=3 scenarios=1,2,3,4,5,6,7,8,9 out="$here/results" huge_mb=200 large=0
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --large) large=1 ;;
    --messages) messages=${2:?--messages N}; shift ;;
    --rounds) rounds=${2:?--rounds N}; shift ;;
    --scenarios) scenarios=${2:?--scenarios LIST}; shift ;;
    --out) out=${2:?--out DIR}; shift ;;
    --huge-mb) huge_mb=${2:?--huge-mb N}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
if [ -z "$messages" ]; then
  if [ "$large" = 1 ]; then messages=200000; else messages=20000; fi
fi
for n in "$messages" "$rounds" "$huge_mb"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: not a positive number: $n" >&2; exit 2; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Packages: the project's own, then the bench's peers and plotter.
bash "$root/scripts/deps.sh"
missing=()
for p in isync gnuplot-nox time python3; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "run.sh: building imapkeep and the bench tools (Release, build-bench/)"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DIMAPKEEP_TESTS=OFF -DIMAPKEEP_BENCH=ON "${launcher[@]}" >/dev/null
cmake --build "$root/build-bench" -j2 --target imapkeep_cli bench_tools >/dev/null

# Everything measured lives on one file system: the server's Maildir, the
# stores and the write floor's files are all under TMPDIR.
work=$(mktemp -d "${TMPDIR:-/tmp}/imapkeep-bench.XXXXXX")
envfile=$work/servers.env
cleanup() {
  bash "$root/scripts/test-env/down.sh" "$envfile" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "run.sh: starting Dovecot and sshd on loopback"
bash "$root/scripts/test-env/up.sh" "$envfile" >"$work/up.log" 2>&1 </dev/null ||
  { cat "$work/up.log" >&2; exit 1; }
# shellcheck disable=SC1090
source "$envfile"
# The test quota (1 GB) would refuse a restore of the large corpus.
sed -i 's/^\( *quota_rule = \*:storage=\).*/\1100T/' "$IMAPKEEP_TEST_DOVECOT_CONF"
doveadm -c "$IMAPKEEP_TEST_DOVECOT_CONF" reload

python3 "$here/bench.py" --env "$envfile" --build "$root/build-bench" --work "$work" --out "$out" \
  --messages "$messages" --rounds "$rounds" --scenarios "$scenarios" --huge-mb "$huge_mb"
