#!/usr/bin/env python3
"""Funding-arbitrage scanner and (with --trade) a small delta-neutral pair trader for perpgwd.

Scan: RankFundingOpportunities -> a ranked table (long the lower normalized funding rate, short
the higher one, net of the configured round-trip fees).

Trade (--trade): takes the best opportunity (or the legs you force with --long-leg/--short-leg),
then
  1. places a post-only limit on each leg at its own side's touch (buy at the best bid, sell at
     the best ask), repricing when the venue refuses it as a post-only violation;
  2. follows both accounts' order-event streams (reconnecting; resumed with from_sequence =
     last seen + 1, reconciled with GetOrder when the replay buffer no longer has it);
  3. when one leg is filled and the other is not after --hedge-after seconds, cancels the
     lagging leg's resting order and sends a market IOC for the imbalance on the other venue;
  4. holds for --hold seconds, then closes both legs with reduce-only market IOC orders.

Exit codes: 0 done; 1 gRPC/unexpected error; 2 usage; 3 no two-venue opportunity (only one
venue, no ranked pair, or no account configured for a venue); 4 an order was rejected or could
not be hedged; 5 nothing filled before --fill-timeout (all resting orders canceled, flat).

Needs the perpgw package (clients/python): install it into a venv made from Debian's
/usr/bin/python3 with --system-site-packages (python3-grpcio, python3-protobuf), offline:
  /usr/bin/python3 -m venv --system-site-packages V
  V/bin/pip install --no-index ./clients/python
  V/bin/python examples/python/funding_arb.py --help
From a checkout without installing: PERPGW_PY_STUBS=<dir> after examples/python/gen_stubs.sh <dir>
(the package source is then taken from clients/python/src).
"""
import argparse
import decimal
import os
import queue
import sys
import threading
import time
import uuid
from decimal import Decimal

try:
    import perpgw as pc
except ImportError:  # a source checkout without the package installed: see the docstring
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "clients", "python", "src"))
    import perpgw as pc
    pc.v1.modules()  # explains how to get the stubs when there are none
import grpc  # noqa: E402
from perpgw.v1 import funding_pb2, market_data_pb2, trading_pb2, gateway_pb2  # noqa: E402,F401
from perpgw.v1 import account_pb2, common_pb2  # noqa: E402,F401

decimal.getcontext().prec = 50
T = trading_pb2
BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
TERMINAL = (T.ORDER_STATUS_FILLED, T.ORDER_STATUS_CANCELED, T.ORDER_STATUS_REJECTED,
            T.ORDER_STATUS_EXPIRED)


class Abort(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def say(msg):
    """Progress lines on stdout (machine-greppable: KEYWORD key=value ...)."""
    print(msg, flush=True)


def D(s):
    """A decimal string as Decimal, absent ("") as 0: every use here is a filled amount, a
    position size or a lower bound (min size/notional), where "none" and 0 agree. Fields that
    must be present go through need()."""
    d = pc.dec(s)
    return Decimal(0) if d is None else d


def need(s, what):
    d = pc.dec(s)
    if d is None or d <= 0:
        raise Abort(1, "%s is absent or not positive (%r)" % (what, s))
    return d


def floor_to(x, step):
    return (x / step).to_integral_value(rounding=decimal.ROUND_FLOOR) * step


def ceil_to(x, step):
    return (x / step).to_integral_value(rounding=decimal.ROUND_CEILING) * step


def fmt(d):
    s = format(d.normalize(), "f")
    return s


# ---------------------------------------------------------------------------------------------
# Scan

def rank(client, args):
    req = funding_pb2.RankFundingRequest(
        venues=args.venues, symbols=args.symbols, use_maker_fees=args.maker_fees,
        limit=args.limit, min_open_interest_usd=args.min_oi or "",
        min_volume_24h_usd=args.min_volume or "")
    return client.call(client.funding.RankFundingOpportunities, req)


def print_table(resp):
    cols = ["#", "symbol", "long", "short", "long_8h", "short_8h", "spread_8h", "apr", "fees",
            "net_8h"]
    rows = []
    for i, o in enumerate(resp.opportunities, 1):
        rows.append([str(i), o.symbol, o.long_venue, o.short_venue, o.long_rate_8h,
                     o.short_rate_8h, o.spread_8h, o.spread_apr, o.fees,
                     o.net_spread_8h_after_fees_one_period])
    widths = [max(len(c), *(len(r[k]) for r in rows)) if rows else len(c)
              for k, c in enumerate(cols)]
    line = lambda r: "  ".join(v.ljust(widths[k]) for k, v in enumerate(r))  # noqa: E731
    print(line(cols))
    for r in rows:
        print(line(r))
    if not rows:
        print("(no cross-venue opportunity: no symbol is quoted by two venues at different "
              "funding rates within the open-interest / volume filters)")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Trade

class Leg:
    def __init__(self, name, venue, account, symbol, side):
        self.name, self.venue, self.account, self.symbol, self.side = (
            name, venue, account, symbol, side)
        self.inst = None
        self.orders = {}  # client_order_id -> latest trading_pb2.Order
        self.fills = {}   # client_order_id -> {trade_id: size}
        self.n = 0

    def market(self):
        return pc.market(self.venue, self.symbol)

    def filled(self):
        total = Decimal(0)
        for coid, o in self.orders.items():
            by_fills = sum(self.fills.get(coid, {}).values(), Decimal(0))
            total += max(D(o.filled_size), by_fills)
        return total

    def signed_filled(self, opening=True):
        return self.filled() if self.side == BUY else -self.filled()

    def resting(self):
        return [o for o in self.orders.values() if o.status not in TERMINAL]

    def __str__(self):
        return "%s %s/%s %s" % (self.name, self.venue, self.account, self.symbol)


class Trader:
    def __init__(self, client, args, long_leg, short_leg):
        self.c = client
        self.args = args
        self.legs = [long_leg, short_leg]
        self.run_id = uuid.uuid4().hex[:8]
        self.events = queue.Queue()
        self.streams = []
        self.by_order_id = {}

    # -- streams --------------------------------------------------------------------------
    def start_streams(self):
        for acct in sorted({l.account for l in self.legs}):
            s = pc.OrderEventStream(
                self.c, acct, on_gap=lambda code, d: self.events.put(("gap", d)), log=log)
            self.streams.append(s)
            threading.Thread(target=self._pump, args=(s,), daemon=True).start()

    def _pump(self, stream):
        try:
            for ev in stream:
                self.events.put(("event", ev))
                if self.args.chaos_drop_streams:
                    stream.drop()  # exercise resume-from-sequence after every event
        except grpc.RpcError as e:
            self.events.put(("error", "%s: %s" % (e.code().name, e.details())))

    def stop_streams(self):
        for s in self.streams:
            s.stop()

    def _leg_of(self, order):
        for leg in self.legs:
            if order.client_order_id in leg.orders and leg.account == order.account:
                return leg
        key = (order.account, order.order_id)
        return self.by_order_id.get(key)

    def _apply(self, order, fill=None):
        leg = self._leg_of(order)
        if leg is None:
            return
        coid = order.client_order_id or next(
            (k for k, o in leg.orders.items() if o.order_id == order.order_id), None)
        if coid is None:
            return
        old = leg.orders.get(coid)
        # Keep the most advanced view (events and polls can arrive out of order).
        if old is None or old.status not in TERMINAL or order.status in TERMINAL:
            if old is None or D(order.filled_size) >= D(old.filled_size):
                leg.orders[coid] = order
        if order.order_id:
            self.by_order_id[(order.account, order.order_id)] = leg
        if fill is not None and fill.trade_id:
            leg.fills.setdefault(coid, {})[fill.trade_id] = D(fill.size)

    def pump_events(self, timeout):
        """Applies queued events for up to `timeout` seconds (returns after the first batch)."""
        try:
            kind, item = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            if kind == "event":
                say("EVENT account=%s seq=%d coid=%s status=%s filled=%s" % (
                    item.account, item.sequence, item.order.client_order_id,
                    T.OrderStatus.Name(item.order.status), item.order.filled_size))
                self._apply(item.order, item.fill if item.HasField("fill") else None)
            elif kind == "gap":
                self.reconcile()
            elif kind == "error":
                raise Abort(1, "order-event stream failed: " + item)
            try:
                kind, item = self.events.get_nowait()
            except queue.Empty:
                return

    def reconcile(self):
        """GetOrder for every non-terminal order: the source of truth after a gap."""
        for leg in self.legs:
            for coid, o in list(leg.orders.items()):
                if o.status in TERMINAL:
                    continue
                req = T.GetOrderRequest(account=leg.account, market=leg.market(),
                                        client_order_id=coid)
                try:
                    self._apply(self.c.call(self.c.trading.GetOrder, req))
                except grpc.RpcError as e:
                    log("GetOrder %s: %s %s" % (coid, e.code().name, e.details()))

    # -- orders ---------------------------------------------------------------------------
    def touch(self, leg, wait=10.0):
        """The leg's best bid and ask from a LIVE book. A book that is resyncing (a reconnect, a
        sequence gap) or not loaded yet is waited for up to `wait` seconds: never priced off."""
        deadline = time.monotonic() + wait
        while True:
            book = self.c.call(self.c.market.GetOrderBook,
                               market_data_pb2.GetOrderBookRequest(market=leg.market(), depth=1))
            if book.status == common_pb2.BOOK_STATUS_LIVE and book.bids and book.asks:
                return D(book.bids[0].price), D(book.asks[0].price)
            if time.monotonic() >= deadline:
                raise Abort(4, "%s: no live book within %ss (status %s, %d bids, %d asks)" % (
                    leg, wait, common_pb2.BookStatus.Name(book.status), len(book.bids),
                    len(book.asks)))
            time.sleep(0.2)

    def place(self, leg, side, size, otype, price=None, reduce_only=False):
        leg.n += 1
        coid = "arb%s%s%d" % (self.run_id, leg.name[0], leg.n)
        req = T.PlaceOrderRequest(
            account=leg.account, market=leg.market(), client_order_id=coid, side=side,
            type=otype, size=fmt(size), reduce_only=reduce_only)
        if otype == T.ORDER_TYPE_LIMIT:
            req.price = fmt(price)
            req.time_in_force = T.TIME_IN_FORCE_POST_ONLY
        else:
            req.time_in_force = T.TIME_IN_FORCE_IOC
            req.max_slippage_bps = str(self.args.slippage_bps)
        # Registered before the call so its events are recognised even if they beat the ack.
        leg.orders[coid] = T.Order(client_order_id=coid, account=leg.account,
                                   status=T.ORDER_STATUS_PENDING_NEW)
        for attempt in range(5):
            try:
                resp = self.c.call(self.c.trading.PlaceOrder, req)
                break
            except grpc.RpcError as e:
                # Same client_order_id: the gateway never places twice.
                if e.code() not in pc.RETRYABLE or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        say("PLACE leg=%s coid=%s side=%s type=%s price=%s size=%s reduce_only=%s outcome=%s %s" % (
            leg.name, coid, common_pb2.Side.Name(side), T.OrderType.Name(otype),
            req.price or "-", req.size, reduce_only, T.AckOutcome.Name(resp.outcome),
            T.CancelReason.Name(resp.reject_reason) if resp.reject_reason else ""))
        if resp.outcome == T.ACK_OUTCOME_OUTCOME_UNKNOWN:
            self.reconcile()
        elif resp.HasField("order"):
            o = resp.order
            if not o.client_order_id:
                o.client_order_id = coid
            if resp.outcome == T.ACK_OUTCOME_REJECTED and o.status not in TERMINAL:
                o.status = T.ORDER_STATUS_REJECTED
                o.cancel_reason = resp.reject_reason
            self._apply(o)
        if resp.outcome == T.ACK_OUTCOME_REJECTED:
            o = leg.orders[coid]
            o.status = T.ORDER_STATUS_REJECTED
            o.cancel_reason = resp.reject_reason
        return coid, resp

    def cancel_resting(self, leg):
        for o in leg.resting():
            req = T.CancelOrderRequest(account=leg.account, market=leg.market(),
                                       client_order_id=o.client_order_id)
            try:
                resp = self.c.call(self.c.trading.CancelOrder, req)
                if resp.HasField("order"):
                    self._apply(resp.order)
                say("CANCEL leg=%s coid=%s filled=%s" % (leg.name, o.client_order_id,
                                                          resp.filled_size))
            except grpc.RpcError as e:
                log("cancel %s: %s %s" % (o.client_order_id, e.code().name, e.details()))
        self.reconcile()

    def post_only(self, leg, size):
        """Places (or re-places) the leg's post-only order for `size` at its own touch."""
        for _ in range(self.args.max_reprices + 1):
            bid, ask = self.touch(leg)
            tick = need(leg.inst.tick_size, "tick_size")
            k = self.args.offset_ticks * tick
            price = bid - k if leg.side == BUY else ask + k
            coid, resp = self.place(leg, leg.side, size, T.ORDER_TYPE_LIMIT, price)
            o = leg.orders[coid]
            if o.status == T.ORDER_STATUS_REJECTED and \
                    o.cancel_reason == T.CANCEL_REASON_POST_ONLY_VIOLATION:
                continue
            if o.status == T.ORDER_STATUS_REJECTED:
                raise Abort(4, "%s rejected: %s %s" % (leg, resp.message,
                                                       T.CancelReason.Name(o.cancel_reason)))
            return coid
        raise Abort(4, "%s: still a post-only violation after %d reprices" %
                    (leg, self.args.max_reprices))

    def wait_done(self, coid, leg, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if leg.orders[coid].status in TERMINAL:
                return True
            self.pump_events(0.2)
            if leg.orders[coid].status not in TERMINAL:
                self.reconcile()
        return False

    # -- the trade ------------------------------------------------------------------------
    def size_for(self):
        mid_bid, mid_ask = self.touch(self.legs[0])
        mid = (mid_bid + mid_ask) / 2
        steps = [need(l.inst.step_size, "step_size") * (l.inst.quantity_multiplier or 1)
                 for l in self.legs]
        step = max(steps)
        if self.args.size:
            base = D(self.args.size)
        else:
            base = floor_to(D(self.args.notional) / mid, step)
        floor_base = max(max(D(l.inst.min_size) * (l.inst.quantity_multiplier or 1),
                             D(l.inst.min_notional) * Decimal("1.1") / mid)
                         for l in self.legs)
        if base < floor_base:
            base = ceil_to(floor_base, step)
            log("size raised to %s to meet the venues' minimum size/notional" % fmt(base))
        for l in self.legs:
            step_l = need(l.inst.step_size, "step_size")
            if (base / (l.inst.quantity_multiplier or 1)) % step_l != 0:
                raise Abort(4, "size %s is not a multiple of %s's step %s" % (
                    fmt(base), l, l.inst.step_size))
        return base, mid

    def run(self):
        a = self.args
        for leg in self.legs:
            leg.inst = self.c.call(self.c.instruments.GetInstrument,
                                   gateway_pb2.GetInstrumentRequest(market=leg.market()))
        base, mid = self.size_for()
        size = {id(l): base / (l.inst.quantity_multiplier or 1) for l in self.legs}
        say("OPEN symbol=%s size=%s mid=%s long=%s/%s short=%s/%s" % (
            self.legs[0].symbol, fmt(base), fmt(mid), self.legs[0].venue, self.legs[0].account,
            self.legs[1].venue, self.legs[1].account))
        self.start_streams()
        # Orders only once both streams are registered at the gateway (their headers came):
        # events of an order placed before could be published before the stream existed.
        for s in self.streams:
            if not s.wait_live(10):
                say("order events %s: not live after 10 s; reconcile() recovers what it missed"
                    % s.account)
        try:
            for leg in self.legs:
                self.post_only(leg, size[id(leg)])
            self.open_pair(size)
            lng, sht = self.legs
            say("HEDGED symbol=%s long=%s short=%s" % (lng.symbol, fmt(lng.filled()),
                                                      fmt(sht.filled())))
            if a.no_close:
                return 0
            deadline = time.time() + a.hold
            while time.time() < deadline:
                self.pump_events(min(0.5, max(0.01, deadline - time.time())))
            self.close_pair(size)
            return 0
        finally:
            self.stop_streams()

    def open_pair(self, size):
        a = self.args
        start = time.time()
        one_done_at = None
        while True:
            self.pump_events(0.25)
            done = [l.filled() >= size[id(l)] for l in self.legs]
            for leg, d in zip(self.legs, done):
                # A post-only that expired/canceled unfilled (e.g. GTX that would have crossed
                # after the ack) is re-placed for the remainder while the other leg waits.
                if not d and not leg.resting() and time.time() - start < a.fill_timeout:
                    self.post_only(leg, size[id(leg)] - leg.filled())
            if all(done):
                return
            if any(done) and one_done_at is None:
                one_done_at = time.time()
                say("LEGGED filled=%s waiting=%s hedge_after=%ss" % (
                    self.legs[done.index(True)], self.legs[done.index(False)], a.hedge_after))
            if one_done_at is not None and time.time() - one_done_at >= a.hedge_after:
                break
            if time.time() - start >= a.fill_timeout:
                break
            if int((time.time() - start) / 2) != int((time.time() - start - 0.25) / 2):
                self.reconcile()  # belt and braces next to the event stream
        for leg in self.legs:
            self.cancel_resting(leg)
        self.pump_events(0.3)
        lng, sht = self.legs
        if lng.filled() == 0 and sht.filled() == 0:
            raise Abort(5, "nothing filled within %ss; resting orders canceled" % a.fill_timeout)
        imbalance = lng.filled() * (lng.inst.quantity_multiplier or 1) - \
            sht.filled() * (sht.inst.quantity_multiplier or 1)
        if imbalance == 0:
            return
        lag = sht if imbalance > 0 else lng
        qty = abs(imbalance) / (lag.inst.quantity_multiplier or 1)
        say("HEDGE leg=%s side=%s size=%s (market IOC)" % (
            lag, common_pb2.Side.Name(lag.side), fmt(qty)))
        coid, resp = self.place(lag, lag.side, qty, T.ORDER_TYPE_MARKET)
        if resp.outcome == T.ACK_OUTCOME_REJECTED:
            raise Abort(4, "hedge rejected: %s" % resp.message)
        self.wait_done(coid, lag, 15)
        if lag.orders[coid].status not in TERMINAL:
            raise Abort(4, "hedge order %s did not complete" % coid)

    def close_pair(self, size):
        for leg in self.legs:
            qty = leg.filled()
            if qty == 0:
                continue
            side = SELL if leg.side == BUY else BUY
            coid, resp = self.place(leg, side, qty, T.ORDER_TYPE_MARKET, reduce_only=True)
            if resp.outcome == T.ACK_OUTCOME_REJECTED:
                raise Abort(4, "close %s rejected: %s" % (leg, resp.message))
            self.wait_done(coid, leg, 15)
        left = []
        for leg in self.legs:
            resp = self.c.call(self.c.account.ListPositions,
                               account_pb2.ListPositionsRequest(
                                   account=leg.account,
                                   market=common_pb2.MarketRef(venue=leg.venue, symbol=leg.symbol)))
            for p in resp.positions:
                if p.market.venue == leg.venue and D(p.size) != 0:
                    left.append("%s=%s" % (leg, p.size))
        say("CLOSED symbol=%s remaining=%s" % (self.legs[0].symbol, ",".join(left) or "none"))
        if left:
            raise Abort(4, "positions left after closing: " + ", ".join(left))


def parse_leg(s, flag):
    if ":" not in s:
        raise SystemExit("%s: expected VENUE:ACCOUNT, got %r" % (flag, s))
    return s.split(":", 1)


def choose_legs(args, ranked):
    """(symbol, (long_venue, long_account), (short_venue, short_account)) or raises Abort(3)."""
    accounts = dict(parse_leg(x, "--account") for x in args.account)
    if args.long_leg or args.short_leg:
        if not (args.long_leg and args.short_leg and args.symbol):
            raise SystemExit("--long-leg, --short-leg and --symbol go together")
        lv, la = parse_leg(args.long_leg, "--long-leg")
        sv, sa = parse_leg(args.short_leg, "--short-leg")
        if (lv, la) == (sv, sa):
            raise SystemExit("the two legs must differ (venue or account)")
        if lv == sv:
            log("note: both legs on %s (two accounts): a self-hedge for testing, no funding edge"
                % lv)
        return args.symbol, (lv, la), (sv, sa)
    for o in ranked.opportunities:
        if args.symbol and o.symbol != args.symbol:
            continue
        if o.long_venue in accounts and o.short_venue in accounts:
            return (o.symbol, (o.long_venue, accounts[o.long_venue]),
                    (o.short_venue, accounts[o.short_venue]))
    if not ranked.opportunities:
        raise Abort(3, "no cross-venue funding opportunity. A funding arb needs two venues "
                       "quoting the same symbol; this gateway ranks none (is only one venue "
                       "enabled?). To exercise the order path on one venue with two accounts, "
                       "pass --long-leg VENUE:ACCT --short-leg VENUE:ACCT2 --symbol SYM.")
    raise Abort(3, "no ranked opportunity has an account for both venues: pass "
                   "--account VENUE=ACCOUNT for each venue (have: %s)" %
                   (", ".join("%s=%s" % kv for kv in accounts.items()) or "none"))


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("connection")
    g.add_argument("--addr", default=os.environ.get("PERPGW_ADDR", "127.0.0.1:50051"),
                   help="perpgwd host:port (env PERPGW_ADDR; default %(default)s)")
    g.add_argument("--token-env", default="PERPGW_TOKEN", metavar="VAR",
                   help="environment variable holding the bearer token (default %(default)s; "
                        "unset = no token, fine for a loopback gateway without auth.tokens)")
    g.add_argument("--ca", help="server CA bundle (PEM): use TLS")
    g.add_argument("--cert", help="client certificate (PEM) for mTLS")
    g.add_argument("--key", help="client private key (PEM) for mTLS")
    g.add_argument("--server-name", help="TLS name to check in the server certificate")
    g = p.add_argument_group("scan")
    g.add_argument("--venues", type=lambda s: [x for x in s.split(",") if x], default=[],
                   help="comma-separated venues to rank (default: all enabled)")
    g.add_argument("--symbols", type=lambda s: [x for x in s.split(",") if x], default=[],
                   help="comma-separated symbols (default: all common symbols)")
    g.add_argument("--min-oi", help="minimum open interest in USD on both legs")
    g.add_argument("--min-volume", help="minimum 24h volume in USD on both legs")
    g.add_argument("--maker-fees", action="store_true",
                   help="rank net of maker fees (default: taker fees, open + close)")
    g.add_argument("--limit", type=int, default=20, help="rows (default %(default)s)")
    g = p.add_argument_group("trade")
    g.add_argument("--trade", action="store_true",
                   help="open (and then close) a delta-neutral pair on the best opportunity")
    g.add_argument("--account", action="append", default=[], metavar="VENUE=ACCOUNT",
                   type=lambda s: s.replace("=", ":", 1),
                   help="gateway account to trade on VENUE (repeat per venue)")
    g.add_argument("--symbol", help="trade this symbol (default: the best-ranked one)")
    g.add_argument("--long-leg", metavar="VENUE:ACCOUNT",
                   help="force the long leg (with --short-leg and --symbol; skips the ranking "
                        "choice; the same venue with two accounts is allowed for testing)")
    g.add_argument("--short-leg", metavar="VENUE:ACCOUNT", help="force the short leg")
    g.add_argument("--notional", default="50",
                   help="USD notional per leg (default %(default)s; raised to the venues' "
                        "minimum size/notional)")
    g.add_argument("--size", help="size per leg in base units instead of --notional")
    g.add_argument("--offset-ticks", type=int, default=0,
                   help="post-only price this many ticks behind the touch (default 0)")
    g.add_argument("--max-reprices", type=int, default=5,
                   help="post-only violations tolerated per leg (default %(default)s)")
    g.add_argument("--hedge-after", type=float, default=5.0,
                   help="seconds a leg may stay unfilled after the other filled before it is "
                        "canceled and hedged with a market IOC (default %(default)s)")
    g.add_argument("--fill-timeout", type=float, default=60.0,
                   help="seconds to wait for fills before canceling everything (default "
                        "%(default)s)")
    g.add_argument("--slippage-bps", default="50",
                   help="max slippage of market (hedge/close) orders in bps (default %(default)s)")
    g.add_argument("--hold", type=float, default=10.0,
                   help="seconds to hold the hedged pair before closing (default %(default)s)")
    g.add_argument("--no-close", action="store_true",
                   help="leave the pair open (close it later by hand or with reduce-only orders)")
    g.add_argument("--chaos-drop-streams", action="store_true",
                   help="testing aid: drop the order-event stream after every event to exercise "
                        "resume from the last sequence")
    args = p.parse_args(argv)

    token = os.environ.get(args.token_env) or None
    client = pc.Client(args.addr, token=token, cacert=args.ca, cert=args.cert,
                       key=args.key, servername=args.server_name)
    try:
        ranked = rank(client, args)
        print_table(ranked)
        if not args.trade:
            return 0
        symbol, (lv, la), (sv, sa) = choose_legs(args, ranked)
        trader = Trader(client, args, Leg("long", lv, la, symbol, BUY),
                        Leg("short", sv, sa, symbol, SELL))
        return trader.run()
    except Abort as e:
        log("funding_arb: " + str(e))
        say("ABORT code=%d" % e.code)
        return e.code
    except grpc.RpcError as e:
        log("funding_arb: gRPC %s: %s" % (e.code().name, e.details()))
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
