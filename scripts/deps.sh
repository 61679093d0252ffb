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
  # test environment (scripts/test-env): real servers on loopback
  dovecot-core dovecot-imapd openssh-server openssh-client openssl
  python3 procps iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
  echo "deps.sh: run as root (sudo bash scripts/deps.sh) to install them" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
