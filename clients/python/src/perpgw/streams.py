"""Reconnecting stream helpers.

ResilientStream   any server stream, reopened after retryable errors with capped backoff.
OrderEventStream  StreamOrderEvents for one account, resumed with from_sequence/epoch
                  (proto/perpgw/v1/trading.proto, StreamOrderEventsRequest).
BookStream        StreamOrderBooks for several markets, each rebuilt into a Book from the
                  snapshot + deltas (proto/perpgw/v1/market_data.proto, OrderBookUpdate).
bbo_stream        StreamBbo, reconnecting (conflated: nothing to resume).
"""
import threading
import time

import grpc

from .values import dec

# Codes after which a stream is simply reopened (the gateway restarted, a network blip, the
# gateway asked a slow consumer to come back). Anything else is a real error for the caller.
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
             grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.ABORTED)


def _pb2(name):
    return __import__("perpgw.v1." + name + "_pb2", fromlist=["_"])


def market(venue, symbol):
    """A MarketRef."""
    return _pb2("common").MarketRef(venue=venue, symbol=symbol)


class ResilientStream:
    """Iterates a server stream until stop(), reopening it after retryable errors with backoff.

    open_fn(resume) -> grpc stream call; `resume` is self.resume (None unless a subclass sets it).
    Yields messages. stop() (from any thread) ends the iteration; drop() cancels the current call
    so that it is reopened (tests, chaos). A non-retryable error is raised as grpc.RpcError.
    """

    def __init__(self, open_fn, name="stream", log=None, max_backoff=5.0):
        self._open = open_fn
        self._name = name
        self._log = log or (lambda msg: None)
        self._max_backoff = max_backoff
        self._stopped = threading.Event()
        self._call = None
        self._lock = threading.Lock()
        self.reconnects = 0
        self.resume = None

    def stop(self):
        self._stopped.set()
        self.drop()

    @property
    def stopped(self):
        return self._stopped.is_set()

    def drop(self):
        """Cancels the current call (the iterator then reopens it unless stopped)."""
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def _on_reopen(self):
        """Hook: called before every reopen after the first open."""

    def _on_open(self, call):
        """Hook: called on the iterating thread once a call is open, before its first message."""

    def __iter__(self):
        backoff = 0.1
        first = True
        while not self._stopped.is_set():
            if not first:
                self._on_reopen()
            first = False
            call = self._open(self.resume)
            with self._lock:
                self._call = call
            if self._stopped.is_set():  # stop() raced the open
                call.cancel()
                return
            try:
                try:
                    self._on_open(call)
                    for msg in call:
                        backoff = 0.1
                        yield msg
                finally:
                    # Also when the consumer breaks out of its loop (GeneratorExit): no call is
                    # left open behind an abandoned iterator.
                    call.cancel()
                if self._stopped.is_set():
                    return
                self._log("%s: ended by the server; reopening" % self._name)
            except grpc.RpcError as e:
                if self._stopped.is_set():
                    return
                if e.code() not in RETRYABLE:
                    raise
                self._log("%s: %s (%s); reopening in %.1fs" %
                          (self._name, e.code().name, e.details(), backoff))
            self.reconnects += 1
            self._stopped.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)


class OrderEventStream(ResilientStream):
    """StreamOrderEvents for one account, lossless across reconnects.

    Each reopen asks for from_sequence = last seen + 1 with the epoch of that event (as
    trading.proto documents). Replayed events already seen are skipped. A changed epoch with
    continuous sequences is a gateway restart, not a gap (self.epoch follows it; on_restart(old,
    new) is called). When the gateway cannot resume (OUT_OF_RANGE: its replay buffer no longer
    holds the sequence; FAILED_PRECONDITION: it restarted without an order-event log, so the
    epoch is gone) on_gap(code, details) is called -- reconcile with ListOpenOrders/ListFills/
    GetOrder there -- and the stream continues live (from_sequence 0).

    cancel_on_disconnect_ms is passed on every (re)open (the dead man's switch; 0 = off).

    wait_live(timeout) -> bool: True once the current call is registered at the gateway (its
    response headers arrived): events of anything done afterwards reach this stream. Place
    orders after it, not after opening the stream. live_sequence / live_epoch: the headers'
    perpgw-sequence (the account's last sequence then) and perpgw-epoch.
    """

    def __init__(self, client, account, on_gap=None, on_restart=None, log=None, from_sequence=0,
                 epoch=0, cancel_on_disconnect_ms=0):
        self.client = client
        self.account = account
        self.last_sequence = from_sequence - 1 if from_sequence > 0 else 0
        self.epoch = epoch
        self._on_gap = on_gap or (lambda code, details: None)
        self._on_restart = on_restart or (lambda old, new: None)
        self._start = from_sequence
        self._cod = cancel_on_disconnect_ms
        self.resumes = 0
        self.gaps = 0
        self.last_request = None
        self.live_sequence = None
        self.live_epoch = None
        self._live = threading.Event()
        super().__init__(self._open_events, name="order events " + account, log=log)

    def wait_live(self, timeout=None):
        return self._live.wait(timeout)

    def _on_reopen(self):
        self._live.clear()

    def _on_open(self, call):
        # Blocks until the headers arrive (or the call ends: then none, and the error follows).
        md = dict(call.initial_metadata() or ())
        if "perpgw-sequence" in md:
            self.live_sequence = int(md["perpgw-sequence"])
            self.live_epoch = int(md.get("perpgw-epoch", "0"))
            self._live.set()

    def _open_events(self, _resume):
        if self.last_sequence > 0:
            seq = self.last_sequence + 1
            self.resumes += 1
            self._log("order events %s: resuming from sequence %d (epoch %d)" %
                      (self.account, seq, self.epoch))
        else:
            seq = self._start
        req = _pb2("trading").StreamOrderEventsRequest(
            account=self.account, from_sequence=seq, epoch=self.epoch if seq else 0,
            cancel_on_disconnect_ms=self._cod)
        self.last_request = req
        return self.client.stream(self.client.trading.StreamOrderEvents, req)

    def __iter__(self):
        while not self.stopped:
            try:
                for ev in super().__iter__():
                    if ev.epoch and self.epoch and ev.epoch != self.epoch:
                        self._on_restart(self.epoch, ev.epoch)
                    elif self.last_sequence and ev.sequence <= self.last_sequence:
                        continue  # a replay overlap: already seen
                    if ev.epoch:
                        self.epoch = ev.epoch
                    self.last_sequence = ev.sequence
                    yield ev
                return
            except grpc.RpcError as e:
                if e.code() not in (grpc.StatusCode.OUT_OF_RANGE,
                                    grpc.StatusCode.FAILED_PRECONDITION):
                    raise
                self._log("order events %s: %s %s; reconciling and continuing live" %
                          (self.account, e.code().name, e.details()))
                self.gaps += 1
                self._live.clear()
                self.last_sequence = 0
                self._start = 0
                self.epoch = 0
                self._on_gap(e.code(), e.details())


class Book:
    """One market's book rebuilt from a StreamOrderBooks stream.

    bids/asks: {Decimal price: Decimal size}. synced: a snapshot was applied and no sequence gap
    was seen since (False right after a reconnect or a gap until the next snapshot). status:
    the BookStatus of the last update (only BOOK_STATUS_LIVE is tradeable: RESYNCING = known
    gap/crossed/reconnect on the venue side, STALE = no update lately). tradeable: synced and
    LIVE.
    """

    def __init__(self, venue, symbol):
        self.venue, self.symbol = venue, symbol
        self.bids, self.asks = {}, {}
        self.synced = False
        self.status = 0
        self.status_reason = ""
        self.sequence = 0
        self.venue_sequence = 0
        self.exchange_time_ns = 0
        self.receive_time_ns = 0
        self.snapshots = 0
        self.resyncs = 0
        self.gaps = 0
        self.gap_since = None

    @property
    def tradeable(self):
        return self.synced and self.status == _pb2("common").BOOK_STATUS_LIVE

    def best_bid(self):
        """(price, size) of the best bid, or None."""
        return max(self.bids.items()) if self.bids else None

    def best_ask(self):
        return min(self.asks.items()) if self.asks else None

    def levels(self, side, n=None):
        """[(price, size)] best first; side "bid" or "ask"."""
        if side == "bid":
            out = sorted(self.bids.items(), reverse=True)
        else:
            out = sorted(self.asks.items())
        return out[:n] if n else out

    def mid(self):
        b, a = self.best_bid(), self.best_ask()
        return (b[0] + a[0]) / 2 if b and a else None

    def crossed(self):
        b, a = self.best_bid(), self.best_ask()
        return bool(b and a and b[0] >= a[0])

    @staticmethod
    def _apply_levels(side, levels):
        for lv in levels:
            price, size = dec(lv.price), dec(lv.size)
            if price is None:
                continue
            if not size:  # "0" (or absent) removes the level
                side.pop(price, None)
            else:
                side[price] = size

    def apply(self, u):
        """Applies one OrderBookUpdate; returns "snapshot", "delta", "status", "gap" (delta with a
        sequence gap: book unsynced until the next snapshot) or "ignored" (delta while unsynced)."""
        self.status = u.status
        self.status_reason = u.status_reason
        if u.is_snapshot:
            self.bids, self.asks = {}, {}
            self._apply_levels(self.bids, u.bids)
            self._apply_levels(self.asks, u.asks)
            self.synced = True
            self.gap_since = None
            self.snapshots += 1
            if u.resync:
                self.resyncs += 1
            kind = "snapshot"
        elif not self.synced:
            kind = "ignored"
        elif self.sequence and u.sequence != self.sequence + 1:
            # Sequences are +1 per message on this stream's pair; anything else means messages
            # were lost. The gateway follows a dropped queue with a resync snapshot; until then
            # the book is not trusted.
            self.synced = False
            self.gaps += 1
            self.gap_since = time.monotonic()
            kind = "gap"
        else:
            self._apply_levels(self.bids, u.bids)
            self._apply_levels(self.asks, u.asks)
            kind = "delta" if (u.bids or u.asks) else "status"
        self.sequence = u.sequence
        self.venue_sequence = u.venue_sequence
        if u.exchange_time_ns:
            self.exchange_time_ns = u.exchange_time_ns
        if u.receive_time_ns:
            self.receive_time_ns = u.receive_time_ns
        return kind

    def __repr__(self):
        return "Book(%s %s synced=%s status=%s seq=%d bid=%s ask=%s)" % (
            self.venue, self.symbol, self.synced, self.status, self.sequence, self.best_bid(),
            self.best_ask())


class BookStream(ResilientStream):
    """StreamOrderBooks over [(venue, symbol), ...], each market rebuilt in self.books.

    Iterating yields (book, update, kind) after each update is applied (kind as Book.apply).
    After a reconnect every book is unsynced until its new snapshot. A sequence gap unsyncs that
    book until the gateway's resync snapshot; if none comes within gap_timeout seconds (checked on
    every message), the stream is reopened for fresh snapshots. depth: levels per snapshot
    (0 = the gateway's full book; with depth > 0 every update is a top-N snapshot).
    """

    def __init__(self, client, markets, depth=0, log=None, gap_timeout=5.0):
        self.client = client
        self.depth = depth
        self.gap_timeout = gap_timeout
        self.books = {(v, s): Book(v, s) for v, s in markets}
        self._req = _pb2("market_data").StreamOrderBooksRequest(
            markets=[market(v, s) for v, s in markets], depth=depth)
        super().__init__(lambda _r: client.stream(client.market_data.StreamOrderBooks, self._req),
                         name="books", log=log)

    def _on_reopen(self):
        for b in self.books.values():
            b.synced = False
            b.sequence = 0

    def book(self, venue, symbol):
        return self.books[(venue, symbol)]

    def __iter__(self):
        for u in super().__iter__():
            key = (u.market.venue, u.market.symbol)
            b = self.books.get(key)
            if b is None:  # the gateway may name a market differently than asked: keep it too
                b = self.books[key] = Book(*key)
            kind = b.apply(u)
            if kind == "gap":
                self._log("books: sequence gap on %s/%s at %d; waiting for a resync snapshot"
                          % (key + (u.sequence,)))
            yield b, u, kind
            now = time.monotonic()
            if any(x.gap_since is not None and now - x.gap_since > self.gap_timeout
                   for x in self.books.values()):
                self._log("books: no resync snapshot within %.1fs; reopening" % self.gap_timeout)
                for x in self.books.values():
                    x.gap_since = None
                self.drop()


def bbo_stream(client, markets, log=None):
    """Reconnecting StreamBbo over [(venue, symbol), ...] (conflated: nothing to resume)."""
    req = _pb2("market_data").StreamBboRequest(markets=[market(v, s) for v, s in markets])
    return ResilientStream(lambda _r: client.stream(client.market_data.StreamBbo, req), "bbo", log)
