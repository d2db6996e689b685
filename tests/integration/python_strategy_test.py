"""Integration test: examples/python/funding_arb.py against a real perpgwd + perpgw-sim.

  python_strategy_test.py PERPGWD PERPGW_SIM REPO_ROOT

With two venues in the sim (aster + backpack) the legs are two venues, chosen by the ranking
after the test skews Aster's BTC funding rate; with one venue (aster only) the legs are the two
Aster test accounts forced with --long-leg/--short-leg (same code path after leg selection).
Checks: scan table, exit 3 when there is no opportunity, post-only legs, a legged fill hedged
with a market IOC, order-event resume from the last sequence (--chaos-drop-streams), positions
in the sim while hedged (+q / -q) and flat after the reduce-only close.
The strategy runs from the perpgw package (clients/python) installed offline into a venv in a
temporary directory (python_venv.py), as a user would run it.
"""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_rig  # noqa: E402
import python_venv  # noqa: E402
from ops_rig import Fail, wait_until  # noqa: E402

PY = sys.executable  # replaced by the venv's python holding the perpgw package


def run_py(argv, env, timeout=60):
    return subprocess.run([PY] + argv, env=env, capture_output=True, text=True,
                          timeout=timeout)


def position(rig, venue, account, ticker):
    vs = rig.venue_symbol(venue, ticker)
    for p in rig.account(venue, account)["positions"]:
        if p["symbol"] == vs:
            return Decimal(p["size"])
    return Decimal(0)


def main():
    global PY
    perpgwd, sim, root = sys.argv[1:4]
    # The strategy runs on the perpgw package, installed offline into a venv here.
    work = tempfile.mkdtemp(prefix="perpgw-pystrat-venv-")
    if os.environ.get("PERPGW_KEEP_TEST_DIRS") != "1":
        atexit.register(shutil.rmtree, work, True)
    PY = python_venv.install(root, work)
    arb = os.path.join(root, "examples/python/funding_arb.py")
    # PERPGW_PYSTRAT_VENUES=aster forces the one-venue (two accounts) variant.
    only = [v for v in os.environ.get("PERPGW_PYSTRAT_VENUES", "").split(",") if v] or None
    rig = ops_rig.Rig(perpgwd, sim, venues=only, rate=5, symbols=("BTC", "ETH"),
                      prefix="perpgw-pystrat")
    env = dict(os.environ, PERPGW_TOKEN=ops_rig.TOKEN, PERPGW_ADDR=rig.addr)
    env.pop("PERPGW_PY_STUBS", None)
    env.pop("PYTHONPATH", None)
    two_venues = len(rig.venues) >= 2
    print("sim venues: %s -> %s" % (rig.venues, "two venues" if two_venues else
                                    "one venue: two accounts on it as the two legs"))

    # --help documents the flags.
    h = run_py([arb, "--help"], env)
    assert h.returncode == 0 and "--hedge-after" in h.stdout and "--long-leg" in h.stdout, h

    # Wait until every venue has BTC funding in the gateway.
    def funding_ready():
        r = subprocess.run([PY, "-c", (
            "import perpgw; from perpgw.v1 import funding_pb2;"
            "c = perpgw.Client(%r, token=%r);"
            "r = c.call(c.funding.ListFunding, funding_pb2.ListFundingRequest(symbols=['BTC']));"
            "print(len(r.rates))") % (rig.addr, ops_rig.TOKEN)], env=env, capture_output=True,
            text=True)
        return r.returncode == 0 and int(r.stdout.strip() or 0) >= len(rig.venues)
    wait_until(funding_ready, 60, "funding for BTC on every venue", poll=0.5)

    # No spread yet (every venue has the same normalized rate): scanning works, trading refuses.
    s = run_py([arb, "--symbols", "BTC"], env)
    assert s.returncode == 0 and "symbol" in s.stdout, s
    t = run_py([arb, "--trade", "--account", "aster=aster-v1"], env)
    assert t.returncode == 3 and "ABORT code=3" in t.stdout, (t.returncode, t.stdout, t.stderr)
    print("ok: no opportunity -> exit 3: " + t.stderr.strip().splitlines()[-1])

    if two_venues:
        long_v, long_a = "backpack", rig.accounts["backpack"][0]
        short_v, short_a = "aster", "aster-v1"
        # Aster's BTC funding up: short Aster, long the other venue.
        rig.http_post("/fault", {"venue": "aster", "kind": "funding_tick",
                                 "symbol": rig.venue_symbol("aster", "BTC"), "rate": "0.0008"})

        def ranked():
            r = run_py([arb, "--symbols", "BTC"], env)
            return r.returncode == 0 and re.search(r"BTC\s+backpack\s+aster", r.stdout)
        wait_until(ranked, 90, "a ranked BTC opportunity long backpack / short aster", poll=1)
        legs = ["--account", "aster=%s" % short_a, "--account", "backpack=%s" % long_a,
                "--symbol", "BTC"]
    else:
        long_v, long_a, short_v, short_a = "aster", "aster-v1", "aster", "aster-v3"
        legs = ["--long-leg", "aster:aster-v1", "--short-leg", "aster:aster-v3",
                "--symbol", "BTC"]

    before_long = position(rig, long_v, long_a, "BTC")
    before_short = position(rig, short_v, short_a, "BTC")
    argv = [PY, arb, "--trade"] + legs + [
        "--notional", "300", "--offset-ticks", "30", "--hedge-after", "2", "--fill-timeout", "60",
        "--hold", "4", "--chaos-drop-streams"]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = [], []
    threading.Thread(target=lambda: [err.append(l) for l in p.stderr], daemon=True).start()

    def reader():
        for line in p.stdout:
            out.append(line)
            sys.stdout.write("  strategy| " + line)
    threading.Thread(target=reader, daemon=True).start()

    def seen(pattern):
        return next((m for m in (re.search(pattern, l) for l in list(out)) if m), None)

    try:
        m = wait_until(lambda: seen(r"PLACE leg=long .*price=(\S+) .*outcome=ACK_OUTCOME_ACCEPTED"),
                       60, "the long post-only leg", proc=p)
        long_price = Decimal(m.group(1))
        wait_until(lambda: seen(r"PLACE leg=short .*outcome=ACK_OUTCOME_ACCEPTED"), 30,
                   "the short post-only leg", proc=p)
        # Both legs rest in the sim, post-only behind the touch.
        wait_until(lambda: rig.account(long_v, long_a)["open_orders"] and
                   rig.account(short_v, short_a)["open_orders"], 10, "both resting orders")
        # Fill the long leg only: move its venue's mid well below the long's bid.
        new_mid = (long_price * Decimal("0.99")).quantize(Decimal("0.1"))
        rig.http_post("/price", {"venue": long_v, "symbol": rig.venue_symbol(long_v, "BTC"),
                                 "mid": str(new_mid)})
        wait_until(lambda: seen(r"^LEGGED"), 30, "the strategy to see the legged fill", proc=p)
        wait_until(lambda: seen(r"^HEDGE leg=short"), 30, "the market IOC hedge", proc=p)
        m = wait_until(lambda: seen(r"^HEDGED symbol=BTC long=(\S+) short=(\S+)"), 30,
                       "the hedged pair", proc=p)
        q_long, q_short = Decimal(m.group(1)), Decimal(m.group(2))
        assert q_long > 0 and q_long == q_short, m.group(0)
        # Ground truth in the sim: +q on the long account, -q on the short one.
        pl = position(rig, long_v, long_a, "BTC") - before_long
        ps = position(rig, short_v, short_a, "BTC") - before_short
        print("sim positions while hedged: %s/%s %s, %s/%s %s" % (long_v, long_a, pl, short_v,
                                                                  short_a, ps))
        assert pl == q_long and ps == -q_short, (pl, ps, q_long)
        assert not rig.account(short_v, short_a)["open_orders"], "the lagging leg was canceled"
        rc = p.wait(60)
    except Exception:
        # The strategy's own account of what went wrong is on its stderr.
        time.sleep(0.3)
        sys.stdout.write("strategy stderr:\n" + "".join(err))
        raise
    finally:
        if p.poll() is None:
            p.kill()
    time.sleep(0.3)
    text_err = "".join(err)
    assert rc == 0, "strategy exit %s\nstdout:\n%s\nstderr:\n%s" % (rc, "".join(out), text_err)
    assert seen(r"^CLOSED symbol=BTC remaining=none"), "".join(out)
    assert re.search(r"PLACE leg=long .*type=ORDER_TYPE_MARKET .*reduce_only=True "
                     r".*ACCEPTED", "".join(out)), "reduce-only close of the long leg"
    assert re.search(r"PLACE leg=short .*type=ORDER_TYPE_MARKET .*reduce_only=True "
                     r".*ACCEPTED", "".join(out)), "reduce-only close of the short leg"
    # Flat again in the sim.
    pl = position(rig, long_v, long_a, "BTC") - before_long
    ps = position(rig, short_v, short_a, "BTC") - before_short
    assert pl == 0 and ps == 0, ("not flat", pl, ps)
    # The order-event streams were dropped after every event and resumed from the last sequence
    # without a gap (sequences per account strictly +1).
    assert "resuming from sequence" in text_err, text_err
    seqs = {}
    for l in out:
        m = re.match(r"EVENT account=(\S+) seq=(\d+)", l)
        if m:
            seqs.setdefault(m.group(1), []).append(int(m.group(2)))
    for acct, s in seqs.items():
        assert s == list(range(s[0], s[0] + len(s))), (acct, s)
    print("ok: %s events resumed without gaps: %s" % (
        sum(len(s) for s in seqs.values()), {a: (s[0], s[-1]) for a, s in seqs.items()}))
    rig.close()
    print("PASS python_strategy_test (%s)" % ("two venues" if two_venues else "one venue"))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, Fail) as e:
        import traceback
        traceback.print_exc()
        sys.exit(1)
