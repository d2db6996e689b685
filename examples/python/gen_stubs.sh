#!/usr/bin/env bash
# Generates the perpgw.v1 Python stubs (messages + gRPC) from proto/ into OUT_DIR.
#   gen_stubs.sh [OUT_DIR]        default: examples/python/gen (git-ignored; never committed)
# The perpgw package (clients/python) generates its own stubs when installed; this script is for
# running from a checkout without installing (PERPGW_PY_STUBS=OUT_DIR, see funding_arb.py) and
# for scripts that only need the raw stubs (tests/soak/soak.py, deploy/strategy.Dockerfile).
# Uses the system protoc (matches Debian's python3-protobuf 4.21 runtime) and grpc_python_plugin
# (protobuf-compiler-grpc). Debian's python3-grpc-tools bundles protoc 3.5, whose output the 4.21
# runtime refuses, so `python3 -m grpc_tools.protoc` is deliberately not used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/gen}"
protoc_bin="${PROTOC:-$(command -v protoc || true)}"
plugin="${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}"
if [ -z "$protoc_bin" ] || [ -z "$plugin" ]; then
  echo "gen_stubs.sh: needs protoc and grpc_python_plugin" \
       "(apt-get install protobuf-compiler protobuf-compiler-grpc)" >&2
  exit 1
fi
mkdir -p "$out"
"$protoc_bin" -I "$root/proto" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" "$root"/proto/perpgw/v1/*.proto
# Make perpgw/ and perpgw/v1/ importable packages.
touch "$out/perpgw/__init__.py" "$out/perpgw/v1/__init__.py"
echo "gen_stubs.sh: stubs in $out"
