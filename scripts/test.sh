#!/usr/bin/env bash
# The test command (README, .ci/run):
#   sudo bash scripts/test.sh              # build/ : RelWithDebInfo, -Werror
#   sudo bash scripts/test.sh --sanitize   # build-asan/ : ASan + UBSan, no -Werror
# Installs missing Debian packages, builds, builds the two .deb packages
# (scripts/package.sh), installs them and checks the installed tool (a backup)
# and library (the README's example), then runs every ctest test with a
# throwaway Dovecot, Cyrus and sshd on loopback (scripts/test-env). Exits
# non-zero on any failure.
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
# The bench's floor tools too: their tests check that a floor does the work
# it stands for.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIMAPKEEP_WERROR="$werror" -DIMAPKEEP_SANITIZE="$sanitize" -DIMAPKEEP_BENCH=ON
cmake --build "$build" -j2

work=$(mktemp -d)
# The tests' TMPDIR, searched for passwords afterwards; world-traversable like
# /tmp, since the test Dovecot (nobody) reads stores created there.
testtmp=$(mktemp -d)
chmod 1777 "$testtmp"
cleanup() {
  bash scripts/test-env/down.sh "$work/example.env"
  bash scripts/test-env/down.sh "$work/test.env"
  rm -rf "$work" "$testtmp"
}
trap cleanup EXIT

# The packages are built from the plain build only: the -dev package would
# need the sanitizer flags to link, which a consumer project doesn't have.
if [ "$sanitize" = OFF ]; then
  step "packages: build, install, and run the installed tool and library"
  # scripts/package.sh reuses $build (already built: it only runs cpack).
  bash scripts/package.sh "$build" >"$work/debs"
  mapfile -t debs <"$work/debs"
  printf '%s\n' "${debs[@]}"
  [ "${#debs[@]}" = 2 ] || { echo "scripts/package.sh made ${#debs[@]} packages, not 2" >&2; exit 1; }
  # --reinstall: a package of the same version from an earlier run is replaced.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall "${debs[@]}" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; exit 1; }
  bash tests/packaging/package_contents.sh
  # A Dovecot of its own, so that the integration tests start from empty mailboxes.
  bash scripts/test-env/up.sh "$work/example.env"
  bash scripts/test-env/seed.sh "$work/example.env" user1 3
  bash tests/packaging/installed_backup.sh "$work/example.env" 3
  bash scripts/test-env/example.sh "$work/example.env" 3 >"$work/example.out"
  echo "the example, built against libimapkeep-dev with CMake and with pkg-config, printed $(grep -c '^Message ' "$work/example.out") messages"
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
# All output of every test goes to the log (ctest -V prefixes each line with
# the test's number); the console gets the progress lines, the output of the
# tests that failed, and the summary, as --output-on-failure would print them.
log=$build/ctest-full.log
set +e
TMPDIR=$testtmp ctest --test-dir "$build" -V -j2 --timeout 600 >"$log" 2>&1
ctest_rc=$?
set -e
grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+:' "$log" || true
for n in $(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+:' "$log" | grep -v ' Passed ' |
           sed -E 's/.*Test +#([0-9]+):.*/\1/'); do
  printf '\n---- output of test #%s\n' "$n"
  grep -E "^$n: " "$log" | sed -E "s/^$n: //" || true
done
sed -n '/tests passed, [0-9]* tests* failed/,$p' "$log"
echo "(all test output: $log)"

step "secrets: no test password in any test output"
# The test servers' passwords are distinctive (scripts/test-env/up.sh): any
# occurrence in what the tests printed, or in a file they left behind, is a
# leak. secrets_test runs imapkeep at -vv against Dovecot, so the log does hold
# real protocol traces; check that it does, or the grep proves nothing.
leak=0
if ! grep -qE 'C: [A-Z]+[0-9]+ LOGIN <redacted>' "$log"; then
  echo "no -vv LOGIN trace in the test log: the secrets test did not run" >&2
  leak=1
fi
for pw in $IMAPKEEP_TEST_PASSWORDS $IMAPKEEP_TEST_CYRUS_ADMIN_PASSWORD $IMAPKEEP_TEST_S3_SECRET_KEY $IMAPKEEP_TEST_MASTER_PASSWORD; do
  if grep -nF -- "$pw" "$log" >&2; then
    echo "a test password appears in the test log above ($log)" >&2
    leak=1
  fi
  # Files the tests left under their temp dir; a config may hold a password on purpose.
  if grep -rlF --exclude='*.toml' -- "$pw" "$testtmp" >&2; then
    echo "a test password appears in the files above" >&2
    leak=1
  fi
done
# OAuth2 tokens of the test provider start with these markers
# (scripts/test-env/oauth_server.py); tests/integration/oauth2_test.cpp prints
# imapkeep's -vv output with them. A token cache (*.oauth2.json) holds them on purpose.
for marker in ikrt9Q ikat9Q; do
  if grep -nF -- "$marker" "$log" >&2; then
    echo "an OAuth2 test token appears in the test log above ($log)" >&2
    leak=1
  fi
  if grep -rlF --exclude='*.oauth2.json' -- "$marker" "$testtmp" >&2; then
    echo "an OAuth2 test token appears in the files above" >&2
    leak=1
  fi
done
[ "$leak" = 0 ] && echo "no test password or token in $(wc -l <"$log") lines of test output"
[ "$ctest_rc" = 0 ] && [ "$leak" = 0 ]
