"""Integration test: every `grpcurl` line of README.md ("Query it by hand"), run through
perpgw-cli (server reflection, same flags, `call` before a method) against perpgwd + perpgw-sim.

  query_by_hand_test.py PERPGWD PERPGW_SIM PERPGW_CLI REPO_ROOT
"""
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_rig  # noqa: E402
from ops_rig import Fail, wait_until  # noqa: E402


def commands(md_path):
    """grpcurl lines of the README's "## Query it by hand" section (up to the next ## heading)."""
    out = []
    inside = False
    with open(md_path) as f:
        for line in f:
            if line.startswith("## "):
                inside = line.strip() == "## Query it by hand"
                continue
            if inside and line.startswith("grpcurl "):
                out.append(line.strip())
    return out


def to_cli(cli, line, addr, token):
    args = shlex.split(line.replace('"$ADDR"', addr).replace("$TOKEN", token))[1:]
    i = args.index(addr)
    rest = args[i + 1:]
    if rest and rest[0] not in ("list", "describe"):
        rest = ["call"] + rest
    return [cli] + args[:i] + [addr] + rest


def main():
    perpgwd, sim, cli, root = sys.argv[1:5]
    md = os.path.join(root, "README.md")
    lines = commands(md)
    assert len(lines) >= 9, lines
    rig = ops_rig.Rig(perpgwd, sim, venues=["aster"], rate=20, symbols=("BTC", "ETH"),
                      prefix="perpgw-qbh")
    # Live books first (GetOrderBook answers from the WebSocket book). Past the first few
    # updates: right after start the Aster book can briefly go RESYNCING ("sequence gap").
    def live_book():
        r = subprocess.run(
            [cli, "-plaintext", "-H", "authorization: Bearer " + ops_rig.TOKEN, "-d",
             '{"market":{"venue":"aster","symbol":"BTC"},"depth":1}', rig.addr, "call",
             "perpgw.v1.MarketDataService/GetOrderBook"], capture_output=True, text=True)
        try:
            b = json.loads(r.stdout)
        except ValueError:
            return False
        return b.get("status") == "BOOK_STATUS_LIVE" and int(b.get("sequence", 0)) >= 10
    wait_until(live_book, 60, "a live BTC book", poll=0.5)
    results = {}
    for line in lines:
        argv = to_cli(cli, line, rig.addr, ops_rig.TOKEN)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        method = argv[-1]
        print("$ %s\n  -> exit %d, %d bytes%s" % (" ".join(shlex.quote(a) for a in argv[1:]),
                                                  r.returncode, len(r.stdout),
                                                  ("; stderr: " + r.stderr.strip())
                                                  if r.returncode else ""))
        assert r.returncode == 0, (line, r.stdout, r.stderr)
        results[method] = r.stdout
    out = results
    assert "perpgw.v1.TradingService" in out["list"] and "grpc.health.v1.Health" in out["list"]
    assert "PlaceOrder" in out["perpgw.v1.TradingService.PlaceOrder"]
    assert "client_order_id" in out["perpgw.v1.PlaceOrderRequest"]
    book = json.loads(out["perpgw.v1.MarketDataService/GetOrderBook"])
    print("book:", book)
    assert book["bids"] and book["asks"] and book["status"] == "BOOK_STATUS_LIVE", book
    assert "aster" in out["perpgw.v1.GatewayService/ListVenues"]
    bbo = [json.loads(l) for l in out["perpgw.v1.MarketDataService/StreamBbo"].splitlines()
           if l.strip()]
    assert {b["market"]["symbol"] for b in bbo} == {"BTC", "ETH"}, bbo
    placed = json.loads(out["perpgw.v1.TradingService/PlaceOrder"])
    assert placed["outcome"] == "ACK_OUTCOME_ACCEPTED", placed
    listed = json.loads(out["perpgw.v1.TradingService/ListOpenOrders"])
    assert any(o.get("clientOrderId", o.get("client_order_id")) == "by-hand-1"
               for o in listed.get("orders", [])), listed
    canceled = json.loads(out["perpgw.v1.TradingService/CancelOrder"])
    assert canceled["order"]["status"] == "ORDER_STATUS_CANCELED", canceled
    # Ground truth: nothing left resting in the sim.
    assert not rig.account("aster", "aster-v1")["open_orders"]
    # Without the token: UNAUTHENTICATED, as the README says.
    no_tok = [a for a in to_cli(cli, next(l for l in lines if "PlaceOrder" in l and "-d" in l),
                                rig.addr, ops_rig.TOKEN)]
    k = no_tok.index("-H")
    del no_tok[k:k + 2]
    r = subprocess.run(no_tok, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "UNAUTHENTICATED" in r.stderr, (r.returncode, r.stderr)
    rig.close()
    print("PASS query_by_hand_test (%d commands from README.md)" % len(lines))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, Fail):
        import traceback
        traceback.print_exc()
        sys.exit(1)
