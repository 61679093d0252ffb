#!/usr/bin/env bash
# package.sh [BUILD_DIR] : builds the two Debian packages (packaging/CPack.cmake)
#   imapkeep_VERSION-1_ARCH.deb         the tool, man pages, completions, systemd units
#   libimapkeep-dev_VERSION-1_ARCH.deb  the static libraries, headers, CMake and pkg-config files
# into BUILD_DIR/packages/ (default BUILD_DIR: build) and prints their paths,
# one a line on stdout. Reuses BUILD_DIR: configures it only when it has no cache yet,
# sets the /usr install prefix, and builds only what the packages hold
# (incrementally; the tests are not built). Install with
#   sudo apt-get install ./build/packages/*.deb
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log" >&2; exit 1; }
  rm -f "$build.configure.log"
fi
# The packages install under /usr. Re-configures only when the prefix differs
# (an existing build/ keeps its objects: the prefix changes no compile flag).
if ! grep -qx 'CMAKE_INSTALL_PREFIX:PATH=/usr' "$build/CMakeCache.txt"; then
  cmake "$build" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
fi
# Progress on stderr: stdout is the list of packages.
cmake --build "$build" -j2 --target imapkeep_package_inputs >&2

rm -f "$build"/packages/*.deb
(cd "$build" && cpack -G DEB) >"$build/cpack.log" 2>&1 ||
  { cat "$build/cpack.log" >&2; exit 1; }
ls -1 "$(cd "$build/packages" && pwd)"/*.deb
