#!/usr/bin/env bash
# oauth.sh DIR PORT
# Starts oauth_server.py (the test OAuth2 provider) on 127.0.0.1:PORT with
# DIR/server.pem, in the background, its pid in DIR/oauth/server.pid (down.sh
# stops it), its log in DIR/oauth.log; waits until it answers over TLS.
set -euo pipefail

dir=${1:?usage: oauth.sh DIR PORT}
port=${2:?usage: oauth.sh DIR PORT}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

setsid python3 "$here/oauth_server.py" "$dir" "$port" </dev/null >>"$dir/oauth.log" 2>&1 &

for _ in $(seq 100); do
  if curl -s --cacert "$dir/ca.pem" -d x=1 "https://localhost:$port/control/stats" 2>/dev/null |
      grep -q "unknown refresh token"; then
    exit 0
  fi
  sleep 0.1
done
echo "oauth.sh: the OAuth2 test server did not answer on localhost:$port; log:" >&2
tail -n 30 "$dir/oauth.log" >&2 || true
exit 1
