#!/usr/bin/env bash
# Installs dependencies, builds, then runs perpgw-sim + perpgwd (config/demo.yaml) in the
# foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
SIM_PID=""
if [ -x build/sim/perpgw-sim ]; then
  rm -f build/demo-endpoints.json
  # A fresh sim has none of the last run's orders: start the demo's order journal afresh too.
  rm -rf build/demo-journal
  # --shared-reference: the venues quote one reference price per asset (each with its own small
  # basis and spread) and pay funding rates that differ between venues and drift, so funding
  # spreads (FundingService/RankFundingOpportunities) show up.
  build/sim/perpgw-sim --config config/sim.yaml --shared-reference \
      --endpoints-out build/demo-endpoints.json &
  SIM_PID=$!
  for _ in $(seq 1 100); do [ -s build/demo-endpoints.json ] && break; sleep 0.1; done
  # The sim's throwaway test accounts (config/demo.yaml reads them from the environment).
  eval "$(python3 - build/demo-endpoints.json <<'PY'
import json, shlex, sys
v = json.load(open(sys.argv[1]))["venues"]
def cred(venue, account, key):
    for a in v.get(venue, {}).get("accounts", []):
        if a["id"] == account:
            return a["credentials"][key]
    raise SystemExit(f"demo: the sim published no account {account}")
for name, venue, account, key in [
        ("SIM_ASTER_API_KEY", "aster", "aster-v1", "api_key"),
        ("SIM_ASTER_API_SECRET", "aster", "aster-v1", "api_secret"),
        ("SIM_BACKPACK_API_KEY", "backpack", "backpack-1", "api_key"),
        ("SIM_BACKPACK_API_SECRET", "backpack", "backpack-1", "api_secret"),
        ("SIM_PARADEX_ACCOUNT", "paradex", "paradex-1", "account"),
        ("SIM_PARADEX_STARK_KEY", "paradex", "paradex-1", "stark_private_key"),
        ("SIM_LIGHTER_ACCOUNT_INDEX", "lighter", "lighter-1", "account_index"),
        ("SIM_LIGHTER_API_KEY_INDEX", "lighter", "lighter-1", "api_key_index"),
        ("SIM_LIGHTER_API_PRIVATE_KEY", "lighter", "lighter-1", "api_private_key")]:
    print(f"export {name}={shlex.quote(cred(venue, account, key))}")
PY
)"
fi
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
cat <<'MSG'

perpgwd is starting on 127.0.0.1:50051 (server reflection + grpc.health.v1 on).
Query it from another terminal, e.g. with grpcurl (https://github.com/fullstorydev/grpcurl):
  grpcurl -plaintext 127.0.0.1:50051 list
  grpcurl -plaintext 127.0.0.1:50051 perpgw.v1.GatewayService/ListVenues
  grpcurl -plaintext -d '{"market":{"venue":"aster","symbol":"BTC"},"depth":5}' \
      127.0.0.1:50051 perpgw.v1.MarketDataService/GetOrderBook
  build/gateway/perpgwd health-check --addr 127.0.0.1:50051
or with the bundled reflection client (same flags as grpcurl):
  build/examples/perpgw-cli -plaintext 127.0.0.1:50051 list
Python client: /usr/bin/python3 -m venv --system-site-packages .venv && .venv/bin/pip install --no-index ./clients/python (README "Python client"); funding-arbitrage example: examples/python/.

MSG
build/gateway/perpgwd --config config/demo.yaml
