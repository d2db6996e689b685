#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit + integration with CTest (./build),
# then the sanitizer stage: the unit suite under ASan+UBSan (clang, ./build-fuzz) and every
# libFuzzer target for a short run from its seeds (scripts/fuzz.sh; long runs are by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 -j2)
bash scripts/fuzz.sh --with-unit "${PERPGW_CI_FUZZ_SECONDS:-20}"
