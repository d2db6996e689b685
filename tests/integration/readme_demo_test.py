"""Integration test: the README's "## The demo" works as written. Starts perpgw-sim as
scripts/demo.sh does (config/sim.yaml + --shared-reference; its fixed ports become 0 in a copy)
and perpgwd on config/demo.yaml (a copy pointed at the sim's ports, listen and metrics on port 0,
a fresh journal), with the sim accounts' keys exported exactly as scripts/demo.sh exports them
(the SIM_* list is read from the script). Then every command of the section's ```sh blocks runs
as printed (build/examples/perpgw-cli -> the built one, 127.0.0.1:50051 / :9464 -> the test's
ports) and is checked: a non-empty RankFundingOpportunities, trades on StreamTrades, live books,
and the order round trip (the post-only bid rests in the sim, the market buy fills into a long,
the cancel leaves nothing open). A command whose answer depends on the market warming up is
repeated until its condition holds (deadline), never slept on.

  readme_demo_test.py PERPGWD PERPGW_SIM PERPGW_CLI REPO_ROOT
"""
import atexit
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_rig  # noqa: E402
from ops_rig import Fail, tail, wait_until  # noqa: E402

README_ADDR = "127.0.0.1:50051"
README_METRICS = "127.0.0.1:9464"
README_CLI = "build/examples/perpgw-cli"


def demo_commands(md_path):
    """The shell commands of README.md's "## The demo" ```sh blocks, continuation lines joined;
    one list per block (a block's first lines may set variables the later ones use)."""
    blocks, cur, inside, in_code = [], None, False, False
    with open(md_path) as f:
        lines = f.read().splitlines()
    pending = ""
    for line in lines:
        if line.startswith("## "):
            inside = line.strip() == "## The demo"
            continue
        if not inside:
            continue
        if line.startswith("```"):
            in_code = not in_code and line.strip() == "```sh"
            if in_code:
                cur = []
                blocks.append(cur)
            continue
        if in_code and line.strip():
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip() + " "
                continue
            cur.append(pending.strip())
            pending = ""
    return blocks


def demo_env(demo_sh, endpoints):
    """SIM_* variables as scripts/demo.sh exports them from the sim's endpoints file."""
    with open(demo_sh) as f:
        rows = re.findall(r'\("(SIM_\w+)", "(\w+)", "([\w-]+)", "(\w+)"\)', f.read())
    assert len(rows) >= 9, "scripts/demo.sh's SIM_* list not found: %r" % rows
    env = {}
    for name, venue, account, key in rows:
        accts = endpoints["venues"][venue]["accounts"]
        a = next((a for a in accts if a["id"] == account), None)
        assert a is not None, "the sim published no account %s" % account
        env[name] = a["credentials"][key]
    return env


class DemoRig(ops_rig.Rig):
    """ops_rig's Rig (spawn, account, close: children killed, temp dir removed at exit) started
    the demo's way instead of with a generated config."""

    def __init__(self, perpgwd, sim, root):
        rig = self
        # What scripts/demo.sh runs; if it changes, so must this test.
        with open(os.path.join(root, "scripts/demo.sh")) as f:
            demo_sh = f.read()
        sim_line = re.search(r"build/sim/perpgw-sim (--[^\n]*)", demo_sh).group(1)
        assert "--config config/sim.yaml" in sim_line and "--shared-reference" in sim_line, sim_line
        assert "build/gateway/perpgwd --config config/demo.yaml" in demo_sh
        self.dir = tempfile.mkdtemp(prefix="perpgw-demo-")
        self.procs = []
        atexit.register(self.close)
        # The sim as scripts/demo.sh starts it, on ephemeral ports.
        with open(os.path.join(root, "config/sim.yaml")) as f:
            sim_text = f.read()
        sim_cfg = yaml.safe_load(sim_text)
        fixed = {v: c["port"] for v, c in sim_cfg["venues"].items()}
        sim_path = os.path.join(rig.dir, "sim.yaml")
        with open(sim_path, "w") as f:
            f.write(re.sub(r"(?m)^(\s+port:\s*)\d+", r"\g<1>0", sim_text))
        ep_path = os.path.join(rig.dir, "endpoints.json")
        rig.sim = rig.spawn([sim, "--config", sim_path, "--shared-reference",
                             "--endpoints-out", ep_path], "sim.log")
        wait_until(lambda: os.path.exists(ep_path) and os.path.getsize(ep_path) > 0, 30,
                   "the sim's endpoints file", proc=rig.sim)
        with open(ep_path) as f:
            rig.endpoints = json.load(f)
        rig.control = rig.endpoints["control_url"]
        # config/demo.yaml pointed at those ports; listen/metrics on 0; a fresh journal.
        with open(os.path.join(root, "config/demo.yaml")) as f:
            gw_text = f.read()
        for venue, port in fixed.items():
            actual = re.search(r"://([^/]+)", rig.endpoints["venues"][venue]["rest_url"]).group(1)
            gw_text = gw_text.replace("127.0.0.1:%d" % port, actual)
        gw_text = gw_text.replace("listen: " + README_ADDR, "listen: 127.0.0.1:0")
        gw_text = gw_text.replace('listen: "%s"' % README_METRICS, 'listen: "127.0.0.1:0"')
        gw_text = gw_text.replace("journal_dir: build/demo-journal",
                                  "journal_dir: " + os.path.join(rig.dir, "journal"))
        for fixed_addr in ("127.0.0.1:1810", README_ADDR, README_METRICS, "build/demo-journal"):
            assert fixed_addr not in gw_text, "config/demo.yaml changed shape: " + fixed_addr
        cfg = os.path.join(rig.dir, "demo.yaml")
        with open(cfg, "w") as f:
            f.write(gw_text)
        port_file = os.path.join(rig.dir, "port")
        self.gw_log = os.path.join(rig.dir, "perpgwd.log")
        env = demo_env(os.path.join(root, "scripts/demo.sh"), rig.endpoints)
        rig.gw = rig.spawn([perpgwd, "--config", cfg, "--port-file", port_file], "perpgwd.log",
                           env=env)
        try:
            wait_until(lambda: os.path.exists(port_file) and open(port_file).read().strip(), 30,
                       "perpgwd's port file", proc=rig.gw)
            m = wait_until(lambda: re.search(r"metrics on http://(\S+?)/",
                                             tail(self.gw_log, 10**6)),
                           30, "the 'metrics on' log line", proc=rig.gw)
        except Fail as e:
            raise Fail("%s\n%s" % (e, tail(self.gw_log)))
        self.addr = "127.0.0.1:%s" % open(port_file).read().strip()
        self.metrics = m.group(1)

    def run(self, prelude, cmd, cli, timeout=30):
        script = "\n".join(prelude + [cmd])
        script = (script.replace(README_CLI, cli).replace(README_ADDR, self.addr)
                  .replace(README_METRICS, self.metrics))
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                           timeout=timeout)
        return r


def jsons(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def method_of(cmd):
    m = re.search(r"call (\S+)", cmd)
    if m:
        return m.group(1)
    return "list" if cmd.rstrip().endswith(" list") else cmd.split()[0]


def main():
    perpgwd, sim, cli, root = sys.argv[1:5]
    t0 = time.time()
    blocks = demo_commands(os.path.join(root, "README.md"))
    assert len(blocks) == 2, "expected the queries block and the order round-trip block: %r" % blocks
    demo = rig = DemoRig(perpgwd, sim, root)
    seen = set()

    def check(prelude, cmd, cond, what, deadline=30):
        """Runs a README command until cond(stdout) holds; returns what cond returned."""
        last = [None]

        def attempt():
            try:
                r = demo.run(prelude, cmd, cli)
            except subprocess.TimeoutExpired as e:  # a stream that never got its messages
                last[0] = subprocess.CompletedProcess(e.cmd, "timeout", e.stdout or "", e.stderr or "")
                return None
            last[0] = r
            if r.returncode != 0:
                return None
            try:
                return cond(r.stdout)
            except (ValueError, KeyError, IndexError):
                return None
        try:
            v = wait_until(attempt, deadline, what, poll=0.5, proc=rig.gw)
        except Fail as e:
            r = last[0]
            raise Fail("%s\n$ %s\n-> exit %s\nstdout: %s\nstderr: %s\n%s" % (
                e, cmd, r and r.returncode, r and r.stdout[-1500:], r and r.stderr[-1500:],
                tail(demo.gw_log)))
        print("ok (%4.1f s) %s: %s" % (time.time() - t0, method_of(cmd), what))
        seen.add(method_of(cmd))
        return v

    def book_live(out):
        b = json.loads(out)
        return b.get("status") == "BOOK_STATUS_LIVE" and b["bids"] and b["asks"] and b

    queries = blocks[0]
    for cmd in queries:
        m = method_of(cmd)
        if m == "list":
            check([], cmd, lambda o: "perpgw.v1.TradingService" in o, "the services listed")
        elif m.endswith("/ListVenues"):
            check([], cmd, lambda o: all(v in o for v in ("aster", "backpack", "paradex",
                                                          "lighter")), "all four venues")
        elif m.endswith("/GetOrderBook"):
            b = check([], cmd, book_live, "a live book with both sides")
            assert float(b["bids"][0]["price"]) < float(b["asks"][0]["price"]), b
        elif m.endswith("/StreamBbo"):
            check([], cmd, lambda o: len(jsons(o)) >= 1 and jsons(o), "BBO messages")
        elif m.endswith("/ListFunding"):
            check([], cmd, lambda o: json.loads(o).get("rates"), "funding rates listed")
        elif m.endswith("/RankFundingOpportunities"):
            opp = check([], cmd, lambda o: json.loads(o).get("opportunities"),
                        "a non-empty funding ranking")
            print("   %d opportunities, first %s" % (len(opp), json.dumps(opp[0])[:200]))
        elif m.endswith("/StreamTrades"):
            trades = check([], cmd, lambda o: [t for t in jsons(o)
                                               if float(t.get("price", "0")) > 0 and t.get("market")],
                           "trades on the stream", deadline=40)
            print("   %d trades, first %s" % (len(trades), json.dumps(trades[0])[:200]))
        elif cmd.startswith("curl "):
            check([], cmd, lambda o: "perpgw_" in o, "perpgw_ metrics")
        else:
            raise Fail("a README demo command this test does not know: " + cmd)

    # "The demo market looks like one market": BTC on every venue within 1 % of the venues'
    # median mid (one reference price, a small basis and spread each), through the gateway.
    mids = {}
    for v in ("aster", "backpack", "paradex", "lighter"):
        cmd = ("%s -plaintext -d '{\"market\":{\"venue\":\"%s\",\"symbol\":\"BTC\"},"
               "\"depth\":1}' %s call perpgw.v1.MarketDataService/GetOrderBook"
               % (README_CLI, v, README_ADDR))
        b = check([], cmd, book_live, "a live %s BTC book" % v)
        mids[v] = (float(b["bids"][0]["price"]) + float(b["asks"][0]["price"])) / 2
    med = sorted(mids.values())[len(mids) // 2]
    assert all(abs(m / med - 1) < 0.01 for m in mids.values()), "BTC mids apart: %r" % mids
    print("   BTC mids %s" % mids)

    # The order round trip: the block's variable lines are the prelude of each command.
    prelude = [c for c in blocks[1] if not c.startswith("$C")]
    steps = [c for c in blocks[1] if c.startswith("$C")]
    assert prelude and len(steps) == 4, blocks[1]
    acct = re.search(r'"account":"([\w-]+)"', prelude[0]).group(1)
    venue = re.search(r'"venue":"(\w+)"', prelude[0]).group(1)
    place_rest, place_fill, cancel, positions = steps
    assert "TIME_IN_FORCE_POST_ONLY" in place_rest and "PlaceOrder" in place_rest, place_rest
    assert "ORDER_TYPE_MARKET" in place_fill and "CancelOrder" in cancel, (place_fill, cancel)
    rest_px = re.search(r'\\"price\\":\\"([0-9.]+)\\"', place_rest).group(1)
    # Orders need the account's session (balances, order stream) up: the first PlaceOrder is
    # repeated until accepted (the same client_order_id: idempotent, never two orders).
    placed = check(prelude, place_rest,
                   lambda o: json.loads(o).get("outcome") == "ACK_OUTCOME_ACCEPTED" and json.loads(o),
                   "the post-only bid accepted")
    wait_until(lambda: [o for o in rig.account(venue, acct)["open_orders"]
                        if float(o["price"]) == float(rest_px)], 10,
               "the post-only bid resting in the sim at " + rest_px)
    print("ok (%4.1f s) the bid rests in the sim at %s" % (time.time() - t0, rest_px))
    check(prelude, place_fill,
          lambda o: json.loads(o).get("outcome") == "ACK_OUTCOME_ACCEPTED",
          "the market buy accepted")
    pos = wait_until(lambda: [p for p in rig.account(venue, acct)["positions"]
                              if float(p["size"]) > 0], 10, "the market buy filled into a long")
    print("ok (%4.1f s) the sim holds %s" % (time.time() - t0, json.dumps(pos)[:200]))
    canceled = check(prelude, cancel, lambda o: json.loads(o)["order"]["status"]
                     == "ORDER_STATUS_CANCELED" and json.loads(o), "the resting bid canceled")
    wait_until(lambda: not rig.account(venue, acct)["open_orders"], 10,
               "nothing left open in the sim")
    listed = check(prelude, positions, lambda o: [p for p in json.loads(o).get("positions", [])
                                                  if float(p.get("size", "0")) != 0],
                   "ListPositions shows the long")
    print("   positions %s; order %s" % (json.dumps(listed)[:200],
                                          json.dumps(placed.get("order", {}))[:120]))
    rig.close()
    print("PASS readme_demo_test (%d README commands, %.1f s)" % (
        len(queries) + len(steps), time.time() - t0))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, Fail):
        import traceback
        traceback.print_exc()
        sys.exit(1)
