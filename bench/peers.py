#!/usr/bin/env python3
"""Peers bench (issue 17, "the bench must measure the daemon itself"): ccxt pro on perpgw-sim's
Backpack feed directly vs perpgwd + a minimal C++ StreamOrderBooks client on the same feed.

Per run: a fresh perpgw-sim (one venue, backpack; one symbol, BTC_USDC_PERP; seed fixed) at the
row's rate, the arm's processes, a warm-up, then an N-second window measured from /proc
(utime+stime of every process involved: node for ccxt; perpgwd and bench_peers_client for ours;
the sim for both), the generator's published-update counter (GET /venues) and the consumer's
per-message latencies. After the window the rate goes to 0 (POST /rate), the consumer is waited
for until it has applied the sim's last update id, and its top N levels are compared with the
sim's truth (GET /book). Arms alternate (ccxt first on even runs, ours first on odd runs).

Latency stamp: the depth frame's `T` (microseconds). It is the one sim stamp both consumers see:
perpgwd forwards it as exchange_time_ns; ccxt reads it from the raw frame (its handleOrderBook is
hooked). The sim takes `T` when it generates the update and `sim_ns` (its send stamp) just
before queueing the frame; the ccxt arm also records sim_ns - T, reported beside the figures.

Held: the generator reached >= 95 % of the rate, some messages were delivered, p99 < 50 ms, the
consumer caught up with the sim's last update and its top N levels equal the truth, and no
disconnect, resync (a new snapshot) or sequence gap happened from the window's start to the
book check (each counted, and named in the reason).

Usage: peers.py [--build DIR] [--rates 1000,10000,50000] [--seconds 10] [--runs 2] [--levels 10]
                [--arms ccxt,perpgwd] [--quick] [--inject-drop] [--json FILE] [--md FILE]
                [--feeder [--feeder-tick-us 1000]] [--symbols N] [--batched]
--feeder: the feed is bench_feeder (bench/feeder/: pre-generated, pre-serialized depth frames, the
same protocol subset and control API) instead of perpgw-sim, for rates the sim cannot generate on a
2-core box; its own limit (bench_feeder --selftest-rate: a discarding reader, as fast as it goes)
is measured once at start and printed beside the figures, with its CPU per update in every run.
--symbols N (1..200): the feed carries BTC_USDC_PERP + S001_USDC_PERP... (rates are aggregate over
all of them); ccxt watches them with watchOrderBookForSymbols, the C++ client on one
StreamOrderBooks stream; every symbol's book is checked against the truth, CPU per update counts
every symbol's updates.
--quick: rates 1000, 2 s windows, 1 run (a smoke form). Prints the markdown table, then one JSON
line starting {"bench":"peers". Exit 1 when a run could not be set up at all (a row with no
delivery is a result, not an error).
"""
import argparse
import datetime
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench")
CCXT_VERSION = "4.5.84"  # the version the conformance test pins (tests/conformance/ccxt)
SIM_SYMBOL = "BTC_USDC_PERP"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cpu_s(pid):
    try:
        s = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK  # fields 14, 15: utime, stime


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def clock_offset_ns():
    """CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few back-to-back reads."""
    best = None
    for _ in range(20):
        a = time.monotonic_ns()
        r = time.time_ns()
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, r - (a + b) // 2)
    return best[1]


def http(url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def find_ccxt():
    """The ccxt package dir: the conformance test's install, else bench/peers' own (npm)."""
    for d in (os.path.join(ROOT, "tests/conformance/ccxt/node_modules/ccxt"),
              os.path.join(HERE, "peers/node_modules/ccxt")):
        if os.path.isfile(os.path.join(d, "package.json")):
            return d
    if not shutil.which("npm"):
        return None
    log(f"== installing ccxt@{CCXT_VERSION} into bench/peers (npm)")
    subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                    os.path.join(HERE, "peers"), f"ccxt@{CCXT_VERSION}"], check=False,
                   stdout=sys.stderr)
    d = os.path.join(HERE, "peers/node_modules/ccxt")
    return d if os.path.isfile(os.path.join(d, "package.json")) else None


class Proc:
    """A child process; with protocol=True its stdin/stdout speak the consumers' line protocol."""

    def __init__(self, argv, log_path, protocol=False, env=None):
        self.lines = queue.Queue()
        self.logf = open(log_path, "w")
        self.p = subprocess.Popen(
            argv, stdin=subprocess.PIPE if protocol else subprocess.DEVNULL,
            stdout=subprocess.PIPE if protocol else self.logf, stderr=self.logf, text=True,
            env=env, start_new_session=True)
        if protocol:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.lines.put(json.loads(line))
                except ValueError:
                    pass
        self.lines.put(None)

    @property
    def pid(self):
        return self.p.pid

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()

    def wait_event(self, event, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                m = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if m is None:
                return None  # exited
            if m.get("event") == event:
                return m

    def ask(self, cmd, event, timeout=10):
        self.send(cmd)
        return self.wait_event(event, timeout)

    def stop(self):
        if self.p.poll() is None:
            try:
                if self.p.stdin:
                    self.send("quit")
                self.p.wait(timeout=3)
            except Exception:
                pass
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)  # this child's pid only
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()


def wait_file(path, proc, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return open(path).read()
        if proc.p.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def norm(levels):
    return [(Decimal(p).normalize(), Decimal(s).normalize()) for p, s in levels]


def feed_symbols(n):
    """(venue symbol, base) of the N symbols: BTC_USDC_PERP, then S001_USDC_PERP... (the names
    bench_feeder generates; the sim is configured with the same)."""
    return [(SIM_SYMBOL, "BTC")] + [(f"S{i:03d}_USDC_PERP", f"S{i:03d}") for i in range(1, n)]


def run_one(arm, rate, a, bins, tmp):
    """One measured window; returns a row dict (never raises for a consumer-side failure)."""
    r = {"arm": arm, "rate": rate, "seconds": a.seconds, "held": False, "why": []}
    procs = []
    names = feed_symbols(a.symbols)
    feed = "feeder" if a.feeder else "sim"  # the feed's key in the per-process figures
    try:
        ep_path = f"{tmp}/endpoints.json"
        if a.feeder:
            sim = Proc([bins["feeder"], "--symbols", str(a.symbols), "--rate", str(rate),
                        "--levels", "20", "--tick-us", str(a.feeder_tick_us),
                        "--endpoints-out", ep_path], f"{tmp}/feeder.log")
        else:
            with open(f"{tmp}/sim.yaml", "w") as f:
                f.write(f"bind: 127.0.0.1\ncontrol_port: 0\nseed: 7\nrate: {rate}\ndepth: 20\n"
                        "funding_timer: false\nvenues:\n  backpack:\n    port: 0\n    instruments:\n"
                        f"      - {{symbol: {SIM_SYMBOL}, base: BTC, quote: USDC, tick: \"0.1\", "
                        "step: \"0.001\", min_qty: \"0.001\", mid: \"100000\", max_leverage: 20}\n")
                for i, (vs, base) in enumerate(names[1:], 1):
                    f.write(f"      - {{symbol: {vs}, base: {base}, quote: USDC, tick: \"0.01\", "
                            f"step: \"0.01\", min_qty: \"0.01\", mid: \"{100 + i}\", max_leverage: 20}}\n")
            sim = Proc([bins["sim"], "--config", f"{tmp}/sim.yaml", "--endpoints-out", ep_path],
                       f"{tmp}/sim.log")
        procs.append(sim)
        ep = wait_file(ep_path, sim)
        if not ep:
            r["why"].append("bench_feeder did not start" if a.feeder else "perpgw-sim did not start")
            return r
        ep = json.loads(ep)
        control = ep["control_url"]
        bp = ep["venues"]["backpack"]
        watched = {feed: sim.pid}
        if arm == "ccxt":
            argv = ["node", os.path.join(HERE, "peers/ccxt_consumer.mjs"), bins["ccxt"], ep_path]
            if len(names) > 1:
                argv.append(",".join(f"{base}/USDC:USDC" for _, base in names))
            consumer = Proc(argv, f"{tmp}/consumer.log", protocol=True)
            watched["node"] = consumer.pid
        else:
            with open(f"{tmp}/perpgwd.yaml", "w") as f:
                f.write("listen: 127.0.0.1:0\nlog_level: warn\nvenues:\n  backpack:\n"
                        f"    rest_url: {bp['rest_url']}\n    ws_url: {bp['ws_url']}\n"
                        f"    stale_after_ms: 60000\n    symbols: [{', '.join(b for _, b in names)}]\n"
                        "    fees: {maker: \"0.0002\", taker: \"0.0005\"}\n")
            gw = Proc([bins["perpgwd"], "--config", f"{tmp}/perpgwd.yaml", "--port-file",
                       f"{tmp}/port"], f"{tmp}/perpgwd.log")
            procs.append(gw)
            port = wait_file(f"{tmp}/port", gw)
            if not port:
                r["why"].append("perpgwd did not start: " + open(f"{tmp}/perpgwd.log").read()[-300:])
                return r
            sym_args = ["--symbol", "BTC"] if len(names) == 1 else \
                ["--symbols", ",".join(b for _, b in names)]
            consumer = Proc([bins["client"], "--target", f"127.0.0.1:{port.strip()}",
                             "--venue", "backpack"] + sym_args +
                            (["--batched"] if a.batched else []),
                            f"{tmp}/consumer.log", protocol=True)
            watched["perpgwd"] = gw.pid
            watched["client"] = consumer.pid
        procs.append(consumer)
        ready = consumer.wait_event("ready", 40)
        if not ready:
            r["why"].append("no book: the consumer never got a live book (" +
                            open(f"{tmp}/consumer.log").read()[-300:].strip().replace("\n", " ") + ")")
            return r
        time.sleep(a.warmup)
        # CLOCK_REALTIME - CLOCK_MONOTONIC for the ccxt arm's clock (the C++ client reads
        # CLOCK_REALTIME itself and ignores it).
        off = clock_offset_ns()
        if consumer.ask(f"start {off}", "started") is None:
            r["why"].append("consumer exited before the window")
            return r
        up0 = published(control)
        c0 = {k: cpu_s(p) for k, p in watched.items()}
        t0 = time.monotonic()
        if a.inject_drop:  # check of the harness: a venue disconnect mid-window must count
            time.sleep(a.seconds / 2)
            http(control + "/fault", {"venue": "backpack", "kind": "drop_ws"})
            time.sleep(a.seconds / 2)
        else:
            time.sleep(a.seconds)
        c1 = {k: cpu_s(p) for k, p in watched.items()}
        t1 = time.monotonic()
        up1 = published(control)
        consumer.ask("stop", "stopped")
        rss = {k: rss_kb(p) for k, p in watched.items() if k != feed}
        http(control + "/rate", {"venue": "backpack", "rate": "0"})
        updates = up1 - up0
        r["sim_updates_per_s"] = updates / (t1 - t0)
        r["updates"] = updates
        r["cpu_us_per_update"] = {
            k: (c1[k] - c0[k]) * 1e6 / updates if updates and c0[k] is not None and c1[k] is not None
            else None for k in watched}
        r["cpu_pct"] = {k: 100 * (c1[k] - c0[k]) / (t1 - t0)
                        if c0[k] is not None and c1[k] is not None else None for k in watched}
        r["rss_mb"] = {k: v / 1024 if v else None for k, v in rss.items()}
        # Quiesce: the feed's last id per symbol, then wait for the consumer to have applied them.
        def truths():
            return {b: http(f"{control}/book?venue=backpack&symbol={vs}&depth={a.levels}")
                    for vs, b in names}
        truth_by = truths()
        caught = False
        behind = len(names)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            st = consumer.ask("status", "status", 5)
            if st:
                us = st.get("us") or {names[0][1]: st["u"]}
                behind = sum(us.get(b, 0) < truth_by[b]["update_id"] for _, b in names)
                if not behind:
                    caught = True
                    break
            time.sleep(0.1)
        truth_by = truths()
        truth = truth_by[names[0][1]]
        d = consumer.ask(f"dump {a.levels}", "dump", 20)
        if d is None:
            r["why"].append("consumer exited")
            return r
        if "ccxt_version" in d:
            r["ccxt_version"] = d["ccxt_version"]
        r["latency"] = d["latency"]
        if "sim_ns_minus_T" in d:
            r["sim_ns_minus_T"] = d["sim_ns_minus_T"]
        if d.get("gateway_latency", {}).get("n"):
            # perpgwd arm: from the kernel's receive stamp of the venue frame in perpgwd
            # (SO_TIMESTAMPNS, carried as receive_time_ns) to the client: what the gateway adds,
            # input queueing in its socket included.
            r["gateway_latency"] = d["gateway_latency"]
        # Messages the consumer handled in the window (its samples) per generated update: 1 on
        # Backpack's real-time stream unless perpgwd merged updates into one message.
        r["messages"] = d["latency"].get("n", 0)
        r["messages_per_update"] = r["messages"] / updates if updates else None
        if a.batched and r["arm"] == "perpgwd" and "msgs" in d:
            # StreamOrderBookBatches: the gRPC messages (batches) the client read in the window;
            # "messages" above stays the updates it applied.
            r["batches"] = d["msgs"]
            r["batches_per_update"] = d["msgs"] / updates if updates else None
        for k in ("resyncs", "disconnects", "sequence_gaps"):
            r[k] = d.get(k, 0)
        r["not_live"] = d.get("not_live", 0)
        # perpgwd resyncs a pair with a new snapshot (counted by the client; the first snapshot
        # is before the window).
        r["resyncs"] = max(r["resyncs"], d.get("snapshots", 0))
        books = d.get("books") or {names[0][1]: d}
        differ = [b for _, b in names if b not in books
                  or norm(books[b]["bids"]) != norm(truth_by[b]["bids"])
                  or norm(books[b]["asks"]) != norm(truth_by[b]["asks"])]
        exact = caught and not differ
        r["book_exact"] = exact
        if len(names) > 1:
            r["symbols"] = len(names)
            r["books_exact"] = len(names) - len(differ) if caught else None
        r["consumer_u"], r["truth_u"] = d["u"], truth["update_id"]
        why = r["why"]
        if updates < 0.95 * rate * (t1 - t0):
            why.append(f"{feed} generated {r['sim_updates_per_s']:,.0f}/s < 95 % of {rate:,}/s")
        if not d["latency"].get("n"):
            why.append("no delivery in the window")
        elif d["latency"]["p99_us"] >= 50000:
            why.append(f"p99 {d['latency']['p99_us'] / 1000:.0f} ms >= 50 ms")
        if not caught:
            if len(names) == 1:
                why.append(f"consumer stuck at u={d['u']} < {feed} {truth['update_id']}")
            else:
                why.append(f"consumer behind the {feed} on {behind} of {len(names)} symbols")
        elif not exact:
            if len(names) == 1:
                why.append(f"book differs from the {feed}'s top {a.levels}")
            else:
                why.append(f"{len(differ)} of {len(names)} books differ from the {feed}'s top {a.levels}")
        for k in ("disconnects", "resyncs", "sequence_gaps", "not_live"):
            if r[k]:
                why.append(f"{r[k]} {k.replace('_', ' ')}")
        if d.get("errors"):
            why.append("ccxt: " + d["errors"][0][:120])
        r["held"] = not why
        return r
    except Exception as e:  # a broken run is a row that says why
        r["why"].append(f"harness: {type(e).__name__}: {e}")
        return r
    finally:
        for p in reversed(procs):
            p.stop()


def published(control):
    for v in http(control + "/venues")["venues"]:
        if v["name"] == "backpack":
            return v["updates_published"]
    return 0


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def table(rows, a, meta):
    arms = ["ccxt", "perpgwd"]
    by = {(r["arm"], r["rate"]): [x for x in rows if x["arm"] == r["arm"] and x["rate"] == r["rate"]]
          for r in rows}
    rates = sorted({r["rate"] for r in rows})
    fmt = lambda x, d=1: "—" if x is None else f"{x:,.{d}f}"

    def delivered(arm, rate):
        return [r for r in by.get((arm, rate), []) if r.get("latency", {}).get("n")]

    def cpu(arm, rate, proc):
        return med(r["cpu_us_per_update"].get(proc) for r in delivered(arm, rate))

    ver = next((r["ccxt_version"] for r in rows if r.get("ccxt_version")), "?")
    feed = "feeder" if a.feeder else "sim"
    head = f"Backpack, {a.symbols} symbol{'s' if a.symbols > 1 else ''}" + \
        (" (C++ client on StreamOrderBookBatches)" if a.batched else "") + \
        (", bench_feeder" if a.feeder else "")
    L = [f"| {head} | ccxt pro {ver} | perpgwd + C++ client | ratio |", "|---|---|---|---|"]
    for rate in rates:
        c = cpu("ccxt", rate, "node")
        g, cl = cpu("perpgwd", rate, "perpgwd"), cpu("perpgwd", rate, "client")
        ours = g + cl if g is not None and cl is not None else None
        L.append(f"| CPU µs per update at {rate:,}/s | {fmt(c)} | {fmt(ours)} (perpgwd {fmt(g)} + "
                 f"client {fmt(cl)}) | {fmt(ours / c, 2) + '×' if c and ours else '—'} |")
    for rate in rates:
        L.append(f"| {feed}'s own CPU µs per update at {rate:,}/s | {fmt(cpu('ccxt', rate, feed))} | "
                 f"{fmt(cpu('perpgwd', rate, feed))} | |")
    lim = meta.get("feeder_selftest")
    if lim:
        L.append(f"| feeder's own limit (selftest, discarding reader, {lim['symbols']} symbol(s)) | "
                 f"{fmt(lim['updates_per_s'], 0)}/s at {fmt(lim['feeder_cpu_us_per_update'], 3)} "
                 f"CPU µs/update | | |")
    for q in ("p50", "p99"):
        for rate in rates:
            x = med(r["latency"][q + "_us"] for r in delivered("ccxt", rate))
            y = med(r["latency"][q + "_us"] for r in delivered("perpgwd", rate))
            L.append(f"| latency {feed} `T` → consumer {q} at {rate:,}/s (µs) | {fmt(x, 0)} | {fmt(y, 0)} | "
                     f"{fmt(y / x, 2) + '×' if x and y else '—'} |")
    for q in ("p50", "p99"):
        for rate in rates:
            y = med(r["gateway_latency"][q + "_us"] for r in delivered("perpgwd", rate)
                    if r.get("gateway_latency"))
            L.append(f"| of which gateway-added (perpgwd's kernel receive stamp → consumer) {q} at "
                     f"{rate:,}/s (µs) | | {fmt(y, 0)} | |")
    for rate in rates:
        cells = []
        for arm in arms:
            rs = by.get((arm, rate), [])
            cells.append(f"{sum(r['held'] for r in rs)}/{len(rs)} runs")
        L.append(f"| {rate:,}/s held (p99 < 50 ms, book exact, no disconnect/resync) | {cells[0]} | {cells[1]} | |")
    held_max = {}
    for arm in arms:
        ok = [rate for rate in rates if by.get((arm, rate)) and all(r["held"] for r in by[(arm, rate)])]
        held_max[arm] = f"{max(ok):,}/s" if ok else "none tried"
    L.append(f"| highest rate held in every run (of those tried) | {held_max['ccxt']} | {held_max['perpgwd']} | |")
    rc = med(r["rss_mb"].get("node") for r in rows if r["arm"] == "ccxt" and r.get("rss_mb"))
    rg = med(r["rss_mb"].get("perpgwd") for r in rows if r["arm"] == "perpgwd" and r.get("rss_mb"))
    rcl = med(r["rss_mb"].get("client") for r in rows if r["arm"] == "perpgwd" and r.get("rss_mb"))
    ours = rg + rcl if rg is not None and rcl is not None else None
    L.append(f"| RSS MB (end of window, median) | {fmt(rc)} | {fmt(ours)} (perpgwd {fmt(rg)} + "
             f"client {fmt(rcl)}) | {fmt(ours / rc, 2) + '×' if rc and ours else '—'} |")
    skew = med(r["sim_ns_minus_T"].get("p50_us") for r in rows if r.get("sim_ns_minus_T", {}).get("n"))
    L.append("")
    L.append(f"Medians over runs with delivery; {a.seconds:g} s windows, {a.runs} run(s) per rate "
             f"and arm, arms alternated, fresh {feed} per run. Latency is from the depth frame's `T` "
             + (f"(the sim's generation stamp; its send stamp `sim_ns` is {fmt(skew)} µs later at the "
                f"median, measured on the ccxt arm). " if not a.feeder else
                f"(bench_feeder stamps `T` = `E` = `sim_ns` as it writes each {a.feeder_tick_us} µs "
                "tick's batch in one write, so a frame's wait in the tick is not in the latency, and "
                "perpgwd may merge a burst into fewer messages: see msgs/update). ")
             + (f"Rates are aggregate over {a.symbols} symbols; every symbol's top {a.levels} is "
                f"compared with the truth. " if a.symbols > 1 else "")
             + f"Load average {meta['loadavg_start']} at start, "
             f"{meta['loadavg_end']} at end ({meta['nproc']} cores, shared machine).")
    L.append("")
    L.append("| run | arm | rate | upd/s achieved | msgs/update | CPU µs/update (per process) | p50 / p99 µs | "
             "RSS MB | disc / resync / gaps | held |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cpus = ", ".join(f"{k} {fmt(v)}" for k, v in (r.get("cpu_us_per_update") or {}).items())
        lat = r.get("latency") or {}
        rss = ", ".join(f"{k} {fmt(v)}" for k, v in (r.get("rss_mb") or {}).items())
        L.append(f"| {r['run']} | {r['arm']} | {r['rate']:,} | {fmt(r.get('sim_updates_per_s'), 0)} | "
                 f"{fmt(r.get('messages_per_update'), 2)}"
                 + (f" ({fmt(r['batches_per_update'], 3)} batches)" if r.get("batches_per_update")
                    is not None else "") + f" | {cpus or '—'} | "
                 f"{fmt(lat.get('p50_us'), 0)} / {fmt(lat.get('p99_us'), 0)} | {rss or '—'} | "
                 f"{r.get('disconnects', '—')} / {r.get('resyncs', '—')} / {r.get('sequence_gaps', '—')} | "
                 f"{'yes' if r['held'] else 'NO: ' + '; '.join(r['why'])} |")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rates", default="1000,10000,50000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--levels", type=int, default=10)
    ap.add_argument("--arms", default="ccxt,perpgwd")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--inject-drop", action="store_true",
                    help="drop the sim's WS connections mid-window (checks the harness counts it)")
    ap.add_argument("--feeder", action="store_true",
                    help="feed from bench_feeder (pre-generated frames) instead of perpgw-sim")
    ap.add_argument("--symbols", type=int, default=1, help="symbols on the feed, 1..200")
    ap.add_argument("--batched", action="store_true",
                    help="the C++ client reads StreamOrderBookBatches (several pairs' updates per "
                         "message) instead of StreamOrderBooks")
    ap.add_argument("--feeder-tick-us", type=int, default=1000,
                    help="bench_feeder's pacing tick: each tick's updates go out in one write")
    ap.add_argument("--json")
    ap.add_argument("--md")
    a = ap.parse_args()
    if not 1 <= a.symbols <= 200:
        sys.exit("--symbols: 1..200")
    if a.feeder and a.inject_drop:
        sys.exit("--inject-drop needs the sim's /fault (not with --feeder)")
    if a.quick:
        a.rates, a.seconds, a.runs, a.warmup = "1000", 2, 1, 1
    rates = [int(x) for x in a.rates.split(",") if x]
    arms = [x for x in a.arms.split(",") if x]
    b = os.path.abspath(a.build)
    bins = {"sim": f"{b}/sim/perpgw-sim", "perpgwd": f"{b}/gateway/perpgwd",
            "client": f"{b}/bench/bench_peers_client", "feeder": f"{b}/bench/bench_feeder"}
    feed = "feeder" if a.feeder else "sim"
    missing = [p for k, p in bins.items() if not os.access(p, os.X_OK)
               and (k == feed or (k in ("perpgwd", "client") and "perpgwd" in arms))]
    if missing:
        sys.exit("missing " + ", ".join(missing) + ": build them first (perpgw-sim or bench_feeder, "
                 "perpgwd, bench_peers_client)")
    if "ccxt" in arms:
        if not shutil.which("node"):
            sys.exit("node is not installed: the ccxt arm needs it")
        bins["ccxt"] = find_ccxt()
        if not bins["ccxt"]:
            sys.exit("ccxt is not installed and npm could not install it")
    meta = {"nproc": os.cpu_count(), "loadavg_start": " ".join(open("/proc/loadavg").read().split()[:3])}
    if a.feeder:
        # The feeder's own limit, reported beside every figure: as fast as it goes into a reader
        # that discards (the reader thread shares the machine, as the consumers do).
        p = subprocess.run([bins["feeder"], "--selftest-rate", "--rate", "0", "--seconds", "2",
                            "--symbols", str(a.symbols)], capture_output=True, text=True, timeout=120)
        line = next((x for x in p.stdout.splitlines() if x.startswith("{")), None)
        if p.returncode != 0 or not line:
            sys.exit("bench_feeder --selftest-rate failed: " + p.stderr[-300:])
        meta["feeder_selftest"] = json.loads(line)
        log(f"feeder limit: {meta['feeder_selftest']}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="perpgw-peers") as tmp:
        for run in range(a.runs):
            for rate in rates:
                order = arms if run % 2 == 0 else list(reversed(arms))
                for arm in order:
                    d = f"{tmp}/{run}-{rate}-{arm}"
                    os.makedirs(d)
                    r = run_one(arm, rate, a, bins, d)
                    r["run"] = run + 1
                    rows.append(r)
                    lat = r.get("latency") or {}
                    log(f"run {run + 1} {arm:8s} {rate:>6,}/s: cpu/upd {r.get('cpu_us_per_update')} "
                        f"p50 {lat.get('p50_us')} p99 {lat.get('p99_us')} us "
                        f"{'held' if r['held'] else 'NOT HELD: ' + '; '.join(r['why'])}")
    meta["loadavg_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    md = table(rows, a, meta)
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except Exception:
        commit = ""
    res = {"bench": "peers", "generated_utc": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%SZ"), "git_head": commit, "machine": meta,
           "settings": {"rates": rates, "seconds": a.seconds, "runs": a.runs, "levels": a.levels,
                        "arms": arms, "quick": a.quick}, "runs": rows}
    if a.feeder or a.symbols > 1 or a.batched:
        res["settings"].update({"feeder": a.feeder, "symbols": a.symbols, "batched": a.batched})
        if a.feeder:
            res["settings"]["feeder_tick_us"] = a.feeder_tick_us
    print(md)
    print(json.dumps(res, separators=(",", ":")))
    if a.json:
        json.dump(res, open(a.json, "w"), indent=1)
    if a.md:
        open(a.md, "w").write(md + "\n")
    # Set-up failures (nothing started) are errors; NOT HELD rows are results.
    broken = [r for r in rows if any(w.startswith(("perpgw-sim did not", "bench_feeder did not",
                                                   "perpgwd did not", "harness:"))
                                     for w in r["why"])]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
