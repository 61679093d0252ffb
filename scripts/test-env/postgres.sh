#!/usr/bin/env bash
# postgres.sh DIR PORT
# Starts a throwaway PostgreSQL (Debian's postgresql-15) on 127.0.0.1:PORT with
# everything under DIR/postgres: the cluster in data/, the socket, server.log.
# Trust authentication for the superuser "postgres" on loopback only; fsync
# and full-page writes off (a test cluster is thrown away, never recovered).
# Writes DIR/postgres.pg_ctl (the binary that stops it: down.sh) and prints
# the seconds the start took. Facts: /work/shared/reference/scale-out.md.
#
# As root, initdb and the server run as the user postgres (initdb refuses
# root), so DIR/postgres belongs to postgres and every folder above it must
# be enterable by postgres: DIR gets o+x.
set -euo pipefail

dir=${1:?usage: postgres.sh DIR PORT}
port=${2:?usage: postgres.sh DIR PORT}
bin=${IMAPKEEP_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

for f in initdb pg_ctl postgres; do
  if [ ! -x "$bin/$f" ]; then
    echo "postgres.sh: $bin/$f is missing (run scripts/deps.sh as root)" >&2
    exit 1
  fi
done

pg=$dir/postgres
mkdir -p "$pg"
chmod go+x "$dir"
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$pg"
  as_postgres=(runuser -u postgres --)
  if ! "${as_postgres[@]}" test -x "$pg"; then
    echo "postgres.sh: the user postgres cannot enter $pg (a folder above it is closed)" >&2
    exit 1
  fi
fi
echo "$bin/pg_ctl" >"$dir/postgres.pg_ctl"

started=$(date +%s%N)
if ! "${as_postgres[@]}" "$bin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 \
  --locale=C.UTF-8 --no-sync >"$pg/initdb.log" 2>&1; then
  cat "$pg/initdb.log" >&2
  exit 1
fi
# -k: the Unix socket in our own dir, not /var/run/postgresql (not ours, maybe absent).
if ! "${as_postgres[@]}" "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 30 \
  -o "-k $pg -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
  start >"$pg/pg_ctl.log" 2>&1; then
  cat "$pg/pg_ctl.log" "$pg/server.log" >&2
  exit 1
fi
ended=$(date +%s%N)

if ! "${as_postgres[@]}" "$bin/pg_ctl" status -D "$pg/data" >/dev/null 2>&1; then
  echo "postgres.sh: the server is not running after start" >&2
  exit 1
fi
printf 'postgres.sh: PostgreSQL on 127.0.0.1:%s started in %d ms (initdb and start)\n' \
  "$port" $(((ended - started) / 1000000))
