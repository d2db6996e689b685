#!/usr/bin/env python3
"""Keeps the benchmarks working (issue 7: "keep them working as venues arrive"): runs each bench
program briefly and checks that it exits 0 and writes well-formed results covering every venue.
No figure is asserted: performance is measured by bench/run.sh, not by tests.

Usage: smoke_test.py BENCH_INGEST BENCH_E2E
"""
import json
import os
import subprocess
import sys
import tempfile

VENUES = {"aster", "backpack", "paradex", "lighter"}


def run(argv, timeout):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(argv)} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def main():
    ingest, e2e = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="perpgw-bench-smoke") as tmp:
        run([ingest, "--frames", "3000", "--runs", "1", "--dir", tmp, "--json", f"{tmp}/i.json"], 300)
        ing = json.load(open(f"{tmp}/i.json"))
        got = {v["venue"] for v in ing["venues"]}
        assert got == VENUES, f"ingest venues {got}"
        for v in ing["venues"]:
            assert v["pipeline_cpu_ns_per_msg"] > 0 and v["ceiling_cpu_ns_per_msg"] > 0, v
        print("ingest ok:", {v["venue"]: round(v["pipeline_cpu_ns_per_msg"]) for v in ing["venues"]})

        # One short market-data point and a few orders per venue, then the two-venue memory
        # stack with its stalled-subscriber windows (the floor has its own trivial server).
        run([e2e, "--skip", "floor", "--rates", "1000", "--ks", "1", "--seconds", "1",
             "--orders", "10", "--json", f"{tmp}/e.json"], 600)
        e = json.load(open(f"{tmp}/e.json"))
        md = {p["venue"]: p for p in e["market_data"]}
        assert set(md) == VENUES, f"market_data venues {set(md)}"
        for ven, p in md.items():
            assert p["delivered_msgs_per_s"] > 0, f"{ven}: no book updates delivered: {p}"
            assert p["resyncs"] == 0 and p["sequence_gaps"] == 0, f"{ven}: {p}"
            assert p["sim_ns_matched_share"] > 0, f"{ven}: tap matched nothing: {p}"
        orders = {o["venue"]: o for o in e["orders"]}
        assert set(orders) == VENUES, f"order venues {set(orders)}"
        for ven, o in orders.items():
            assert o["gateway_accepted"] == o["n"] and o["direct_ok"] == o["n"], f"{ven}: {o}"
        mem = e["memory"]
        assert mem["venues"] == len(VENUES) and mem["books_live"] == mem["books_configured"], mem
        assert {p["venue"] for p in e["stalled"]} == VENUES
        print("e2e ok:", {v: round(p["gateway_latency"]["p50_us"]) for v, p in md.items()},
              "books live", mem["books_live"])

        # The peers bench's smoke form (bench/run.sh --peers --quick, ~20 s): both arms delivered.
        build = os.path.dirname(os.path.dirname(os.path.abspath(e2e)))
        run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.py"),
             "--quick", "--build", build, "--json", f"{tmp}/p.json"], 120)
        runs = json.load(open(f"{tmp}/p.json"))["runs"]
        assert {r["arm"] for r in runs} == {"ccxt", "perpgwd"}, runs
        for r in runs:
            assert r["latency"]["n"] > 0 and r["cpu_us_per_update"] and "held" in r, r
        print("peers ok:", {r["arm"]: round(r["latency"]["p50_us"]) for r in runs})

        # bench_feeder (bench/feeder/): its self-measured limit, then the peers bench fed by it
        # (3 symbols, both arms, ~20 s): every arm delivered and every book equals the truth.
        feeder = os.path.join(build, "bench", "bench_feeder")
        if os.access(feeder, os.X_OK):
            p = run([feeder, "--selftest-rate", "--rate", "0", "--seconds", "1", "--symbols", "3"], 60)
            st = json.loads(p.stdout.strip().splitlines()[-1])
            assert st["updates_per_s"] > 0 and st["slow_consumers_dropped"] == 0, st
            run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.py"),
                 "--quick", "--feeder", "--symbols", "3", "--build", build,
                 "--json", f"{tmp}/f.json"], 180)
            runs = json.load(open(f"{tmp}/f.json"))["runs"]
            assert {r["arm"] for r in runs} == {"ccxt", "perpgwd"}, runs
            for r in runs:
                assert r["latency"]["n"] > 0 and r["book_exact"] and r["books_exact"] == 3, r
            print("feeder ok:", round(st["updates_per_s"]), "updates/s;",
                  {r["arm"]: round(r["latency"]["p50_us"]) for r in runs})
            # The same over StreamOrderBookBatches (the client applies each batch's updates):
            # delivered, every book equal to the truth, no sequence gap, batches counted.
            run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.py"),
                 "--quick", "--feeder", "--symbols", "3", "--arms", "perpgwd", "--batched",
                 "--build", build, "--json", f"{tmp}/fb.json"], 120)
            runs = json.load(open(f"{tmp}/fb.json"))["runs"]
            assert [r["arm"] for r in runs] == ["perpgwd"], runs
            for r in runs:
                assert r["latency"]["n"] > 0 and r["book_exact"] and r["books_exact"] == 3, r
                assert r["sequence_gaps"] == 0 and 0 < r["batches"] <= r["latency"]["n"], r
            print("batched ok:", {r["arm"]: (round(r["latency"]["p50_us"]), r["batches"])
                                  for r in runs})


if __name__ == "__main__":
    main()
