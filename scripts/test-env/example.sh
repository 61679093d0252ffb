#!/usr/bin/env bash
# example.sh ENVFILE COUNT
# The library as a user gets it from the libimapkeep-dev package, which must be
# installed (scripts/test.sh installs the .deb files of scripts/package.sh):
# builds tests/install/example.cpp (the README's example) twice, with CMake's
# find_package(imapkeep) from /usr, and with `pkg-config --cflags --libs
# imapkeep`, runs both against user1 of the Dovecot that up.sh ENVFILE started,
# and checks that each printed the COUNT messages seed.sh delivered. Prints the
# CMake build's output.
set -euo pipefail

envfile=${1:?usage: example.sh ENVFILE COUNT}
count=${2:?usage: example.sh ENVFILE COUNT}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC1090
source "$envfile"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_and_check NAME BINARY : runs the example, checks its COUNT messages.
run_and_check() {
  local name=$1 binary=$2 i
  timeout 60 "$binary" "$IMAPKEEP_TEST_HOST" "$IMAPKEEP_TEST_IMAP_PORT" \
    "$IMAPKEEP_TEST_USER" "$IMAPKEEP_TEST_PASSWORD" >"$work/$name.out" ||
    { echo "example.sh: the example program ($name) failed" >&2; cat "$work/$name.out" >&2; exit 1; }
  for i in $(seq "$count"); do
    if ! grep -qx "Message $i" "$work/$name.out" ||
       ! grep -q "^Subject: imapkeep sample $i"$'\r'"\?$" "$work/$name.out"; then
      echo "example.sh: message $i missing from the example's output ($name):" >&2
      cat "$work/$name.out" >&2
      exit 1
    fi
  done
}

# CMake, as the README shows: no CMAKE_PREFIX_PATH, /usr is searched anyway.
# Only the package's config may be found (not a build tree of this checkout).
cmake -S "$root/tests/install" -B "$work/cmake" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log" ||
  { cat "$work/configure.log" >&2; exit 1; }
config_dir=$(sed -n 's/^imapkeep_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")
case "$config_dir" in
  /usr/lib/*/cmake/imapkeep | /usr/lib/cmake/imapkeep) ;;
  *) echo "example.sh: find_package(imapkeep) used $config_dir, not the installed package" >&2; exit 1 ;;
esac
cmake --build "$work/cmake" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
run_and_check cmake "$work/cmake/example"

# pkg-config: the flags alone must compile and link it.
# shellcheck disable=SC2046
c++ -std=c++20 -O1 -o "$work/example-pc" "$root/tests/install/example.cpp" \
  $(pkg-config --cflags --libs imapkeep) >"$work/pc.log" 2>&1 ||
  { echo "example.sh: building with pkg-config imapkeep failed:" >&2; cat "$work/pc.log" >&2; exit 1; }
run_and_check pkg-config "$work/example-pc"

cat "$work/cmake.out"
