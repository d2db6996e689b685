#!/usr/bin/env bash
# Installs dependencies, builds, then runs perpgw-sim + perpgwd (config/demo.yaml) in the
# foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
SIM_PID=""
if [ -x build/sim/perpgw-sim ]; then
  rm -f build/demo-endpoints.json
  # --shared-reference: the venues quote one reference price per asset (each with its own small
  # basis and spread) and pay funding rates that differ between venues and drift, so funding
  # spreads (FundingService/RankFundingOpportunities) show up.
  build/sim/perpgw-sim --config config/sim.yaml --shared-reference \
      --endpoints-out build/demo-endpoints.json &
  SIM_PID=$!
  for _ in $(seq 1 100); do [ -s build/demo-endpoints.json ] && break; sleep 0.1; done
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
Python client and a funding-arbitrage example: examples/python/ (gen_stubs.sh first).

MSG
build/gateway/perpgwd --config config/demo.yaml
