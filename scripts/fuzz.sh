#!/usr/bin/env bash
# scripts/fuzz.sh [--runs N] [SECONDS] [TARGET...]
# Builds every libFuzzer target (fuzz/fuzz_*.cpp) with clang, ASan and UBSan
# into build-fuzz/, then runs each for SECONDS (default 60) on a scratch copy
# of its seed corpus (fuzz/corpus/NAME), so the committed corpus never grows
# by accident. With --runs N (or FUZZ_RUNS=N) a target stops after N
# executions instead, however long that takes (SECONDS is then ignored unless
# given). A target's dictionary is fuzz/NAME.dict if there is one, else
# fuzz/imap.dict. Prints executions, executions per second and coverage per
# target; exits non-zero on the first crash or broken invariant, leaving the
# reproducer in build-fuzz/. scripts/test.sh runs it with a short fixed budget.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${FUZZ_RUNS:-}
if [ "${1:-}" = --runs ]; then
  runs=${2:?--runs needs a count}
  shift 2
fi
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
elif [ -n "$runs" ]; then
  seconds=0  # no time limit
else
  seconds=60
fi

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
limit=(-max_total_time="$seconds")
[ -n "$runs" ] && limit+=(-runs="$runs")
printf '%-20s %12s %9s %8s %8s\n' target executions execs/s cov ft
for name in "${targets[@]}"; do
  corpus=fuzz/corpus/${name#fuzz_}
  mkdir -p "$work/$name"
  [ -d "$corpus" ] && cp -r "$corpus/." "$work/$name/"
  dict=()
  if [ -f "fuzz/${name#fuzz_}.dict" ]; then
    dict=(-dict="../fuzz/${name#fuzz_}.dict")
  elif [ -f fuzz/imap.dict ]; then
    dict=(-dict=../fuzz/imap.dict)
  fi
  log=$work/$name.log
  started=$(date +%s)
  if ! (cd build-fuzz && "fuzz/$name" "${limit[@]}" -print_final_stats=1 \
        "${dict[@]}" "$work/$name" >"$log" 2>&1); then
    tail -n 40 "$log" >&2
    echo "fuzz.sh: $name FAILED (reproducer: build-fuzz/crash-* or leak-*)" >&2
    exit 1
  fi
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  elapsed=$(($(date +%s) - started))
  printf '%-20s %12s %9s %8s %8s\n' "$name" "$executed" "$((executed / (elapsed > 0 ? elapsed : 1)))" "$cov" "$ft"
done
