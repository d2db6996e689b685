#!/usr/bin/env bash
# Installs dependencies (idempotent) and builds everything into ./build (Release, -j2).
# --image: the container image's lean build: build dependencies only, and only the shipped
# programs (perpgwd, perpgw-replay, perpgw-sim, perpgw-cli; no tests, benchmarks or fuzzers).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${PERPGW_JOBS:-2}"
if [[ "${1:-}" == "--image" ]]; then
  bash scripts/install-deps.sh --image
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
    -DPERPGW_ADAPTER_DIRS=all \
    -DPERPGW_TOP_DIRS="sim;gateway;examples" >/dev/null
  cmake --build build -j"$JOBS" --target perpgwd perpgw-replay perpgw-sim perpgw-cli
  exit 0
fi
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DPERPGW_ADAPTER_DIRS=all \
  -DPERPGW_TOP_DIRS="sim;gateway;bench;examples;tests" >/dev/null
cmake --build build -j"$JOBS"
