#!/usr/bin/env bash
# Installs the Debian packages imapkeep needs to build and to run its tests.
# Does nothing (no apt-get update either) when all of them are already there,
# so repeated runs of scripts/test.sh stay fast and work offline.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  libssl-dev libsqlite3-dev libssh2-1-dev zlib1g-dev
  libcli11-dev catch2 libtomlplusplus-dev nlohmann-json3-dev
  # OAuth2 token endpoints (HTTPS): libcurl with OpenSSL, as the rest of the TLS
  libcurl4-openssl-dev curl
  # fuzzing (scripts/fuzz.sh): clang 14 with libFuzzer
  clang libclang-rt-14-dev
  # test environment (scripts/test-env): real servers on loopback
  dovecot-core dovecot-imapd openssh-server openssh-client openssl
  python3 procps iproute2
  # the PostgreSQL catalog: libpq to build, a PostgreSQL server for its tests
  libpq-dev postgresql-15
  # Cyrus IMAP, the second real server: master and tools (cyrus-common); its
  # imapd is unpacked below, because cyrus-imapd conflicts with dovecot-imapd.
  cyrus-common cyrus-admin sasl2-bin
  # packaging tests: man page lint (groff, lexgrog) and the zsh and fish completions
  groff-base man-db zsh fish
  # .deb packages (scripts/package.sh: dpkg-shlibdeps, file) and their checks
  # (systemd-analyze verify, strace under the units' system call filter)
  dpkg-dev file systemd strace
  # S3 tests (scripts/test-env/ceph.sh): a one-node Ceph with radosgw
  radosgw ceph-mon ceph-osd ceph-common
  # mail readers that must read the store cleanly (tests/integration/line_endings_test.cpp)
  notmuch mutt
)
cyrus_root=${IMAPKEEP_CYRUS_ROOT:-/var/cache/imapkeep-test/cyrus-imapd}

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
need_cyrus_imapd() { [ ! -x "$cyrus_root/usr/lib/cyrus/bin/imapd" ]; }
if [ ${#missing[@]} -eq 0 ] && ! need_cyrus_imapd; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
  echo "deps.sh: run as root (sudo bash scripts/deps.sh) to install them" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# cyrus-imapd of the same version as cyrus-common, unpacked, never installed.
if need_cyrus_imapd; then
  version=$(dpkg-query -W -f='${Version}' cyrus-common)
  work=$(mktemp -d)
  chmod 755 "$work"  # apt's download runs as _apt
  (
    cd "$work"
    apt-get download "cyrus-imapd=$version" 2>/dev/null ||
      { apt-get update && apt-get download "cyrus-imapd=$version"; }
    mkdir -p "$cyrus_root"
    dpkg -x cyrus-imapd_*.deb "$cyrus_root"
  )
  rm -rf "$work"
  echo "deps.sh: cyrus-imapd $version unpacked in $cyrus_root"
fi
