#!/usr/bin/env bash
# libFuzzer runs (clang, ASan + UBSan) of every fuzz target in tests/fuzz/, seeded from
# tests/data/ and config/. Usage:
#   scripts/fuzz.sh [--with-unit|--build-only] [SECONDS_PER_TARGET] [TARGET...]
# Default: 300 s per target, all targets (the long form, run by hand). The corpus each run grows
# is kept in build-fuzz/fuzz-corpus/<target>/ (later runs start from it); a crashing input is
# written to build-fuzz/fuzz-artifacts/ and fails the run. --with-unit first builds and runs the
# unit suite in the same ASan+UBSan build (this is CI's sanitizer stage: scripts/test.sh runs
# `scripts/fuzz.sh --with-unit 20`). --build-only builds what --with-unit runs and runs nothing
# (scripts/test.sh builds it this way while ctest runs).
set -euo pipefail
cd "$(dirname "$0")/.."
with_unit=0 build_only=0
if [ "${1:-}" = "--with-unit" ]; then with_unit=1; shift; fi
if [ "${1:-}" = "--build-only" ]; then with_unit=1 build_only=1; shift; fi
secs="${1:-300}"
shift || true
case "$secs" in ''|*[!0-9]*) echo "usage: $0 [--with-unit|--build-only] [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
bash scripts/install-deps.sh
dir="build-fuzz"
JOBS="${PERPGW_JOBS:-2}"
# -O1 -g1 as in scripts/sanitize.sh: reports keep file:line, the Beast-heavy files compile in
# half the time. fuzzer-no-link instruments every object for coverage (PERPGW_FUZZ).
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPERPGW_SANITIZERS="address,undefined" -DPERPGW_FUZZ=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DPERPGW_ADAPTER_DIRS=all \
  -DPERPGW_TOP_DIRS="sim;gateway;bench;examples;tests" >/dev/null
supp="$(pwd)/tests/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cmake --build "$dir" --target help | sed -n 's/^\.\.\. \(fuzz_[a-z_]*\).*/\1/p')
fi
build=("${targets[@]}")
if [ "$with_unit" = 1 ]; then
  mapfile -t units < <(cmake --build "$dir" --target help | sed -n 's/^\.\.\. \(perpgw_unit_[a-z_]*\).*/\1/p')
  build+=("${units[@]}")
fi
start=$(date +%s)
cmake --build "$dir" -j"$JOBS" --target "${build[@]}"
echo "fuzz.sh: built ${#build[@]} targets in $(( $(date +%s) - start )) s"
if [ "$build_only" = 1 ]; then exit 0; fi
if [ "$with_unit" = 1 ]; then
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j"$JOBS" -L unit -E '^perpgw_replay_|bench')
fi
rm -rf "$dir/fuzz-seeds"
python3 scripts/fuzz_seeds.py "$dir/fuzz-seeds"
mkdir -p "$dir/fuzz-artifacts"
failed=()
for t in "${targets[@]}"; do
  corpus="$dir/fuzz-corpus/$t"
  mkdir -p "$corpus" "$dir/fuzz-seeds/$t"
  echo "fuzz.sh: $t for ${secs} s"
  # -rss_limit_mb: an input that makes a parser allocate gigabytes is a finding too.
  if ! "$dir/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/$t-" \
      "$corpus" "$dir/fuzz-seeds/$t" > "$dir/fuzz-$t.log" 2>&1; then
    failed+=("$t")
    tail -60 "$dir/fuzz-$t.log"
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' "$dir/fuzz-$t.log" | tr '\n' ' '
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $dir/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, 0 crashes"
