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
)
# Everything else the README's commands use: tests, benchmarks, fuzzing, the Python example.
DEV_PKGS=(
  git ccache openssl catch2
  python3 python3-grpcio python3-grpc-tools python3-yaml
  curl procps clang-format  # clang-format: scripts/check-format.sh (a ctest)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer + ASan/UBSan (the test command's sanitizer stage)
  prometheus docker-compose  # integration tests only: a real Prometheus server; compose file validation
)
PKGS=("${BUILD_PKGS[@]}")
if [[ "${1:-}" != "--image" ]]; then PKGS+=("${DEV_PKGS[@]}"); fi
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
