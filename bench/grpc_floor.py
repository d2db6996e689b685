#!/usr/bin/env python3
"""gRPC floor (issue 17): CPU per message of a bare gRPC 1.51 server-streaming pair.

Runs `bench_grpc_floor server --rate R` and `bench_grpc_floor client`, waits a warm-up, then
reads both processes' utime+stime (/proc/<pid>/stat) and voluntary context switches (every
thread's /proc/<pid>/task/*/status) over a window, and divides by the messages the client
received in it. Nothing of perpgwd runs: this is what any gRPC server-streaming consumer of
one message per venue frame costs on this machine, the floor under the peers bench's
"perpgwd + client" CPU per update at rates where each update is its own message (1k/s).

  python3 bench/grpc_floor.py --build build [--rates 1000,10000] [--seconds 10] [--runs 2]
"""
import argparse
import json
import os
import subprocess
import sys
import time

from peers import cpu_s  # utime+stime of a process, seconds (bench/peers.py)


def switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def one_run(binary, rate, seconds, warmup, size, mode):
    server = subprocess.Popen([binary, "server", "--rate", str(rate), "--bytes", str(size),
                               "--mode", mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    hello = json.loads(server.stdout.readline())
    client = subprocess.Popen([binary, "client", "--target", f"127.0.0.1:{hello['port']}"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def msgs():
        client.stdin.write("count\n")
        client.stdin.flush()
        return json.loads(client.stdout.readline())["msgs"]

    deadline = time.monotonic() + 10
    while msgs() == 0:
        if time.monotonic() > deadline:
            raise SystemExit("bench_grpc_floor: the client received nothing in 10 s")
        time.sleep(0.05)
    time.sleep(warmup)
    m0, s0, c0 = msgs(), cpu_s(server.pid), cpu_s(client.pid)
    w0s, w0c = switches(server.pid), switches(client.pid)
    time.sleep(seconds)
    m1, s1, c1 = msgs(), cpu_s(server.pid), cpu_s(client.pid)
    w1s, w1c = switches(server.pid), switches(client.pid)
    for p in (client, server):
        p.stdin.close()
        p.wait(timeout=10)
    n = max(m1 - m0, 1)
    return {
        "rate": rate, "mode": mode, "bytes": hello["bytes"], "msgs_per_s": n / seconds,
        "server_us": (s1 - s0) * 1e6 / n, "client_us": (c1 - c0) * 1e6 / n,
        "server_wakes": (w1s - w0s) / n, "client_wakes": (w1c - w0c) / n,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rates", default="1000,10000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--bytes", type=int, default=180, help="message size (perpgwd's one-delta "
                    "Backpack OrderBookUpdate is ~180-450 bytes)")
    ap.add_argument("--modes", default="callback,cq", help="server API: callback (perpgwd's: "
                    "ServerWriteReactor) and/or cq (completion queue, one thread that is "
                    "producer and only poller)")
    a = ap.parse_args()
    binary = os.path.join(a.build, "bench", "bench_grpc_floor")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not built (cmake --build {a.build} --target bench_grpc_floor)")
    print(f"load {os.getloadavg()[0]:.2f}; {a.seconds:g} s windows, {a.runs} run(s) per rate")
    print("| server API | rate msgs/s | bytes | server CPU µs/msg | client CPU µs/msg | total | "
          "wakes/msg server + client |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for rate in [int(r) for r in a.rates.split(",")]:
        for _ in range(a.runs):
          for mode in a.modes.split(","):
            r = one_run(binary, rate, a.seconds, a.warmup, a.bytes, mode)
            rows.append(r)
            print(f"| {mode} | {r['msgs_per_s']:,.0f} | {r['bytes']} | {r['server_us']:.1f} | "
                  f"{r['client_us']:.1f} | {r['server_us'] + r['client_us']:.1f} | "
                  f"{r['server_wakes']:.2f} + {r['client_wakes']:.2f} |", flush=True)
    print(json.dumps({"bench": "grpc_floor", "rows": rows}))


if __name__ == "__main__":
    main()
