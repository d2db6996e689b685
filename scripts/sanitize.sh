#!/usr/bin/env bash
# Sanitizer builds, each in its own directory (build-asan, build-ubsan, build-tsan), then the
# tests under them. Usage:
#   scripts/sanitize.sh asan|ubsan|tsan [unit|all] [ctest -R regex]
# asan = AddressSanitizer + UndefinedBehaviorSanitizer. `unit` (default) builds and runs the
# unit tests only (what CI can afford); `all` builds everything and runs the integration suites
# too (perpgwd and perpgw-sim run instrumented). Any sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-asan}"
scope="${2:-unit}"
filter="${3:-}"
case "$kind" in
  asan) san="address,undefined" ;;
  ubsan) san="undefined" ;;
  tsan) san="thread" ;;
  *) echo "usage: $0 asan|ubsan|tsan [unit|all] [regex]" >&2; exit 2 ;;
esac
bash scripts/install-deps.sh
dir="build-$kind"
JOBS="${PERPGW_JOBS:-2}"
# -O1 -g1: the heaviest file (adapters/common/ws_client.cpp, Boost.Beast) compiles in 174 s
# instead of 443 s at RelWithDebInfo's -O2 -g, with 2.7 instead of 4.5 GB; reports still carry
# file:line.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERPGW_SANITIZERS="$san" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DPERPGW_ADAPTER_DIRS=all \
  -DPERPGW_TOP_DIRS="sim;gateway;bench;examples;tests" >/dev/null
supp="$(pwd)/tests/sanitizers"
# Instrumented runtimes are slower (TSan ~5-15x): the integration harness multiplies every wait
# by PERPGW_TEST_TIME_SCALE (what a test asserts is unchanged; product deadlines such as the
# SIGTERM grace are not scaled). The soak reads PERPGW_SANITIZER to report RSS unjudged.
case "$kind" in
  tsan) scale=8 ;;
  asan) scale=3 ;;
  *) scale=2 ;;
esac
export PERPGW_TEST_TIME_SCALE="${PERPGW_TEST_TIME_SCALE:-$scale}"
export PERPGW_SANITIZER="$kind"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
# ignore_noninstrumented_modules: Debian's gRPC/abseil/OpenSSL are not built with TSan. Without it
# every access they make through an interceptor (memcmp, memcpy) on memory our code also touches
# is run through TSan's race-report machinery (stack symbolization) before the suppression
# drops it: gRPC's executor threads then crawl (a stream opened after 2000 cancelled ones did
# not reach its handler in 120 s; 6.6 s with the flag). Our own code's accesses stay checked.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$supp/tsan.supp"
if [ "$scope" = unit ]; then
  targets=$(cmake --build "$dir" --target help | sed -n 's/^\.\.\. \(perpgw_unit_[a-z_]*\).*/\1/p')
  # shellcheck disable=SC2086
  cmake --build "$dir" -j"$JOBS" --target $targets
  cd "$dir"
  ctest --output-on-failure --timeout 600 -j"$JOBS" -L unit -E '^perpgw_replay_|bench' ${filter:+-R "$filter"}
else
  cmake --build "$dir" -j"$JOBS"
  cd "$dir"
  ctest --output-on-failure --timeout 1800 -j"$JOBS" ${filter:+-R "$filter"}
fi
