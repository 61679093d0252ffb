#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]
# Builds every libFuzzer target (fuzz/fuzz_*.cpp) with clang, ASan and UBSan
# into build-fuzz/, then runs each for SECONDS (default 60) on a scratch copy
# of its seed corpus (fuzz/corpus/NAME), so the committed corpus never grows
# by accident. Prints executions and coverage per target; exits non-zero on
# the first crash or broken invariant, leaving the reproducer in build-fuzz/.
# scripts/test.sh runs it with a short fixed budget.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
shift || true

CXX=clang++ CC=clang cmake -S . -B build-fuzz -G Ninja -DIMAPKEEP_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.cpp; do
    name=$(basename "$src" .cpp)
    targets+=("$name")
  done
fi
cmake --build build-fuzz -j2 --target "${targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-20s %12s %8s %8s\n' target executions cov ft
for name in "${targets[@]}"; do
  corpus=fuzz/corpus/${name#fuzz_}
  mkdir -p "$work/$name"
  [ -d "$corpus" ] && cp -r "$corpus/." "$work/$name/"
  dict=()
  [ -f fuzz/imap.dict ] && dict=(-dict=fuzz/imap.dict)
  log=$work/$name.log
  if ! (cd build-fuzz && "fuzz/$name" -max_total_time="$seconds" -print_final_stats=1 \
        "${dict[@]/#-dict=/-dict=../}" "$work/$name" >"$log" 2>&1); then
    tail -n 40 "$log" >&2
    echo "fuzz.sh: $name FAILED (reproducer: build-fuzz/crash-* or leak-*)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-20s %12s %8s %8s\n' "$name" "$runs" "$cov" "$ft"
done
