#!/usr/bin/env python3
"""Rebuilds one market's order book from perpgwd's NATS subjects (publish.nats, README
"Scale-out with NATS") with nats-py, and prints it as one JSON line a second: the Python
counterpart of bench/nats_book.cpp (perpgw-nats-book), with the same rules.

  nats_book.py --url nats://127.0.0.1:4222 --venue aster --symbol BTC
               [--stream-prefix PERPGW] [--seconds N] [--depth N]
  nats_book.py --self-test      # the book rules on canned messages (needs neither NATS nor stubs)

--url takes one server or a comma-separated list (a cluster's seeds), like publish.nats.url.

Rules (one pair's sequence is the gRPC stream's: +1 per message, a snapshot carries the sequence
of the state it holds):
  - a snapshot on ...book replaces the book and the sequence (initial, resync, status change);
  - a periodic snapshot on ...snapshot (JetStream <prefix>_BOOKS, also fetched once at start) is
    taken when the book is not synced or when it is newer than the book (deltas were missed);
  - a delta (or a status-only message) is applied when its sequence is the next one, ignored when
    older (a snapshot already holds it); a jump is a gap: the book is unsynced and waits for the
    next snapshot, buffering later deltas to apply after it. A jump right after a periodic
    snapshot that no delta chained to yet is a "wait" (that snapshot was older than the live
    flow, nothing was lost), not a gap.
Start-up order matters: subscribe to perpgw.<venue>.<symbol>.* first, then read the last
snapshot from JetStream, so no delta falls between the two.

Needs nats-py (PyPI: pip install nats-py; not a Debian package) and the perpgw.v1 stubs: the
perpgw package (clients/python, see funding_arb.py's docstring) or PERPGW_PY_STUBS pointing at the
output of examples/python/gen_stubs.sh. NOT exercised by the tests (PyPI is not reachable where
they run): --self-test checks the book rules only; the C++ consumer holds the tested rules
(tests/unit/gateway/nats_publish_test.cpp, tests/integration/nats_test.cpp).
"""
import argparse
import asyncio
import base64
import collections
import decimal
import json
import os
import sys
import time

MAX_BUFFERED = 100000


def norm(s):
    """A decimal string without trailing zeros ("100.50" -> "100.5", "0.000" -> "0")."""
    try:
        d = decimal.Decimal(s)
    except decimal.InvalidOperation:
        return s
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def token(s):
    """One subject token, as gateway/publish/nats_publisher.cpp builds it."""
    out = "".join("_" if c in ".*>" or ord(c) <= 0x20 or ord(c) == 0x7f else c for c in s)
    return out or "_"


class BookRebuilder:
    """bench/nats_book.h's BookRebuilder. Messages are perpgw.v1.OrderBookUpdate (or anything
    with the same fields: sequence, is_snapshot, resync, status, bids/asks of price/size)."""

    def __init__(self, live_status=None):
        self.live_status = live_status  # BOOK_STATUS_LIVE's value (from the stubs)
        self.synced = False
        self.provisional = False  # synced by a periodic snapshot, no delta chained to it yet
        self.seq = 0
        self.status = 0
        self.bids, self.asks = {}, {}
        self.buffered = collections.deque()  # deltas seen while unsynced
        self.messages = self.snapshots = self.periodic_used = self.resyncs = 0
        self.gaps = self.waits = self.ignored = 0

    @property
    def live(self):
        return self.synced and self.status == self.live_status

    @staticmethod
    def _levels(side, levels):
        for lvl in levels:
            p, q = norm(lvl.price), norm(lvl.size)
            if q == "0":
                side.pop(p, None)
            else:
                side[p] = q

    def _replace(self, u):
        self.bids, self.asks = {}, {}
        self._apply(u)
        self.synced = True

    def _apply(self, u):
        self._levels(self.bids, u.bids)
        self._levels(self.asks, u.asks)
        self.seq = u.sequence
        self.status = u.status

    def _drain(self):
        while self.synced and self.buffered:
            u = self.buffered.popleft()
            if u.sequence <= self.seq:
                continue  # held by the snapshot
            if u.sequence != self.seq + 1:
                # The snapshot is older than the first delta seen (a late start): nothing was
                # lost on the wire, the book waits for the next snapshot.
                self.waits += 1
                self.synced = False
                self.buffered.appendleft(u)
                return
            self._apply(u)
            self.provisional = False

    def on_message(self, u, periodic):
        self.messages += 1
        if u.is_snapshot:
            if periodic:
                if self.synced and u.sequence <= self.seq:
                    self.ignored += 1  # older than (or the same state as) the book
                    return
                self.periodic_used += 1
            else:
                self.snapshots += 1
                if u.resync:
                    self.resyncs += 1
            self._replace(u)
            self.provisional = periodic
            self._drain()
            return
        if not self.synced:
            self.buffered.append(u)
            if len(self.buffered) > MAX_BUFFERED:
                self.buffered.popleft()
            return
        if u.sequence <= self.seq:
            self.ignored += 1
            return
        if u.sequence != self.seq + 1:
            # After a periodic snapshot no delta chained to yet, the snapshot was older than the
            # live flow (a late start); otherwise a delta was lost. Either way: wait for the next
            # snapshot.
            if self.provisional:
                self.waits += 1
            else:
                self.gaps += 1
            self.synced = False
            self.buffered.append(u)
            return
        self._apply(u)
        self.provisional = False

    def state(self, depth):
        bids = sorted(self.bids.items(), key=lambda kv: decimal.Decimal(kv[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda kv: decimal.Decimal(kv[0]))
        return {"synced": self.synced, "live": self.live, "sequence": self.seq,
                "messages": self.messages, "snapshots": self.snapshots,
                "periodic_snapshots_used": self.periodic_used, "resyncs": self.resyncs,
                "gaps": self.gaps, "waits": self.waits, "bid_levels": len(self.bids),
                "ask_levels": len(self.asks), "bids": [list(x) for x in bids[:depth]],
                "asks": [list(x) for x in asks[:depth]]}


async def last_snapshot(nc, stream, subject):
    """The last message JetStream holds on `subject` (payload bytes), or None. The raw
    $JS.API.STREAM.MSG.GET request (last_by_subj), so any nats-py 2.x works."""
    try:
        msg = await nc.request("$JS.API.STREAM.MSG.GET." + stream,
                               json.dumps({"last_by_subj": subject}).encode(), timeout=2)
    except Exception as e:  # no JetStream, no stream yet, timeout: the live snapshots will do
        sys.stderr.write("nats_book: no stored snapshot (%s)\n" % e)
        return None
    resp = json.loads(msg.data)
    if "error" in resp:  # 404 "no message found": nothing stored yet
        return None
    return base64.b64decode(resp["message"].get("data", ""))


async def follow(args):
    import nats  # nats-py
    try:
        import perpgw  # noqa: F401
    except ImportError:  # a source checkout: clients/python/src + PERPGW_PY_STUBS
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                        "clients", "python", "src"))
    from perpgw.v1 import market_data_pb2 as md

    base = "perpgw.%s.%s" % (token(args.venue), token(args.symbol))
    book_subject, snapshot_subject = base + ".book", base + ".snapshot"
    book = BookRebuilder(live_status=md.BOOK_STATUS_LIVE)
    other = [0]

    async def on_msg(msg):
        # One subscription for every subject of the market: nats-py runs its callback in one
        # task per subscription, so book and snapshot messages arrive in publishing order.
        if msg.subject in (book_subject, snapshot_subject):
            u = md.OrderBookUpdate()
            u.ParseFromString(msg.data)
            book.on_message(u, msg.subject == snapshot_subject)
        else:
            other[0] += 1  # bbo, trades, funding

    servers = [s.strip() for s in args.url.split(",") if s.strip()]
    nc = await nats.connect(servers=servers, name="perpgw-nats-book.py",
                            max_reconnect_attempts=-1, reconnect_time_wait=0.25)
    await nc.subscribe(base + ".*", cb=on_msg)  # nats-py's pending limits (512k msgs, 128 MB)
    await nc.flush()
    # A late start: the last periodic snapshot from JetStream, then the live deltas after it.
    data = await last_snapshot(nc, args.stream_prefix + "_BOOKS", snapshot_subject)
    if data is not None:
        u = md.OrderBookUpdate()
        u.ParseFromString(data)
        book.on_message(u, True)

    end = time.monotonic() + args.seconds if args.seconds else None
    try:
        while end is None or time.monotonic() < end:
            await asyncio.sleep(1)
            st = book.state(args.depth)
            st["other"] = other[0]
            print(json.dumps(st, separators=(",", ":")), flush=True)
    finally:
        await nc.drain()


# ------------------------------------------------------------------------- self-test


class _L:
    def __init__(self, price, size):
        self.price, self.size = price, size


class _U:
    """A stand-in OrderBookUpdate (status 1 plays BOOK_STATUS_LIVE)."""

    def __init__(self, seq, snapshot, bids, resync=False):
        self.sequence, self.is_snapshot, self.resync, self.status = seq, snapshot, resync, 1
        self.bids = [_L(p, q) for p, q in bids]
        self.asks = []


def self_test():
    """The cases of tests/unit/gateway/nats_publish_test.cpp (the C++ consumer's rules)."""
    b = BookRebuilder(live_status=1)
    b.on_message(_U(11, False, [("100.0", "1")]), False)  # before any snapshot: buffered
    assert not b.synced
    b.on_message(_U(10, True, [("99", "2")]), True)  # periodic at 10; buffered 11 follows
    assert b.synced and b.seq == 11 and b.bids == {"99": "2", "100": "1"} and b.live
    b.on_message(_U(11, True, [("1", "1")]), True)  # older periodic: ignored
    assert len(b.bids) == 2
    b.on_message(_U(12, False, [("99", "0")]), False)  # size 0 removes
    assert b.bids == {"100": "1"}
    b.on_message(_U(14, False, [("101", "1")]), False)  # a jump: gap
    assert not b.synced and b.gaps == 1
    b.on_message(_U(15, False, [("102", "1")]), False)
    b.on_message(_U(14, True, [("101", "1")], resync=True), False)  # resync holds 14; 15 after
    assert b.synced and b.resyncs == 1 and b.seq == 15
    assert b.bids == {"101": "1", "102": "1"}
    b.on_message(_U(20, True, [("50", "5")]), True)  # a newer periodic replaces
    assert b.seq == 20 and b.bids == {"50": "5"}
    b.on_message(_U(19, False, [("1", "1")]), False)  # duplicates ignored
    assert len(b.bids) == 1 and b.gaps == 1

    late = BookRebuilder(live_status=1)
    late.on_message(_U(30, False, [("1", "1")]), False)
    late.on_message(_U(25, True, [("2", "1")]), True)  # JetStream's last one is older
    assert not late.synced and late.waits == 1 and late.gaps == 0
    late.on_message(_U(31, False, [("3", "1")]), False)
    late.on_message(_U(31, True, [("4", "1")]), True)
    assert late.synced and late.seq == 31 and late.bids == {"4": "1"}
    late.on_message(_U(32, False, [("5", "1")]), False)
    assert len(late.bids) == 2 and late.gaps == 0

    early = BookRebuilder(live_status=1)
    early.on_message(_U(40, True, [("1", "1")]), True)
    assert early.synced
    early.on_message(_U(44, False, [("2", "1")]), False)
    assert not early.synced and early.waits == 1 and early.gaps == 0

    assert norm("100.50") == "100.5" and norm("0.000") == "0" and norm("100") == "100"
    assert token("1000.PEPE*>x y") == "1000_PEPE__x_y"
    print("nats_book.py self-test: ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="nats://HOST:PORT[,nats://HOST:PORT...]")
    ap.add_argument("--venue")
    ap.add_argument("--symbol")
    ap.add_argument("--stream-prefix", default="PERPGW")
    ap.add_argument("--seconds", type=int, default=0, help="stop after N seconds (0: never)")
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return 0
    if not (args.url and args.venue and args.symbol):
        ap.error("--url, --venue and --symbol are required")
    try:
        asyncio.run(follow(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
