#!/usr/bin/env bash
# Installs dependencies (idempotent) and builds everything into ./build (Release, -j2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
JOBS="${PERPGW_JOBS:-2}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DPERPGW_ADAPTER_DIRS=all \
  -DPERPGW_TOP_DIRS="sim;gateway;bench;examples;tests" >/dev/null
cmake --build build -j"$JOBS"
