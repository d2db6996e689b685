#!/usr/bin/env bash
# NATS fan-out (issue 18): N consumers of one book through NATS (perpgwd publish.nats ->
# nats-server -> perpgw-nats-book) beside N gRPC StreamOrderBooks consumers of the same gateway
# (perpgw-nats-book --grpc), on this machine: gateway->consumer latency p50/p99 (send_time_ns,
# median of the consumers' p50, worst p99) and perpgwd's CPU; plus perpgwd's idle CPU with and
# without publishing. Real nats-server (Debian), perpgw-sim (aster), temp dir.
#   bench/nats_fanout.sh [BUILD_DIR] [CONSUMER_COUNTS...]   (default: build 1 10 100)
# Under load (--load): perpgwd's CPU with publish.nats on vs off on the same Backpack feed (its
# depth stream is unbatched: every sim update is a frame), at each rate, arms alternated RUNS
# times (default 2); both arms serve one gRPC StreamOrderBooks consumer, the "on" arm also
# publishes to nats-server with one NATS consumer of the book (so publishing is not idle).
#   bench/nats_fanout.sh --load [BUILD_DIR] [RATES...]   (default: build 1000 10000)
set -euo pipefail
LOAD=0; [ "${1:-}" = --load ] && { LOAD=1; shift; }
B="$(cd "${1:-build}" && pwd)"; shift || true
COUNTS=("${@:-1 10 100}"); [ $# -eq 0 ] && COUNTS=(1 10 100)
if [ "$LOAD" = 1 ]; then RATES=("$@"); [ $# -eq 0 ] && RATES=(1000 10000); fi
SECS=${SECS:-10}; RATE=${RATE:-2000}; RUNS=${RUNS:-2}
VENUE=aster; [ "$LOAD" = 1 ] && VENUE=backpack
D=$(mktemp -d /tmp/perpgw-nats-fanout.XXXXXX); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
mkdir -p "$D/ports"
nats-server -a 127.0.0.1 -p -1 -js -sd "$D/js" --ports_file_dir "$D/ports" >"$D/nats.log" 2>&1 & PIDS+=($!)
sim() {  # $1: rate
  rm -f "$D/ep.json"
  "$B/sim/perpgw-sim" --venues "$VENUE" --seed 7 --rate "$1" --endpoints-out "$D/ep.json" >"$D/sim.log" 2>&1 &
  SPID=$!; PIDS+=($SPID)
  for _ in $(seq 100); do [ -s "$D/ep.json" ] && break; sleep 0.1; done
}
[ "$LOAD" = 1 ] || sim "$RATE"
for _ in $(seq 100); do ls "$D"/ports/*.ports >/dev/null 2>&1 && break; sleep 0.1; done
NURL=$(grep -o 'nats://[0-9.]*:[0-9]*' "$D"/ports/*.ports | head -1)
gateway() {  # $1: 1 = publish.nats on
  python3 - "$D" "$NURL" "$1" "$VENUE" <<'EOF'
import json, sys
d, url, pub, venue = sys.argv[1:]
e = json.load(open(d + '/ep.json'))['venues'][venue]
cfg = f"listen: 127.0.0.1:0\nvenues:\n  {venue}: {{rest_url: {e['rest_url']}, ws_url: {e['ws_url']}, symbols: [BTC], stale_after_ms: 60000}}\n"
if pub == '1':
    cfg += f'publish: {{nats: {{url: "{url}", book_snapshot_interval_ms: 1000}}}}\n'
open(d + '/gw.yaml', 'w').write(cfg)
EOF
  rm -f "$D/port"
  "$B/gateway/perpgwd" --config "$D/gw.yaml" --port-file "$D/port" >"$D/gw-$1.log" 2>&1 &
  GPID=$!; PIDS+=($GPID)
  for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.1; done
  sleep 3  # instruments and the first book
}
ticks() { awk '{print $14+$15}' "/proc/$GPID/stat"; }
cpu_pct() { awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" -v s="$SECS" 'BEGIN{printf "%.1f", (b-a)*100/(hz*s)}'; }
idle() {
  local t0; t0=$(ticks); sleep "$SECS"; echo "perpgwd idle CPU, publish.nats $2: $(cpu_pct "$t0" "$(ticks)") %"
}
run() {  # $1 transport (nats|grpc), $2 consumers
  local args pids=() t0 t1
  if [ "$1" = nats ]; then args=(--url "$NURL"); else args=(--grpc "127.0.0.1:$(cat "$D/port")"); fi
  for i in $(seq "$2"); do
    "$B/bench/perpgw-nats-book" "${args[@]}" --venue aster --symbol BTC --seconds "$SECS" >"$D/c-$1-$i.out" 2>&1 &
    pids+=($!)
  done
  t0=$(ticks); wait "${pids[@]}"; t1=$(ticks)
  python3 - "$D" "$1" "$2" "$(cpu_pct "$t0" "$t1")" <<'EOF'
import json, statistics, sys
d, tr, n, cpu = sys.argv[1:]
p50, p99, msgs, gaps = [], [], [], 0
for i in range(1, int(n) + 1):
    lines = [l for l in open(f'{d}/c-{tr}-{i}.out') if l.startswith('{')]
    if not lines: continue
    j = json.loads(lines[-1])
    if j['latency_p50_us'] >= 0: p50.append(j['latency_p50_us']); p99.append(j['latency_p99_us'])
    msgs.append(j['messages']); gaps += j['gaps']
print(f"| {tr} | {n} | {statistics.median(p50) if p50 else '-'} | {max(p99) if p99 else '-'} | "
      f"{int(statistics.median(msgs)) if msgs else 0} | {gaps} | {cpu} % |")
EOF
}
if [ "$LOAD" = 1 ]; then
  # One arm: perpgwd (publish on/off) + its consumers for SECS; prints "cpu_pct msgs".
  arm() {  # $1: 1 = publish.nats on
    local pids=() t0 t1
    gateway "$1"
    "$B/bench/perpgw-nats-book" --grpc "127.0.0.1:$(cat "$D/port")" --venue "$VENUE" --symbol BTC \
      --seconds "$SECS" >"$D/l-grpc.out" 2>&1 & pids+=($!)
    if [ "$1" = 1 ]; then
      "$B/bench/perpgw-nats-book" --url "$NURL" --venue "$VENUE" --symbol BTC --seconds "$SECS" \
        >"$D/l-nats.out" 2>&1 & pids+=($!)
    fi
    t0=$(ticks); wait "${pids[@]}"; t1=$(ticks)
    kill "$GPID"; wait "$GPID" 2>/dev/null || true
    python3 - "$D/l-grpc.out" "$(cpu_pct "$t0" "$t1")" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith('{')]
print(sys.argv[2], json.loads(lines[-1])['messages'] if lines else 0)
EOF
  }
  echo "| rate (updates/s) | run | perpgwd CPU, NATS off | NATS on | on / off | gRPC book msgs off / on |"
  echo "|---|---|---|---|---|---|"
  for r in "${RATES[@]}"; do
    sim "$r"
    for i in $(seq "$RUNS"); do
      read -r off moff < <(arm 0); read -r on mon < <(arm 1)
      echo "| $r | $i | $off % | $on % | $(awk -v a="$on" -v b="$off" 'BEGIN{printf "%.2f", (b > 0) ? a / b : 0}') | $moff / $mon |"
    done
    kill "$SPID"; wait "$SPID" 2>/dev/null || true
  done
  exit 0
fi
gateway 0; idle 0 off; kill "$GPID"; wait "$GPID" 2>/dev/null || true
gateway 1; idle 1 on
echo "| transport | consumers | p50 us (median) | p99 us (worst) | book msgs/consumer | gaps | perpgwd CPU |"
echo "|---|---|---|---|---|---|---|"
for n in "${COUNTS[@]}"; do run nats "$n"; run grpc "$n"; done
