#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit + integration) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j2
