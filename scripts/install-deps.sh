#!/usr/bin/env bash
# Installs every build/test dependency of perpgw from Debian bookworm packages (idempotent).
# --image: only what building the shipped programs needs (the Dockerfile's build stage).
set -euo pipefail
# What building the shipped programs needs (the container image's build stage: --image).
BUILD_PKGS=(
  build-essential cmake pkg-config ca-certificates
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libboost-dev libboost-system-dev libboost-program-options-dev
  libssl-dev libsimdjson-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  prometheus-cpp-dev libsecp256k1-dev zlib1g-dev
  libnats-dev  # publish.nats (gateway/publish/): the NATS C client with JetStream
)
# Everything else the README's commands use: tests, benchmarks, fuzzing, the Python example.
DEV_PKGS=(
  git ccache openssl catch2
  python3 python3-grpcio python3-grpc-tools python3-yaml
  python3-protobuf python3-venv python3-setuptools python3-wheel  # clients/python: offline venv install
  curl procps clang-format  # clang-format: scripts/check-format.sh (a ctest)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer + ASan/UBSan (the test command's sanitizer stage)
  prometheus docker-compose  # integration tests only: a real Prometheus server; compose file validation
  nodejs npm  # the ccxt conformance test (tests/conformance/ccxt: ccxt from npm, pinned)
  nats-server  # the NATS test (tests/integration/nats_test.cpp): a real JetStream server
)
PKGS=("${BUILD_PKGS[@]}")
if [[ "${1:-}" != "--image" ]]; then PKGS+=("${DEV_PKGS[@]}"); fi
missing=()
for p in "${PKGS[@]}"; do
  # A node/npm already on PATH (e.g. NodeSource's nodejs, which bundles npm) is used as it is.
  if [[ "$p" == nodejs || "$p" == npm ]] && command -v "${p%js}" >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm packages of the tests (not the image): ccxt for the conformance test, exactly as locked.
if [[ "${1:-}" != "--image" ]]; then
  conf="$(cd "$(dirname "$0")/.." && pwd)/tests/conformance/ccxt"
  stamp="$conf/node_modules/.perpgw-lock"
  if ! cmp -s "$conf/package-lock.json" "$stamp" 2>/dev/null; then
    echo "install-deps: npm ci in tests/conformance/ccxt"
    (cd "$conf" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$conf/package-lock.json" "$stamp"
  fi
fi
