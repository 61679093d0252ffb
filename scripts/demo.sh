#!/usr/bin/env bash
# The README's first command: sudo bash scripts/demo.sh
# Installs missing Debian packages, builds imapkeep, starts a throwaway Dovecot
# on loopback (scripts/test-env/up.sh), delivers 3 sample messages, and runs the
# README's library example (tests/install, built against the installed
# library) which prints them over IMAP. Everything is stopped and removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

echo "== building (build/)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2

work=$(mktemp -d)
trap 'bash scripts/test-env/down.sh "$work/env"; rm -rf "$work"' EXIT

echo "== starting a throwaway Dovecot on 127.0.0.1"
bash scripts/test-env/up.sh "$work/env" 2>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
bash scripts/test-env/seed.sh "$work/env" user1 3
# shellcheck disable=SC1091
source "$work/env"

echo "== tests/install/example.cpp: log in as user1, fetch every message of INBOX"
echo "   ./example $IMAPKEEP_TEST_HOST $IMAPKEEP_TEST_IMAP_PORT user1 pass1"
echo
bash scripts/test-env/example.sh build "$work/env" 3 | tr -d '\r'
