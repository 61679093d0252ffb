#!/bin/sh
# ca.sh DIR: creates a throw-away test CA and a server certificate for
# "localhost" only (subjectAltName=DNS:localhost, so connecting by IP must fail
# host name verification). Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem and
# DIR/server.key. Idempotent: existing files are kept while they still verify
# and have at least a day left; otherwise everything is created anew.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
days=30
mkdir -p "$dir"

if [ -s "$dir/ca.pem" ] && [ -s "$dir/ca.key" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] &&
    openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1 &&
    openssl x509 -in "$dir/server.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    exit 0
fi

work=$(mktemp -d "$dir/.ca.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
umask 077

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -subj "/CN=imapkeep test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null

openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null

cat >"$work/server.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost
EXT

openssl x509 -req -sha256 -days "$days" -in "$work/server.csr" \
    -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -extfile "$work/server.ext" -out "$work/server.pem" 2>/dev/null

# Certificates are public; servers (Dovecot) read them as another user.
chmod 644 "$work/ca.pem" "$work/server.pem"
for f in ca.key server.key ca.pem server.pem; do
    mv -f "$work/$f" "$dir/$f"
done
