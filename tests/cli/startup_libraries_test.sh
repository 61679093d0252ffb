#!/usr/bin/env bash
# The binary does not load libcurl or libpq at start (they and what they pull
# in cost every run ~4 ms; src/s3/libcurl.hpp, src/store/postgres/libpq.hpp
# load them when a feature needs them), and it still loads few libraries.
set -euo pipefail
binary=$1
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
fail=0
for lib in libcurl libpq libgnutls libldap libkrb5; do
  if grep -q "^$lib" <<<"$needed"; then echo "FAIL: $binary links $lib at start"; fail=1; fi
done
loaded=$(ldd "$binary" | wc -l)
if [ "$loaded" -gt 16 ]; then echo "FAIL: $binary loads $loaded libraries at start (at most 16)"; ldd "$binary"; fail=1; fi
[ $fail = 0 ] && echo "ok: $loaded libraries at start, none of libcurl, libpq"
exit $fail
