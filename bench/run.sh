#!/usr/bin/env bash
# Runs every benchmark (bounded in time, loopback only; builds nothing), writes
# bench/results/latest.json and regenerates the summary table in bench/README.md.
# Usage: bench/run.sh [BUILD_DIR] [--quick] [--report-only]   (BUILD_DIR defaults to ./build,
# see scripts/build.sh; --quick: fewer frames/orders and 2 s per e2e point, for a smoke run;
# --report-only: run nothing, regenerate the README table from bench/results/latest.json)
# bench/run.sh [BUILD_DIR] --peers [--quick] [peers.py options, e.g. --feeder --symbols 50]: only the peers bench (issue 17:
# ccxt pro vs perpgwd + a C++ client on the same perpgw-sim (or, --feeder, bench_feeder) Backpack feed; bench/peers.py), writes
# bench/peers/results.json + results.md and prints the table (the README's generated section is
# not touched).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
QUICK=0
REPORT_ONLY=0
PEERS=0
PEERS_ARGS=()
for a in "$@"; do
  if [[ $PEERS == 1 && $a == --* && $a != --quick ]]; then PEERS_ARGS+=("$a"); continue; fi
  if [[ $PEERS == 1 && ${#PEERS_ARGS[@]} -gt 0 && ${PEERS_ARGS[-1]} == --* && $a != --* ]]; then
    PEERS_ARGS+=("$a"); continue  # the value of a peers.py option
  fi
  case "$a" in
    --peers) PEERS=1 ;;
    --quick) QUICK=1 ;;
    --report-only) REPORT_ONLY=1 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) BUILD="$a" ;;
  esac
done
B="$BUILD/bench"
OUT=bench/results
if [[ $PEERS == 1 ]]; then
  [[ $QUICK == 1 ]] && PEERS_ARGS+=(--quick)
  exec timeout 3600 python3 bench/peers.py --build "$BUILD" --json bench/peers/results.json \
    --md bench/peers/results.md \
    ${PEERS_ARGS[@]+"${PEERS_ARGS[@]}"}
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TMP OUT REPORT_ONLY
if [[ $REPORT_ONLY == 0 ]]; then
for t in bench_ingest bench_e2e bench_paradex_signing bench_lighter_signing; do
  [[ -x "$B/$t" ]] || { echo "missing $B/$t: build it first (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$OUT"

if [[ $QUICK == 1 ]]; then
  FRAMES=50000; RUNS=3; SECS=2; ORDERS=100; SIGSCALE=0.3
else
  FRAMES=200000; RUNS=5; SECS=5; ORDERS=500; SIGSCALE=1
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== bench_ingest" >&2
timeout 600 "$B/bench_ingest" --frames "$FRAMES" --runs "$RUNS" --dir "$TMP" \
  --json "$TMP/ingest.json" | tee "$TMP/ingest.txt" >&2
echo "== bench_e2e" >&2
timeout 1500 "$B/bench_e2e" --seconds "$SECS" --orders "$ORDERS" --json "$TMP/e2e.json" \
  | tee "$TMP/e2e.txt" >&2
echo "== bench_paradex_signing" >&2
timeout 600 "$B/bench_paradex_signing" "$SIGSCALE" | tee "$TMP/paradex.txt" >&2
echo "== bench_lighter_signing" >&2
timeout 600 "$B/bench_lighter_signing" | tee "$TMP/lighter.txt" >&2
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

BUILD_TYPE=$(grep -m1 '^CMAKE_BUILD_TYPE:' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2 || true)
export BUILD_TYPE LOAD_START LOAD_END QUICK
fi
python3 - <<'EOF'
import json, os, platform, re, subprocess, datetime

tmp, out = os.environ["TMP"], os.environ["OUT"]
def last_json(path):
    lines = [l for l in open(path) if l.startswith('{"bench"')]
    return json.loads(lines[-1]) if lines else None

cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
except Exception:
    commit = ""
if os.environ["REPORT_ONLY"] == "1":
    res = json.load(open(f"{out}/latest.json"))
    commit = res["git_head"]
else:
  res = {
    "generated_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    "machine": {"nproc": os.cpu_count(), "cpu_model": cpu, "kernel": platform.release(),
                "loadavg_start": os.environ["LOAD_START"], "loadavg_end": os.environ["LOAD_END"]},
    "build_type": os.environ.get("BUILD_TYPE") or "unknown",
    "git_head": commit,
    "quick": os.environ["QUICK"] == "1",
    "ingest": json.load(open(f"{tmp}/ingest.json")),
    "e2e": json.load(open(f"{tmp}/e2e.json")),
    "paradex_signing": last_json(f"{tmp}/paradex.txt"),
    "lighter_signing": last_json(f"{tmp}/lighter.txt"),
}
  json.dump(res, open(f"{out}/latest.json", "w"), indent=1)

# ---- summary table (markdown) between the markers in bench/README.md
f = lambda x, d=0: f"{x:,.{d}f}"
L = []
m = res["machine"]
L.append(f"Generated {res['generated_utc']} from `bench/results/latest.json` (git {commit}, "
         f"{res['build_type']} build{', QUICK run' if res['quick'] else ''}) on {m['nproc']} x "
         f"{m['cpu_model']}; load average {m['loadavg_start']} at start, {m['loadavg_end']} at end.")
L.append("")
L.append("**Ingest** (one core, thread CPU time, median of runs; a message = one depth-diff frame):")
L.append("")
L.append("| venue | levels/msg | pipeline ns/msg | pipeline msgs/s | pipeline levels/s | "
         "ceiling ns/msg | ratio ceiling/pipeline | decode-only ns/msg | BookSync ns/msg |")
L.append("|---|---|---|---|---|---|---|---|---|")
for v in res["ingest"]["venues"]:
    L.append(f"| {v['venue']} | {v['level_changes_per_frame']:.2f} | "
             f"{f(v['pipeline_cpu_ns_per_msg'])} | {f(v['pipeline_msgs_per_s_per_core'])} | "
             f"{f(v['pipeline_level_changes_per_s_per_core'])} | {f(v['ceiling_cpu_ns_per_msg'])} | "
             f"{v['ratio_pipeline_over_ceiling']:.2f} | {f(v['decode_only_cpu_ns_per_msg'])} | "
             f"{f(v['book_cpu_ns_per_msg'])} |")
e = res["e2e"]
import statistics
if "grpc_floor" in e:
    L.append("")
    L.append("**gRPC floor** (the physical ceiling of the last hop on this machine: a minimal "
             "StreamOrderBooks server, no venue/adapter/bus, one producer thread stamping "
             "send_time_ns, same clients; us from send_time_ns to client receive; `hint` = gRPC "
             "buffer hint while more messages are queued, as perpgwd does):")
    L.append("")
    L.append("| msgs/s | K | writes | delivered msgs/s | p50 | p99 | p999 |")
    L.append("|---|---|---|---|---|---|---|")
    for p in e["grpc_floor"]:
        o = p["serialize_to_client"]
        L.append(f"| {f(p['msgs_per_s'])} | {p['subscribers']} | {p['writes']} | "
                 f"{f(p['delivered_msgs_per_s'])} | {f(o['p50_us'])} | {f(o['p99_us'])} | "
                 f"{f(o['p999_us'])} |")
if "market_data" in e:
    L.append("")
    L.append("**Market data end to end** (sim configured with one symbol, BTC; StreamOrderBooks; "
             "latencies in us; gw = client receive - receive_time_ns, sim = client receive - the "
             "frame's sim_ns; Aster's diff stream is batched per 100 ms like the venue's, "
             "Backpack's `depth.<symbol>` is real time, one message per generator update, "
             "Paradex's SBE `order_book` deltas are throttled per 50 ms like the venue's and its "
             "sim time is the BookEvent's microsecond timestamp; Lighter's `update/order_book` "
             "frames are batched per 50 ms like the venue's and its sim time is the frame's "
             "millisecond `timestamp`, so its sim column reads up to 1 ms long):")
    L.append("")
    L.append("| venue | sim upd/s | K | venue frames/s | depth msgs/s per sub | delivered msgs/s | "
             "gw p50 | gw p99 | gw p999 | sim p50 | sim p99 | sim p999 | recv→serialize p50/p99 | "
             "serialize→client p50/p99 | perpgwd CPU % | CPU ms / 1k venue frames | RSS MB | "
             "resyncs | held |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in e["market_data"]:
        g, s = p["gateway_latency"], p["sim_to_client_latency"]
        L.append(f"| {p['venue']} | {f(p['sim_updates_per_s'])} | {p['subscribers']} | "
                 f"{f(p['venue_frames_per_s'])} | "
                 f"{p['depth_frames_per_s']:.1f} | {f(p['delivered_msgs_per_s'])} | "
                 f"{f(g['p50_us'])} | {f(g['p99_us'])} | {f(g['p999_us'])} | {f(s['p50_us'])} | "
                 f"{f(s['p99_us'])} | {f(s['p999_us'])} | "
                 f"{f(p['gateway_receive_to_serialize']['p50_us'])}/{f(p['gateway_receive_to_serialize']['p99_us'])} | "
                 f"{f(p['serialize_to_client']['p50_us'])}/{f(p['serialize_to_client']['p99_us'])} | "
                 f"{p['perpgwd_cpu_pct']:.1f} | "
                 f"{p['perpgwd_cpu_ms_per_1000_venue_frames']:.1f} | {p['perpgwd_rss_kb']/1024:.1f} | "
                 f"{p['resyncs']} | {'yes' if p['held'] else 'NO'} |")
    L.append("")
    for ven in sorted({p["venue"] for p in e["market_data"]}):
        pts = [p for p in e["market_data"] if p["venue"] == ven]
        for k in sorted({p["subscribers"] for p in pts}):
            held = [p["sim_rate"] for p in pts if p["subscribers"] == k and p["held"]]
            L.append(f"- {ven}, K={k}: highest sim rate held "
                     f"{f(max(held)) + ' updates/s' if held else 'none of the rates tried'}.")
if "stalled" in e:
    L.append("")
    L.append("**Stalled subscriber** (per venue: 50 books, 10 readers on all 50, windows A B A B A "
             "back to back, B adds one client that never reads; latencies in us):")
    L.append("")
    L.append("| venue | window | delivered msgs/s | gw p50 | gw p99 | gw p999 | resyncs |")
    L.append("|---|---|---|---|---|---|---|")
    for ven in sorted({p["venue"] for p in e["stalled"]}):
        vs = [p for p in e["stalled"] if p["venue"] == ven]
        for lab in ("50 books", "50 books +stalled"):
            ws = [p for p in vs if p["label"] == lab]
            if ws:
                L.append(f"| {ven} | **median of {len(ws)}: {lab}** | "
                         f"{f(statistics.median(p['delivered_msgs_per_s'] for p in ws))} | "
                         f"{f(statistics.median(p['gateway_latency']['p50_us'] for p in ws))} | "
                         f"{f(statistics.median(p['gateway_latency']['p99_us'] for p in ws))} | "
                         f"{f(statistics.median(p['gateway_latency']['p999_us'] for p in ws))} | "
                         f"{sum(p['resyncs'] for p in ws)} |")
        for p in vs:
            g = p["gateway_latency"]
            L.append(f"| {ven} | {p['label']} | {f(p['delivered_msgs_per_s'])} | {f(g['p50_us'])} | "
                     f"{f(g['p99_us'])} | {f(g['p999_us'])} | {p['resyncs']} |")
if "orders" in e:
    L.append("")
    L.append("**Order path** (post-only far from the touch, interleaved one for one; us; "
             "direct = the venue's answer to the signed request; Lighter's answer to `sendTx` is "
             "acceptance, not execution, and perpgwd's Lighter ack waits (up to 1 s) for the "
             "order to show on the account stream, so for Lighter the last two columns time the "
             "direct order until it shows on its `account_all_orders` channel and compare with "
             "that):")
    L.append("")
    L.append("| venue | via perpgwd p50/p99 | direct to the sim p50/p99 | gateway-added p50/p99 | "
             "signing alone p50/p99 | unary GetVersion via perpgwd p50/p99 | n | "
             "direct until on account stream p50/p99 | gateway-added vs that p50/p99 |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for o in e["orders"]:
        if o["via_gateway"]["n"] == 0 or o["direct"]["n"] == 0:
            L.append(f"| {o['venue']} | not run: {o.get('note', 'no orders completed')} "
                     "| | | | | | | |")
            continue
        u = o.get("unary_get_version", {"p50_us": 0, "p99_us": 0})
        shown = "—", "—"
        if "direct_until_shown" in o:
            d = o["direct_until_shown"]
            shown = (f"{f(d['p50_us'])}/{f(d['p99_us'])} (n={d['n']})",
                     f"{f(o['gateway_added_vs_shown_p50_us'])}/{f(o['gateway_added_vs_shown_p99_us'])}")
        L.append(f"| {o['venue']} | {f(o['via_gateway']['p50_us'])}/{f(o['via_gateway']['p99_us'])} | "
                 f"{f(o['direct']['p50_us'])}/{f(o['direct']['p99_us'])} | "
                 f"{f(o['gateway_added_p50_us'])}/{f(o['gateway_added_p99_us'])} | "
                 f"{o['signing']['p50_us']:.2f}/{o['signing']['p99_us']:.2f} | "
                 f"{f(u['p50_us'])}/{f(u['p99_us'])} | {o['via_gateway']['n']} | "
                 f"{shown[0]} | {shown[1]} |")
if "memory" in e:
    mm = e["memory"]
    L.append("")
    L.append(f"**Memory**: perpgwd RSS with {mm['venues']} venues and {mm['books_live']}/"
             f"{mm['books_configured']} books live: {mm['perpgwd_rss_kb_idle']/1024:.1f} MB idle, "
             f"{mm['perpgwd_rss_kb_after']/1024:.1f} MB after the subscriber windows.")
def sig(name, d, keys):
    if not d: return
    L.append("")
    L.append(f"**{name}** (us/op, medians, from the bench's JSON line; all keys in latest.json): " +
             ", ".join(f"{k} {d[k]:.2f}" for k in keys if k in d))
sig("Paradex signing", res["paradex_signing"],
    ["sign_order_us", "sign_only_us", "order_hash_cached_us", "verify_order_us", "pedersen_us"])
sig("Lighter signing", res["lighter_signing"],
    ["sign_tx_create_order", "sign", "hash_create_order", "verify", "auth_token"])

readme = "bench/README.md"
text = open(readme).read()
b, en = "<!-- BEGIN RESULTS -->", "<!-- END RESULTS -->"
i, j = text.index(b), text.index(en)
text = text[:i + len(b)] + "\n" + "\n".join(L) + "\n" + text[j:]
open(readme, "w").write(text)
print("wrote", f"{out}/latest.json", "and the table in", readme)
EOF
