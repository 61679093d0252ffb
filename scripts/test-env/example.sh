#!/usr/bin/env bash
# example.sh BUILD_DIR ENVFILE COUNT
# The library as a user gets it: installs BUILD_DIR into a temp prefix, builds
# tests/install (the README's example, via find_package(imapkeep)) against it,
# and runs it against user1 of the Dovecot that up.sh ENVFILE started. Checks
# that it printed the COUNT messages seed.sh delivered, then prints its output.
set -euo pipefail

build=${1:?usage: example.sh BUILD_DIR ENVFILE COUNT}
envfile=${2:?usage: example.sh BUILD_DIR ENVFILE COUNT}
count=${3:?usage: example.sh BUILD_DIR ENVFILE COUNT}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC1090
source "$envfile"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cmake -S "$root/tests/install" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" ||
  { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }

timeout 60 "$work/build/example" "$IMAPKEEP_TEST_HOST" "$IMAPKEEP_TEST_IMAP_PORT" \
  "$IMAPKEEP_TEST_USER" "$IMAPKEEP_TEST_PASSWORD" >"$work/out" ||
  { echo "example.sh: the example program failed" >&2; cat "$work/out" >&2; exit 1; }

for i in $(seq "$count"); do
  if ! grep -qx "Message $i" "$work/out" || ! grep -q "^Subject: imapkeep sample $i"$'\r'"\?$" "$work/out"; then
    echo "example.sh: message $i missing from the example's output:" >&2
    cat "$work/out" >&2
    exit 1
  fi
done
cat "$work/out"
