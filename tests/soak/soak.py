"""Bounded soak: perpgwd + perpgw-sim under churn, faults and trading, then accounting.

  soak.py PERPGWD PERPGW_SIM REPO_ROOT [--seconds N]   (default 120; SOAK_SECONDS overrides)

For N seconds: faults on a schedule (dropped sockets, skipped sequence ids, malformed frames,
stalls) on both venues; up to 200 streams of every kind opened, read, cancelled or abandoned in a
loop; orders placed (resting and IOC) and cancelled; one slow book consumer. Then: the
subscriber gauge equals the streams still open, every followed book equals the sim's truth, every
order's fills on StreamOrderEvents equal the sim's (sequences without gaps), RSS is back within
10 % of its level after warm-up, and SIGTERM exits 0 within the grace.

In the test suite it runs ~2 min; by hand: soak.py ... --seconds 600.
"""
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import ops_rig  # noqa: E402
from ops_rig import Fail, wait_until  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def subscribers(rig):
    with urllib.request.urlopen(rig.metrics_url, timeout=5) as r:
        text = r.read().decode()
    return sum(float(m.group(1)) for m in re.finditer(r"^perpgw_subscribers\{[^}]*\} (\S+)$", text, re.M))


def main():
    perpgwd, sim, root = sys.argv[1:4]
    seconds = int(os.environ.get("SOAK_SECONDS", "0") or 0)
    if "--seconds" in sys.argv:
        seconds = int(sys.argv[sys.argv.index("--seconds") + 1])
    seconds = seconds or 120
    stubs = os.path.join(os.environ.get("TMPDIR", "/tmp"), "perpgw-soakstubs-%d" % os.getpid())
    subprocess.run(["bash", os.path.join(root, "examples/python/gen_stubs.sh"), stubs], check=True,
                   capture_output=True)
    sys.path.insert(0, stubs)
    import grpc
    from perpgw.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc  # noqa: F401
    from perpgw.v1 import account_pb2, account_pb2_grpc, trading_pb2, trading_pb2_grpc
    from perpgw.v1 import funding_pb2, funding_pb2_grpc, gateway_pb2, gateway_pb2_grpc

    rig = ops_rig.Rig(perpgwd, sim, venues=["aster", "backpack"], rate=300, metrics=True,
                      symbols=("BTC", "ETH"), prefix="perpgw-soak")
    md = [("authorization", "Bearer " + ops_rig.TOKEN)]
    ch = grpc.insecure_channel(rig.addr)
    market = market_data_pb2_grpc.MarketDataServiceStub(ch)
    trading = trading_pb2_grpc.TradingServiceStub(ch)
    account = account_pb2_grpc.AccountServiceStub(ch)
    funding = funding_pb2_grpc.FundingServiceStub(ch)
    insts = gateway_pb2_grpc.InstrumentServiceStub(ch)
    ref = lambda v, s: common_pb2.MarketRef(venue=v, symbol=s)  # noqa: E731
    wait_until(lambda: all(len(insts.ListInstruments(gateway_pb2.ListInstrumentsRequest(venue=v),
                                                      metadata=md, timeout=5).instruments) > 0
                           for v in rig.venues), 60, "instruments on every venue")
    accts = {v: rig.accounts[v][0] for v in rig.venues}
    stop = threading.Event()
    errors = []

    # ---- book followers (one per venue, BTC), rebuilt from snapshots and deltas
    books = {}

    def follow_book(v):
        b = {"bids": {}, "asks": {}, "live": False, "n": 0}
        books[v] = b
        while not stop.is_set():
            call = market.StreamOrderBooks(market_data_pb2.StreamOrderBooksRequest(
                markets=[ref(v, "BTC")]), metadata=md)
            b["call"] = call
            try:
                for u in call:
                    if u.is_snapshot:
                        b["bids"], b["asks"] = {}, {}
                    for side, lv in (("bids", u.bids), ("asks", u.asks)):
                        for l in lv:
                            p, q = Decimal(l.price), Decimal(l.size)
                            if q == 0:
                                b[side].pop(p, None)
                            else:
                                b[side][p] = q
                    b["live"] = u.status == common_pb2.BOOK_STATUS_LIVE
                    b["n"] += 1
            except grpc.RpcError:
                pass

    # ---- order events per account, resumed with from_sequence + epoch
    events = {v: [] for v in rig.venues}

    def follow_orders(v):
        while not stop.is_set():
            evs = events[v]
            req = trading_pb2.StreamOrderEventsRequest(
                account=accts[v], from_sequence=(evs[-1].sequence + 1) if evs else 1,
                epoch=evs[-1].epoch if evs else 0)
            call = trading.StreamOrderEvents(req, metadata=md)
            followers_calls.append(call)
            try:
                for e in call:
                    if evs and e.sequence != evs[-1].sequence + 1:
                        errors.append("%s: sequence %d -> %d" % (v, evs[-1].sequence, e.sequence))
                    evs.append(e)
            except grpc.RpcError as e:
                if not stop.is_set() and e.code() != grpc.StatusCode.CANCELLED:
                    errors.append("%s order stream: %s %s" % (v, e.code(), e.details()))
                    time.sleep(0.2)

    followers_calls = []
    threads = [threading.Thread(target=follow_book, args=(v,), daemon=True) for v in rig.venues]
    threads += [threading.Thread(target=follow_orders, args=(v,), daemon=True) for v in rig.venues]

    # ---- a slow consumer: one message a second
    def slow():
        call = market.StreamOrderBooks(market_data_pb2.StreamOrderBooksRequest(
            markets=[ref("aster", "ETH"), ref("backpack", "ETH")]), metadata=md)
        try:
            for _ in call:
                if stop.wait(1.0):
                    break
        except grpc.RpcError:
            pass
        call.cancel()
    threads.append(threading.Thread(target=slow, daemon=True))

    # ---- stream churn: up to 200 open, opened/read/cancelled/abandoned at random
    rng = random.Random(20261204)
    churned = [0]

    def open_one():
        v = rng.choice(rig.venues)
        kind = rng.randrange(7)
        if kind == 0:
            return market.StreamOrderBooks(market_data_pb2.StreamOrderBooksRequest(
                markets=[ref(v, rng.choice(["BTC", "ETH"]))], depth=rng.choice([0, 5])), metadata=md)
        if kind == 1:
            return market.StreamBbo(market_data_pb2.StreamBboRequest(markets=[ref(v, "BTC")]),
                                    metadata=md)
        if kind == 2:
            return market.StreamTrades(market_data_pb2.StreamTradesRequest(markets=[ref(v, "ETH")]),
                                       metadata=md)
        if kind == 3:
            return funding.StreamFunding(funding_pb2.StreamFundingRequest(), metadata=md)
        if kind == 4:
            return trading.StreamOrderEvents(trading_pb2.StreamOrderEventsRequest(account=accts[v]),
                                             metadata=md)
        if kind == 5:
            return account.StreamPositions(account_pb2.StreamPositionsRequest(account=accts[v]),
                                           metadata=md)
        return account.StreamLiquidations(account_pb2.StreamLiquidationsRequest(account=accts[v]),
                                          metadata=md)

    def read_one(c):
        try:
            next(iter(c), None)
        except grpc.RpcError:
            pass

    def churn():
        pool = []
        while not stop.is_set():
            if len(pool) < 200 and rng.random() < 0.6:
                pool.append(open_one())
                churned[0] += 1
            elif pool:
                c = pool.pop(rng.randrange(len(pool)))
                action = rng.random()
                if action < 0.3:
                    # read a little first (the first message of a quiet stream may never come)
                    threading.Thread(target=read_one, args=(c,), daemon=True).start()
                    time.sleep(0.01)
                c.cancel()  # abandoned or cancelled: the server sees the call end either way
            time.sleep(0.005)
        for c in pool:
            c.cancel()
    threads.append(threading.Thread(target=churn, daemon=True))

    # ---- faults on a schedule
    def faults():
        kinds = [{"kind": "drop_ws"}, {"kind": "skip_seq"}, {"kind": "malformed_frame"},
                 {"kind": "stall", "ms": "500"}]
        i = 0
        while not stop.wait(8.0):
            v = rig.venues[i % len(rig.venues)]
            f = dict(kinds[(i // len(rig.venues)) % len(kinds)], venue=v)
            try:
                rig.http_post("/fault", f)
            except Exception as e:  # noqa: BLE001
                errors.append("fault %s: %s" % (f, e))
            i += 1
    threads.append(threading.Thread(target=faults, daemon=True))

    # ---- trading: resting orders (some cancelled) and IOC through the touch
    placed = {v: {} for v in rig.venues}  # cid -> ack order id

    def trade():
        n = 0
        while not stop.wait(0.5):
            for v in rig.venues:
                try:
                    ob = market.GetOrderBook(market_data_pb2.GetOrderBookRequest(
                        market=ref(v, "BTC"), depth=1), metadata=md, timeout=5)
                    inst = insts.GetInstrument(gateway_pb2.GetInstrumentRequest(market=ref(v, "BTC")),
                                               metadata=md, timeout=5)
                except grpc.RpcError:
                    continue
                if not ob.bids or not ob.asks:
                    continue
                tick = Decimal(inst.tick_size)
                size = inst.min_size if Decimal(inst.min_size) > 0 else inst.step_size
                n += 1
                cid = "soak-%s-%d" % (v[:2], n)
                ioc = n % 2 == 0
                side = common_pb2.SIDE_BUY if n % 4 < 2 else common_pb2.SIDE_SELL
                if ioc:
                    px = (Decimal(ob.asks[0].price) + 20 * tick) if side == common_pb2.SIDE_BUY \
                        else (Decimal(ob.bids[0].price) - 20 * tick)
                else:
                    px = (Decimal(ob.bids[0].price) - 200 * tick) if side == common_pb2.SIDE_BUY \
                        else (Decimal(ob.asks[0].price) + 200 * tick)
                req = trading_pb2.PlaceOrderRequest(
                    account=accts[v], market=ref(v, "BTC"), client_order_id=cid, side=side,
                    type=trading_pb2.ORDER_TYPE_LIMIT,
                    time_in_force=trading_pb2.TIME_IN_FORCE_IOC if ioc else trading_pb2.TIME_IN_FORCE_GTC,
                    price=str(px), size=size)
                for _ in range(40):  # retry to a definite answer
                    try:
                        a = trading.PlaceOrder(req, metadata=md, timeout=15)
                        if a.outcome == trading_pb2.ACK_OUTCOME_OUTCOME_UNKNOWN:
                            time.sleep(0.5)
                            continue
                        if a.outcome == trading_pb2.ACK_OUTCOME_ACCEPTED:
                            placed[v][cid] = a.order.order_id
                        break
                    except grpc.RpcError:
                        time.sleep(0.5)
                if not ioc and n % 3 == 0 and cid in placed[v]:
                    try:
                        trading.CancelOrder(trading_pb2.CancelOrderRequest(
                            account=accts[v], market=ref(v, "BTC"), client_order_id=cid),
                            metadata=md, timeout=15)
                    except grpc.RpcError:
                        pass
    threads.append(threading.Thread(target=trade, daemon=True))

    for t in threads:
        t.start()
    gw_pid = rig.gw.pid
    warm = min(30, seconds // 4)
    time.sleep(warm)
    rss0 = rss_kb(gw_pid)
    print("soak: %d s, RSS after %d s warm-up: %d kB" % (seconds, warm, rss0), flush=True)
    time.sleep(seconds - warm)
    stop.set()  # churn, slow consumer, faults and trading end; the followers stay until checked

    # ---- accounting
    # Streams still open: 2 book followers, 2 order followers (the churn pool and the slow
    # consumer end themselves). Let everything settle, then the gauge must say exactly that.
    open_now = 4
    try:
        wait_until(lambda: subscribers(rig) == open_now, 30, "perpgw_subscribers == %d" % open_now,
                   poll=0.5)
    except Fail:
        errors.append("perpgw_subscribers is %s with %d streams open" % (subscribers(rig), open_now))
    # Books: pause the generators, then the followed books equal the sim's.
    for v in rig.venues:
        rig.http_post("/rate", {"venue": v, "rate": "0"})
    for v in rig.venues:
        vs = rig.venue_symbol(v, "BTC")

        def same():
            t = rig.http_get("/book?venue=%s&symbol=%s" % (v, vs))
            tb = {Decimal(p): Decimal(q) for p, q in t["bids"]}
            ta = {Decimal(p): Decimal(q) for p, q in t["asks"]}
            b = books[v]
            return b["live"] and b["bids"] == tb and b["asks"] == ta
        try:
            wait_until(same, 30, "%s BTC book == sim truth" % v, poll=0.2)
        except Fail as e:
            errors.append(str(e))
    # Orders: each accepted order's fills on the stream equal the sim's, once.
    for v in rig.venues:
        sim_orders = rig.http_get("/orders?venue=%s&account=%s" % (v, accts[v]))["orders"]
        sim_filled = {str(o["venue_order_id"]): Decimal(o["filled"]) for o in sim_orders}

        def fills_match():
            got, trades = {}, set()
            for e in events[v]:
                if e.HasField("fill"):
                    if e.fill.trade_id in trades:
                        errors.append("%s: fill %s twice" % (v, e.fill.trade_id))
                    trades.add(e.fill.trade_id)
                    got[e.order.order_id] = got.get(e.order.order_id, Decimal(0)) + Decimal(e.fill.size)
            return all(got.get(oid, Decimal(0)) == sim_filled.get(oid, Decimal(-1))
                       for oid in placed[v].values())
        try:
            wait_until(fills_match, 30, "%s: stream fills == sim fills for %d orders" % (
                v, len(placed[v])), poll=0.5)
        except Fail as e:
            errors.append(str(e))
    for c in followers_calls:
        c.cancel()
    for v in rig.venues:
        if books[v].get("call"):
            books[v]["call"].cancel()
    rss1 = rss_kb(gw_pid)
    growth = (rss1 - rss0) / max(rss0, 1)
    print("soak: %d streams churned, %s orders, RSS %d -> %d kB (%+.1f %%)" % (
        churned[0], {v: len(placed[v]) for v in rig.venues}, rss0, rss1, 100 * growth), flush=True)
    sanitizer = os.environ.get("PERPGW_SANITIZER", "")
    if growth > 0.10 and sanitizer in ("asan", "tsan"):
        # ASan's quarantine and TSan's shadow/metadata grow with every address touched: under
        # them RSS measures the sanitizer, not perpgwd. Reported, not judged (leaks are LSan's).
        print("soak: RSS growth not judged under %s (%+.1f %%)" % (sanitizer, 100 * growth),
              flush=True)
    elif growth > 0.10:
        errors.append("RSS grew %.1f %% (%d -> %d kB)" % (100 * growth, rss0, rss1))
    t0 = time.time()
    rig.gw.send_signal(signal.SIGTERM)
    try:
        code = rig.gw.wait(8)
    except subprocess.TimeoutExpired:
        code = None
    print("soak: SIGTERM -> exit %s in %.2f s" % (code, time.time() - t0), flush=True)
    if code != 0:
        errors.append("SIGTERM: exit %s" % code)
    rig.close()
    if errors:
        for e in errors[:50]:
            print("FAIL:", e)
        sys.exit(1)
    print("PASS soak (%d s)" % seconds)


if __name__ == "__main__":
    main()
