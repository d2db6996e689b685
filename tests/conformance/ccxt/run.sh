#!/usr/bin/env bash
# ccxt conformance (issue 16): starts perpgw-sim on ephemeral ports, runs run.mjs (ccxt pointed at
# the sim with only its base URLs changed) and stops the sim. ccxt comes from npm
# (package-lock.json pins it; scripts/install-deps.sh runs `npm ci` here).
# Usage: run.sh <perpgw-sim binary> [venue ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sim="$1"
shift
if [[ ! -d "$here/node_modules/ccxt" ]]; then
  echo "ccxt is not installed in $here: run scripts/install-deps.sh (it runs npm ci there)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
"$sim" --venues "${PERPGW_CCXT_VENUES:-aster,backpack,paradex,lighter}" --seed 7 --rate 20 --trade-rate 4 --endpoints-out "$tmp/endpoints.json" \
  > "$tmp/sim.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  [[ -s "$tmp/endpoints.json" ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$tmp/sim.log" >&2; exit 1; fi
  sleep 0.05
done
[[ -s "$tmp/endpoints.json" ]] || { echo "perpgw-sim wrote no endpoints file" >&2; exit 1; }
node "$here/run.mjs" "$tmp/endpoints.json" "$@"
