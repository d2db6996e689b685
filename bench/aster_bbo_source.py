#!/usr/bin/env python3
# Aster bbo_source A/B (issue 17): perpgwd CPU per sim update with options.bbo_source book vs
# ticker, one symbol subscribed, no gRPC client (the venue ingest cost alone). Arms alternated,
# a fresh sim + perpgwd per run. Usage: BUILD=build python3 bench/aster_bbo_source.py [SECONDS]
import json, os, subprocess, sys, tempfile, time
B = os.environ.get("BUILD", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def wait(path, t=30):
    end = time.time() + t
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0: return open(path).read()
        time.sleep(0.05)
    return None
def published(control):
    import urllib.request
    v = json.load(urllib.request.urlopen(control + "/venues"))
    return sum(x["updates_published"] for x in v["venues"])
rows = []
secs = float(sys.argv[1]) if len(sys.argv) > 1 else 8
for rate in (1000, 10000, 50000):
    for rep in range(2):
        for src in (("book", "ticker") if rep % 2 == 0 else ("ticker", "book")):
            tmp = tempfile.mkdtemp()
            sim = subprocess.Popen([f"{B}/sim/perpgw-sim", "--venues", "aster", "--rate", str(rate),
                                    "--endpoints-out", f"{tmp}/ep.json"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            ep = json.loads(wait(f"{tmp}/ep.json"))
            a = ep["venues"]["aster"]
            open(f"{tmp}/gw.yaml", "w").write(
                f"listen: 127.0.0.1:0\nlog_level: warn\nvenues:\n  aster:\n    rest_url: {a['rest_url']}\n"
                f"    ws_url: {a['ws_url']}\n    symbols: [BTC]\n    stale_after_ms: 60000\n"
                f"    options: {{bbo_source: {src}}}\n")
            gw = subprocess.Popen([f"{B}/gateway/perpgwd", "--config", f"{tmp}/gw.yaml", "--port-file",
                                   f"{tmp}/port"], stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/gw.log", "w"))
            wait(f"{tmp}/port")
            time.sleep(3)  # warm-up: connect, snapshot
            c0, s0, u0, t0 = cpu(gw.pid), cpu(sim.pid), published(ep["control_url"]), time.time()
            time.sleep(secs)
            c1, s1, u1, t1 = cpu(gw.pid), cpu(sim.pid), published(ep["control_url"]), time.time()
            gw.terminate(); sim.terminate(); gw.wait(); sim.wait()
            upd = u1 - u0
            row = dict(rate=rate, src=src, updates=upd, gw_cpu_pct=100 * (c1 - c0) / (t1 - t0),
                       gw_us_per_update=1e6 * (c1 - c0) / max(upd, 1),
                       sim_cpu_pct=100 * (s1 - s0) / (t1 - t0))
            rows.append(row)
            print(json.dumps(row), flush=True)
print("load", open("/proc/loadavg").read().strip())
