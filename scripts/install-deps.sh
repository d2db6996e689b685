#!/usr/bin/env bash
# Installs every build/test dependency of perpgw from Debian bookworm packages (idempotent).
set -euo pipefail
PKGS=(
  build-essential cmake git pkg-config ccache ca-certificates openssl
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libboost-dev libboost-system-dev libboost-program-options-dev
  libssl-dev libsimdjson-dev libspdlog-dev libfmt-dev catch2 libyaml-cpp-dev
  prometheus-cpp-dev libsecp256k1-dev zlib1g-dev
  python3 python3-grpcio python3-grpc-tools python3-yaml
  curl procps clang-format  # clang-format: scripts/check-format.sh (a ctest)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer + ASan/UBSan (the test command's sanitizer stage)
  prometheus docker-compose  # integration tests only: a real Prometheus server; compose file validation
)
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
