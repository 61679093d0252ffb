#!/usr/bin/env bash
# The test command (README, .ci/run):
#   sudo bash scripts/test.sh              # build/ : RelWithDebInfo, -Werror
#   sudo bash scripts/test.sh --sanitize   # build-asan/ : ASan + UBSan, no -Werror
# Installs missing Debian packages, builds, checks the installed library with
# the README's example, then runs every ctest test with a throwaway Dovecot and
# sshd on loopback (scripts/test-env). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=build
sanitize=OFF
werror=ON
case "${1:-}" in
  "") ;;
  --sanitize)
    build=build-asan
    sanitize=ON
    # GCC 12's flow warnings (-Wmaybe-uninitialized) misfire on instrumented
    # code, e.g. inside std::regex; the plain build is the -Werror gate.
    werror=OFF
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
  *)
    echo "usage: $0 [--sanitize]" >&2
    exit 2
    ;;
esac

step() { printf '\n== %s (%ds)\n' "$1" "$SECONDS"; }

step "dependencies"
bash scripts/deps.sh

step "build ($build)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIMAPKEEP_WERROR="$werror" -DIMAPKEEP_SANITIZE="$sanitize"
cmake --build "$build" -j2

work=$(mktemp -d)
cleanup() {
  bash scripts/test-env/down.sh "$work/example.env"
  bash scripts/test-env/down.sh "$work/test.env"
  rm -rf "$work"
}
trap cleanup EXIT

# The installed package needs the same sanitizer flags to link, which a
# consumer project doesn't have: checked in the plain build only.
if [ "$sanitize" = OFF ]; then
  step "installed library: tests/install example against Dovecot"
  # A Dovecot of its own, so that the integration tests start from empty mailboxes.
  bash scripts/test-env/up.sh "$work/example.env"
  bash scripts/test-env/seed.sh "$work/example.env" user1 3
  bash scripts/test-env/example.sh "$build" "$work/example.env" 3 >"$work/example.out"
  echo "example printed $(grep -c '^Message ' "$work/example.out") messages"
  bash scripts/test-env/down.sh "$work/example.env"
fi

if [ "$sanitize" = OFF ]; then
  step "fuzz targets, 5 s each (scripts/fuzz.sh SECONDS for longer runs)"
  bash scripts/fuzz.sh 5
fi

step "test servers"
bash scripts/test-env/up.sh "$work/test.env"
# shellcheck disable=SC1091
source "$work/test.env"

step "ctest"
# Every test that needs a server fails if it is missing (tests/test_env.hpp).
export IMAPKEEP_TEST_REQUIRE_SERVERS=1
# Last, so that ctest's summary is the closing line.
ctest --test-dir "$build" --output-on-failure -j2 --timeout 600
