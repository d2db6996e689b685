#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit + integration with CTest (./build),
# then the sanitizer stage: the unit suite under ASan+UBSan (clang, ./build-fuzz, built while
# ctest runs) and every libFuzzer target for a short run from its seeds (scripts/fuzz.sh; long
# runs are by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# The sanitizer tree builds while ctest runs, under SCHED_IDLE: it gets only the CPU no test wants.
# The suite mostly waits on venue events (ctest used ~25 % of one core over its 11 min here), so
# the build takes the idle rest and the tests keep their timing. Its output: build-fuzz/build.log.
# (nice 19 where SCHED_IDLE is refused.) Its own process group, so an early exit stops all of it.
mkdir -p build-fuzz
idle=(chrt --idle 0)
"${idle[@]}" true 2>/dev/null || idle=(nice -n 19)
setsid "${idle[@]}" bash scripts/fuzz.sh --build-only > build-fuzz/build.log 2>&1 &
san_build=$!
trap 'kill -- -"$san_build" 2>/dev/null || kill "$san_build" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
ctest_rc=0
(cd build && ctest --output-on-failure --timeout 600 -j2) || ctest_rc=$?
if [ "$ctest_rc" -ne 0 ]; then
  # Failed already: no need to wait minutes for the sanitizer build (the EXIT trap stops it).
  echo "test.sh: ctest failed (exit $ctest_rc); the sanitizer stage is skipped" >&2
  exit 1
fi
san_rc=0
wait "$san_build" || san_rc=$?
trap - EXIT INT TERM
if [ "$san_rc" -ne 0 ]; then
  tail -80 build-fuzz/build.log
  echo "test.sh: the sanitizer build failed (build-fuzz/build.log)" >&2
  exit 1
fi
tail -1 build-fuzz/build.log
bash scripts/fuzz.sh --with-unit "${PERPGW_CI_FUZZ_SECONDS:-20}"
