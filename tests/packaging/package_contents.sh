#!/usr/bin/env bash
# package_contents.sh : the installed imapkeep and libimapkeep-dev packages
# (dpkg -L) hold what packaging/CPack.cmake promises, and nothing of each other.
set -euo pipefail

fail=0
# has PACKAGE PATH... : every PATH is in PACKAGE's file list.
has() {
  local pkg=$1 path
  shift
  for path in "$@"; do
    if ! dpkg -L "$pkg" | grep -qxF -- "$path"; then
      echo "package_contents.sh: $pkg lacks $path" >&2
      fail=1
    fi
  done
}
# lacks PACKAGE REGEX WHAT : no file of PACKAGE matches REGEX.
lacks() {
  local found
  found=$(dpkg -L "$1" | grep -E -- "$2" || true)
  if [ -n "$found" ]; then
    echo "package_contents.sh: $1 holds $3: $(tr '\n' ' ' <<<"$found")" >&2
    fail=1
  fi
}

has imapkeep /usr/bin/imapkeep \
  /usr/share/man/man1/imapkeep.1.gz /usr/share/man/man5/imapkeep.toml.5.gz \
  /usr/share/bash-completion/completions/imapkeep \
  /usr/share/zsh/vendor-completions/_imapkeep \
  /usr/share/fish/vendor_completions.d/imapkeep.fish \
  /usr/lib/systemd/system/imapkeep-backup@.service /usr/lib/systemd/system/imapkeep-backup@.timer \
  /usr/lib/systemd/system/imapkeep-worker@.service \
  /usr/lib/systemd/user/imapkeep-backup@.service /usr/lib/systemd/user/imapkeep-backup@.timer \
  /usr/share/doc/imapkeep/README.md /usr/share/doc/imapkeep/config.example.toml
lacks imapkeep '\.a$' "static libraries"
lacks imapkeep '^/usr/include' "headers"
lacks imapkeep '/(cmake|pkgconfig)/' "development files"

libdir=$(dpkg -L libimapkeep-dev | sed -n 's|/libimapkeep_util\.a$||p')
if [ -z "$libdir" ]; then
  echo "package_contents.sh: libimapkeep-dev lacks libimapkeep_util.a" >&2
  exit 1
fi
has libimapkeep-dev /usr/include/imapkeep/imaplib.hpp /usr/include/imapkeep/imap/client.hpp \
  "$libdir"/libimapkeep_{imaplib,imap,wire,transport,util}.a \
  "$libdir"/cmake/imapkeep/{imapkeepConfig,imapkeepConfigVersion,imapkeepTargets,FindLibSSH2}.cmake \
  "$libdir"/pkgconfig/imapkeep.pc
lacks libimapkeep-dev '/bin/' "a program"
lacks libimapkeep-dev '/include/imapkeep/(store|sync|archive|s3)' "the tool's own headers"
lacks libimapkeep-dev '/(man|systemd|completions)' "the tool's files"

# The man pages read as man pages, from where man looks.
man -w imapkeep >/dev/null && man -w 5 imapkeep.toml >/dev/null || fail=1
# Debian's dependencies: shlibdeps found the tool's libraries, the ones it
# loads on first use are named; -dev names the -dev packages.
depends=$(dpkg-query -W -f='${Depends}' imapkeep)
for lib in libssl3 libssh2-1 libsqlite3-0 zlib1g libcurl4 libpq5; do
  grep -q "$lib" <<<"$depends" || { echo "package_contents.sh: imapkeep does not depend on $lib: $depends" >&2; fail=1; }
done
depends=$(dpkg-query -W -f='${Depends}' libimapkeep-dev)
for dev in libssl-dev libssh2-1-dev zlib1g-dev; do
  grep -q "$dev" <<<"$depends" || { echo "package_contents.sh: libimapkeep-dev does not depend on $dev: $depends" >&2; fail=1; }
done

[ "$fail" = 0 ] && echo "ok: imapkeep $(dpkg -L imapkeep | wc -l) paths, libimapkeep-dev $(dpkg -L libimapkeep-dev | wc -l) paths"
