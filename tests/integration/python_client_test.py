"""Test of the perpgw Python package (clients/python), registered in ctest as perpgw_python_client.

  python_client_test.py PERPGWD PERPGW_SIM REPO_ROOT

1. Installs the package offline into a venv in a temporary directory (python_venv.py: Debian's
   /usr/bin/python3 --system-site-packages, pip install --no-index), then re-runs
   this file with the venv's python (--in-venv), which must import perpgw from the venv.
2. Unit checks: decimal strings as Decimal, absent ("" / unset optional) as None and never 0,
   the decimal-field naming rule over every string field of the generated messages, decoding
   the google.rpc error details (ErrorInfo reason/metadata, RetryInfo), the book
   rebuild (snapshot, deltas, "0" removes, sequence gap -> unsynced until the next snapshot).
3. Against a real perpgwd + perpgw-sim (ops_rig.py, loopback, port 0): lists instruments,
   reads a book through BookStream (and again after dropping the stream), places a post-only
   buy behind the touch and cancels it, sees both as order events, and resumes the order-event
   stream: drop() mid-stream (auto-resume from last sequence + 1 with the epoch), and a new
   stream started from a stopped one's last sequence + 1 replays the cancel it missed.
Every wait is on a condition with a deadline; no fixed sleeps.
"""
import atexit
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def outer(perpgwd, sim, root):
    import python_venv
    work = tempfile.mkdtemp(prefix="perpgw-pyclient-")
    if os.environ.get("PERPGW_KEEP_TEST_DIRS") != "1":
        atexit.register(shutil.rmtree, work, True)
    py = python_venv.install(root, work)
    env = dict(os.environ)
    env.pop("PERPGW_PY_STUBS", None)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([py, os.path.abspath(__file__), "--in-venv", perpgwd, sim, root], env=env,
                       timeout=300)
    return r.returncode


# ------------------------------------------------------------------------------------------
# In the venv
# ------------------------------------------------------------------------------------------

def check(cond, what):
    if not cond:
        raise AssertionError(what)


def error_detail_checks(perpgw, cls):
    st = cls["Status"](code=8, message="slow down")
    info = cls["ErrorInfo"](reason="rate_limited", domain="perpgw",
                            metadata={"venue": "aster", "venue_code": "-1003"})
    st.details.add(type_url="type.googleapis.com/google.rpc.ErrorInfo",
                   value=info.SerializeToString())
    ri = cls["RetryInfo"]()
    ri.retry_delay.seconds, ri.retry_delay.nanos = 1, 500000000
    st.details.add(type_url="type.googleapis.com/google.rpc.RetryInfo",
                   value=ri.SerializeToString())

    class FakeErr:
        def trailing_metadata(self):
            return (("x", "y"), (perpgw.errors.TRAILER, st.SerializeToString()))
    d = perpgw.error_details(FakeErr())
    check(d.code == 8 and d.reason == "rate_limited" and d.metadata["venue_code"] == "-1003" and
          d.retry_delay == 1.5, d)
    check(perpgw.error_details(object()) is None, "no trailer -> None")
    print("ok: error details %s" % d)


def unit_checks(root):
    from decimal import Decimal

    import perpgw
    from perpgw import dec, dstr, typed, is_decimal_field
    from perpgw.v1 import account_pb2, common_pb2, market_data_pb2, risk_pb2, trading_pb2
    import perpgw.v1

    venv = os.path.dirname(os.path.dirname(sys.executable))
    check(perpgw.__file__.startswith(venv), "perpgw imported from the venv: %s" % perpgw.__file__)
    names = perpgw.v1.module_names()
    check("trading_pb2" in names and "trading_pb2_grpc" in names, names)

    # dec / dstr
    check(dec("") is None and dec(None) is None and dec("  ") is None, "absent -> None")
    check(dec("0") == 0 and dec("0") is not None, "'0' is a real zero")
    check(dec("101.50") == Decimal("101.5") and isinstance(dec("1"), Decimal), "dec value")
    check(dec("1e-3") == Decimal("0.001"), "exponent form")
    for bad in ("abc", "NaN", "inf", "1,5"):
        try:
            dec(bad)
            raise AssertionError("dec(%r) should raise" % bad)
        except ValueError:
            pass
    check(dstr(Decimal("1E-3")) == "0.001" and dstr(Decimal("100.500")) == "100.5", "dstr")
    check(dstr(None) == "" and dstr(7) == "7" and dstr("2.50") == "2.5" and
          dstr(Decimal("-0")) == "0" and dstr(Decimal("1E+2")) == "100", "dstr forms")
    try:
        dstr(0.1)
        raise AssertionError("dstr(float) should raise")
    except TypeError:
        pass

    # typed(): absent is None, never 0
    pos = account_pb2.Position(market=common_pb2.MarketRef(venue="aster", symbol="BTC"),
                               size="0.002", entry_price="64000.5", liquidation_price="")
    t = typed(pos)
    check(t.liquidation_price is None, "empty liquidation price -> None")
    check(t.leverage is None and t.margin is None, "unset decimals -> None")
    check(t.size == Decimal("0.002") and t.entry_price == Decimal("64000.5"), "decimals")
    check(t.market.venue == "aster" and t.account == "", "non-decimal strings stay strings")
    check(typed(account_pb2.Position()).market is None, "unset message -> None")
    check(t.as_dict()["liquidation_price"] is None, "as_dict keeps None")
    pos.liquidation_price = "0"
    check(typed(pos).liquidation_price == 0, "'0' -> Decimal 0 (a value, not absent)")
    # proto3 `optional string` (risk limits): unset -> None, set -> Decimal
    lim_cls = None
    for m in risk_pb2.DESCRIPTOR.message_types_by_name.values():
        if "max_order_notional" in m.fields_by_name:
            lim_cls = getattr(risk_pb2, m.name)
    if lim_cls is not None:
        lim = lim_cls()
        check(typed(lim).max_order_notional is None, "unset optional -> None")
        lim.max_order_notional = "5000"
        check(typed(lim).max_order_notional == Decimal(5000), "set optional -> Decimal")
    # repeated messages: levels as Decimal
    ob = market_data_pb2.OrderBook(bids=[common_pb2.PriceLevel(price="10.5", size="2")])
    check(typed(ob).bids[0].price == Decimal("10.5") and typed(ob).asks == [], "repeated")
    o = trading_pb2.Order(order_id="123", client_order_id="42", avg_fill_price="")
    check(typed(o).order_id == "123" and typed(o).avg_fill_price is None, "ids stay strings")
    try:
        typed(trading_pb2.Order(price="oops")).price
        raise AssertionError("garbage in a decimal field should raise")
    except ValueError as e:
        check("Order.price" in str(e), e)

    # The naming rule over every string field the protos have now (they change: no list here).
    expect_dec = {"price", "size", "rate_8h", "liquidation_price", "max_leverage", "margin_used",
                  "funding_accrued", "min_notional", "tick_size", "available", "apr",
                  "flatten_slippage_bps", "fee", "realized_pnl", "exposure_usd"}
    expect_str = {"venue", "symbol", "account", "order_id", "client_order_id", "trade_id",
                  "fee_asset", "long_venue", "status_reason", "reason", "venue_symbol",
                  "unified_symbol", "settle", "base", "quote", "message", "token", "name"}
    seen_dec, seen_str, total = set(), set(), 0
    from google.protobuf.descriptor import FieldDescriptor

    def walk(md):
        nonlocal total
        for fd in md.fields:
            if fd.type == FieldDescriptor.TYPE_STRING:
                total += 1
                (seen_dec if is_decimal_field(fd) else seen_str).add(fd.name)
        for n in md.nested_types:
            walk(n)
    for mod in perpgw.v1.modules("_pb2"):
        for md in mod.DESCRIPTOR.message_types_by_name.values():
            walk(md)
            typed(getattr(mod, md.name)()).as_dict()  # a default message converts cleanly
    check(not (seen_dec & expect_str), "wrongly decimal: %s" % (seen_dec & expect_str))
    check(not ((expect_dec & seen_str)), "wrongly not decimal: %s" % (expect_dec & seen_str))
    check(not any(n.endswith("_id") or n.endswith("_ids") for n in seen_dec), seen_dec)
    print("ok: %d string fields; decimal: %s" % (total, " ".join(sorted(seen_dec))))
    print("ok: not decimal: %s" % " ".join(sorted(seen_str)))

    # Structured errors: google.rpc.Status in the grpc-status-details-bin trailer.
    cls = perpgw.errors.rpc_classes()
    if not os.path.isdir(os.path.join(root, "proto", "google", "rpc")):
        check(cls == {}, "no proto/google/rpc, no classes")
        print("skip: error details (this checkout has no proto/google/rpc)")
    else:
        check({"Status", "ErrorInfo", "RetryInfo"} <= set(cls), "google.rpc classes: %s" % cls)
        error_detail_checks(perpgw, cls)
    # Book rebuild from snapshot + deltas, gaps.
    U = market_data_pb2.OrderBookUpdate
    L = common_pb2.PriceLevel
    LIVE = common_pb2.BOOK_STATUS_LIVE
    b = perpgw.Book("aster", "BTC")
    check(b.apply(U(is_snapshot=False, sequence=1, bids=[L(price="1", size="1")])) == "ignored",
          "delta before a snapshot is ignored")
    check(b.apply(U(is_snapshot=True, sequence=5, status=LIVE,
                    bids=[L(price="100", size="1"), L(price="99.5", size="2")],
                    asks=[L(price="101", size="3")])) == "snapshot", "snapshot")
    check(b.tradeable and b.best_bid() == (Decimal(100), Decimal(1)), b)
    check(b.apply(U(sequence=6, status=LIVE, bids=[L(price="100.0", size="0"),
                                                   L(price="99.75", size="4")])) == "delta", b)
    check(b.levels("bid") == [(Decimal("99.75"), Decimal(4)), (Decimal("99.5"), Decimal(2))],
          "'0' removes the level (100 == 100.0): %s" % b.levels("bid"))
    check(b.apply(U(sequence=7, status=common_pb2.BOOK_STATUS_STALE)) == "status" and
          not b.tradeable and b.synced, "stale: synced but not tradeable")
    check(b.apply(U(sequence=9, status=LIVE, asks=[L(price="102", size="1")])) == "gap" and
          not b.synced and b.gaps == 1, "sequence gap unsyncs")
    check(b.apply(U(sequence=10, status=LIVE, asks=[L(price="103", size="1")])) == "ignored",
          "deltas ignored until the resync snapshot")
    check(Decimal(103) not in b.asks, "ignored delta not applied")
    check(b.apply(U(is_snapshot=True, resync=True, sequence=11, status=LIVE,
                    bids=[L(price="98", size="1")], asks=[L(price="99", size="1")])) ==
          "snapshot" and b.tradeable and b.resyncs == 1 and b.mid() == Decimal("98.5"), b)
    print("ok: unit checks")


def live_checks(perpgwd, sim):
    from decimal import Decimal, ROUND_FLOOR, ROUND_CEILING

    import grpc
    import perpgw
    import ops_rig
    from ops_rig import wait_until
    from perpgw.v1 import common_pb2, gateway_pb2, trading_pb2

    t0 = time.time()
    rig = ops_rig.Rig(perpgwd, sim, venues=["aster"], rate=20, symbols=("BTC", "ETH"),
                      prefix="perpgw-pyclient")
    venue, account = "aster", rig.accounts["aster"][0]
    c = perpgw.Client(rig.addr, token=ops_rig.TOKEN)
    c.wait_ready(30)

    # Instruments (typed: tick/step are Decimal).
    def instruments():
        try:
            r = c.call(c.instruments.ListInstruments, gateway_pb2.ListInstrumentsRequest(
                venue=venue))
        except grpc.RpcError:
            return None
        return [perpgw.typed(i) for i in r.instruments] or None
    insts = wait_until(instruments, 60, "instruments on %s" % venue, poll=0.2)
    inst = next(i for i in insts if i.symbol == "BTC")
    check(isinstance(inst.tick_size, Decimal) and inst.tick_size > 0, inst)
    check(isinstance(inst.step_size, Decimal) and inst.step_size > 0, inst)
    print("ok: %d instruments on %s: %s (tick %s, step %s, min_notional %s)" % (
        len(insts), venue, " ".join(i.symbol for i in insts), inst.tick_size, inst.step_size,
        inst.min_notional))

    # Books through the stream helper, in a thread; the test waits on conditions.
    bs = perpgw.BookStream(c, [(venue, "BTC"), (venue, "ETH")], log=print)
    kinds = []
    errs = []

    def pump_books():
        try:
            for _book, _u, kind in bs:
                kinds.append(kind)
        except Exception as e:  # noqa: BLE001 - reported by the waits below
            errs.append(e)
    threading.Thread(target=pump_books, daemon=True).start()
    btc = bs.book(venue, "BTC")

    def live_book():
        check(not errs, errs)
        return (btc.tradeable and btc.best_bid() and btc.best_ask() and kinds.count("delta") > 0
                and bs.book(venue, "ETH").tradeable)
    wait_until(live_book, 60, "a live BTC/ETH book with deltas applied", poll=0.05)
    bid, ask = btc.best_bid()[0], btc.best_ask()[0]
    check(bid < ask and not btc.crossed(), btc)
    check(isinstance(bid, Decimal) and all(isinstance(s, Decimal) for s in btc.bids.values()),
          "Decimal levels")
    print("ok: book %s (%d bids, %d asks, %d snapshots, %d deltas)" % (
        btc, len(btc.bids), len(btc.asks), btc.snapshots, kinds.count("delta")))
    snaps = btc.snapshots
    bs.drop()  # reconnect: unsynced until the new stream's snapshot
    wait_until(lambda: bs.reconnects >= 1 and btc.snapshots > snaps and btc.tradeable, 30,
               "the book resynced after dropping the stream")
    print("ok: book stream reconnected (%d) and resynced from a new snapshot" % bs.reconnects)

    # Order events, in a thread.
    events = queue.Queue()
    # Live only, then wait_live: the stream's headers say the gateway registered it, so no event
    # of the order placed next can slip by (they carry the account's sequence and epoch).
    es = perpgw.OrderEventStream(c, account, log=print)

    def pump_events(stream, q):
        try:
            for ev in stream:
                q.put(ev)
        except Exception as e:  # noqa: BLE001
            q.put(e)
    threading.Thread(target=pump_events, args=(es, events), daemon=True).start()
    check(es.wait_live(15), "the order-event stream's headers (live) arrived")
    check(es.live_sequence >= 0 and es.live_epoch > 0, (es.live_sequence, es.live_epoch))
    print("ok: order events live at sequence %d, epoch %d" % (es.live_sequence, es.live_epoch))
    got = []

    def wait_event(pred, what, q=events, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                ev = q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if isinstance(ev, Exception):
                raise ev
            got.append(ev)
            if pred(ev):
                return ev
        raise AssertionError("timed out waiting for %s; events: %s" % (
            what, [(e.sequence, e.order.client_order_id, e.order.status) for e in got]))

    # A post-only buy well behind the touch: rests, never fills.
    price = ((bid * Decimal("0.97")) / inst.tick_size).to_integral_value(ROUND_FLOOR) * \
        inst.tick_size
    need = max(inst.min_size or 0, ((inst.min_notional or 0) * Decimal("1.2")) / price)
    size = max((need / inst.step_size).to_integral_value(ROUND_CEILING) * inst.step_size,
               inst.step_size)
    coid = "pyclient-%d" % int(time.time() * 1000)
    req = trading_pb2.PlaceOrderRequest(
        account=account, market=perpgw.market(venue, "BTC"), client_order_id=coid,
        side=common_pb2.SIDE_BUY, type=trading_pb2.ORDER_TYPE_LIMIT,
        time_in_force=trading_pb2.TIME_IN_FORCE_POST_ONLY, price=perpgw.dstr(price),
        size=perpgw.dstr(size))
    # An off-tick price is refused (rounding REJECT): a structured error, decoded when the
    # gateway sends details (issue 19's error model; older gateways send a bare status).
    bad = trading_pb2.PlaceOrderRequest()
    bad.CopyFrom(req)
    bad.client_order_id = coid + "-bad"
    bad.price = perpgw.dstr(price + inst.tick_size / 2)
    try:
        c.call(c.trading.PlaceOrder, bad)
        raise AssertionError("an off-tick price was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, e)
        d = perpgw.error_details(e)
        if d is not None:
            check(d.reason != "" and d.code == grpc.StatusCode.INVALID_ARGUMENT.value[0], d)
        print("ok: off-tick price refused: %s; details: %s" % (e.details(), d))
    r = c.call_typed(c.trading.PlaceOrder, req)
    check(r.outcome == trading_pb2.ACK_OUTCOME_ACCEPTED, "place: %s" % r)
    check(r.order.price == price and r.order.size == size, r)
    print("ok: placed post-only buy %s @ %s: %s order_id=%s" % (
        size, price, trading_pb2.AckOutcome.Name(r.outcome), r.order.order_id))
    ev_open = wait_event(lambda e: e.order.client_order_id == coid and
                         e.order.status == trading_pb2.ORDER_STATUS_OPEN, "the OPEN event")
    check(ev_open.epoch != 0 and es.epoch == ev_open.epoch, "epoch tracked")
    check(got[0].sequence == es.live_sequence + 1 and ev_open.epoch == es.live_epoch,
          "the first event follows the headers' sequence: %d after %d" % (
              got[0].sequence, es.live_sequence))
    topen = perpgw.typed(ev_open.order)
    check(topen.avg_fill_price is None or topen.avg_fill_price == 0, topen.avg_fill_price)
    check(topen.price == price, topen)
    print("ok: order event seq=%d epoch=%d status OPEN" % (ev_open.sequence, ev_open.epoch))

    # Resume 1: drop the stream mid-flight; the helper reopens from last+1 with the epoch.
    last = es.last_sequence
    es.drop()
    wait_until(lambda: es.resumes >= 1 and es.last_request.from_sequence == last + 1, 10,
               "the order-event stream reopened from last sequence + 1")
    check(es.last_request.epoch == ev_open.epoch, es.last_request)
    print("ok: dropped and resumed with from_sequence=%d epoch=%d" % (
        es.last_request.from_sequence, es.last_request.epoch))

    # Resume 2: stop the stream, cancel while nothing listens, then a new stream resumed from
    # the stopped one's position replays the cancel it missed.
    es.stop()
    stopped_at, stopped_epoch = es.last_sequence, es.epoch
    cr = c.call_typed(c.trading.CancelOrder, trading_pb2.CancelOrderRequest(
        account=account, market=perpgw.market(venue, "BTC"), client_order_id=coid))
    print("ok: cancel answered: status %s" % trading_pb2.OrderStatus.Name(cr.order.status))
    wait_until(lambda: not rig.account(venue, account)["open_orders"], 10,
               "the order gone in the sim")
    events2 = queue.Queue()
    es2 = perpgw.OrderEventStream(c, account, from_sequence=stopped_at + 1, epoch=stopped_epoch,
                                  log=print)
    threading.Thread(target=pump_events, args=(es2, events2), daemon=True).start()
    ev_cancel = wait_event(lambda e: e.order.client_order_id == coid and
                           e.order.status == trading_pb2.ORDER_STATUS_CANCELED,
                           "the replayed CANCELED event", q=events2)
    check(ev_cancel.sequence > stopped_at and es2.gaps == 0, (ev_cancel.sequence, stopped_at))
    seqs = [e.sequence for e in got if e.epoch == stopped_epoch]
    check(seqs == sorted(set(seqs)), "no duplicates across resumes: %s" % seqs)
    check(es2.last_request.from_sequence == stopped_at + 1, es2.last_request)
    print("ok: resumed from %d (epoch %d) and got the missed cancel as seq %d" % (
        stopped_at + 1, stopped_epoch, ev_cancel.sequence))
    es2.stop()
    bs.stop()
    c.close()
    rig.close()
    print("ok: live checks in %.1fs" % (time.time() - t0))


def inner(perpgwd, sim, root):
    unit_checks(root)
    live_checks(perpgwd, sim)
    print("PASS python_client_test")
    return 0


if __name__ == "__main__":
    t_start = time.time()
    try:
        if sys.argv[1] == "--in-venv":
            rc = inner(*sys.argv[2:5])
        else:
            rc = outer(*sys.argv[1:4])
            if rc == 0:
                print("PASS perpgw_python_client (%.1fs)" % (time.time() - t_start))
    except Exception:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        rc = 1
    sys.exit(rc)
