"""Thin Python helper for perpgwd: channel (plaintext/TLS/mTLS), bearer-token metadata, typed
stubs, and reconnecting stream iterators (order events resume from the last sequence).

Stubs come from gen_stubs.sh (default examples/python/gen, or $PERPGW_PY_STUBS).
"""
import os
import sys
import threading
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_STUBS = os.environ.get("PERPGW_PY_STUBS", os.path.join(_HERE, "gen"))
if _STUBS not in sys.path:
    sys.path.insert(0, _STUBS)

try:
    import grpc
    from perpgw.v1 import account_pb2, account_pb2_grpc  # noqa: F401
    from perpgw.v1 import common_pb2  # noqa: F401
    from perpgw.v1 import funding_pb2, funding_pb2_grpc  # noqa: F401
    from perpgw.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: F401
    from perpgw.v1 import market_data_pb2, market_data_pb2_grpc  # noqa: F401
    from perpgw.v1 import trading_pb2, trading_pb2_grpc  # noqa: F401
except ImportError as e:  # pragma: no cover - setup problem, explained to the user
    sys.stderr.write(
        "perpgw_client: cannot import grpc or the perpgw.v1 stubs (%s).\n"
        "  Run examples/python/gen_stubs.sh first, and use Debian's /usr/bin/python3 with\n"
        "  python3-grpcio + python3-protobuf (a pyenv/venv python may lack them).\n" % e)
    raise

# Codes after which a stream is simply reopened (the gateway restarted, a network blip, the
# gateway asked a slow consumer to come back). Anything else is a real error for the caller.
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
             grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.ABORTED)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class Client:
    """One channel to perpgwd with every v1 service stub.

    addr: host:port. token: bearer token (sent as `authorization: Bearer <token>`).
    TLS: ca_file (server CA; enables TLS), cert_file + key_file (client cert for mTLS),
    server_name (override the name checked against the server certificate).
    """

    def __init__(self, addr, token=None, ca_file=None, cert_file=None, key_file=None,
                 server_name=None, timeout=10.0):
        self.addr = addr
        self.timeout = timeout
        self._md = [("authorization", "Bearer " + token)] if token else []
        options = [("grpc.keepalive_time_ms", 20000)]
        if ca_file or cert_file:
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(ca_file) if ca_file else None,
                private_key=_read(key_file) if key_file else None,
                certificate_chain=_read(cert_file) if cert_file else None)
            if server_name:
                options.append(("grpc.ssl_target_name_override", server_name))
            self.channel = grpc.secure_channel(addr, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(addr, options=options)
        self.gateway = gateway_pb2_grpc.GatewayServiceStub(self.channel)
        self.instruments = gateway_pb2_grpc.InstrumentServiceStub(self.channel)
        self.market = market_data_pb2_grpc.MarketDataServiceStub(self.channel)
        self.funding = funding_pb2_grpc.FundingServiceStub(self.channel)
        self.trading = trading_pb2_grpc.TradingServiceStub(self.channel)
        self.account = account_pb2_grpc.AccountServiceStub(self.channel)

    @property
    def metadata(self):
        return list(self._md)

    def call(self, method, request, timeout=None):
        """Unary call with the token and a deadline: client.call(client.trading.PlaceOrder, req)."""
        return method(request, metadata=self._md, timeout=timeout or self.timeout)

    def wait_ready(self, timeout=30.0):
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def close(self):
        self.channel.close()


class ResilientStream:
    """Iterates a server stream forever, reopening it after retryable errors with backoff.

    open_fn(resume) -> grpc stream call; `resume` is whatever on_message last returned (None at
    first). Yields messages. stop() (from any thread) ends the iteration. A non-retryable error
    is raised as grpc.RpcError.
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

    def drop(self):
        """Cancels the current call (the iterator then reconnects unless stopped)."""
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def __iter__(self):
        backoff = 0.1
        while not self._stopped.is_set():
            call = self._open(self.resume)
            with self._lock:
                self._call = call
            try:
                for msg in call:
                    backoff = 0.1
                    yield msg
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
    """StreamOrderEvents for one account, lossless across reconnects: each reopen asks for
    from_sequence = last seen + 1. When the gateway's replay buffer no longer has it (or the
    gateway restarted and its sequence restarted), OUT_OF_RANGE is reported through
    on_gap(details) — reconcile with GetOrder/ListOpenOrders there — and the stream continues
    live (from_sequence 0).
    """

    def __init__(self, client, account, on_gap=None, log=None, from_sequence=0):
        self.client = client
        self.account = account
        self.last_sequence = from_sequence - 1 if from_sequence > 0 else 0
        self._on_gap = on_gap or (lambda details: None)
        self._start = from_sequence
        self.resumes = 0
        super().__init__(self._open_events, name="order events " + account, log=log)

    def _open_events(self, _resume):
        if self.last_sequence > 0:
            seq = self.last_sequence + 1
            self.resumes += 1
            self._log("order events %s: resuming from sequence %d" % (self.account, seq))
        else:
            seq = self._start
        req = trading_pb2.StreamOrderEventsRequest(account=self.account, from_sequence=seq)
        return self.client.trading.StreamOrderEvents(req, metadata=self.client.metadata)

    def __iter__(self):
        while True:
            try:
                for ev in super().__iter__():
                    if self.last_sequence and ev.sequence <= self.last_sequence:
                        continue  # a replay overlap: already seen
                    self.last_sequence = ev.sequence
                    yield ev
                return
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.OUT_OF_RANGE:
                    raise
                self._log("order events %s: %s; reconciling and continuing live" %
                          (self.account, e.details()))
                self.last_sequence = 0
                self._start = 0
                self._on_gap(e.details())


def market(venue, symbol):
    return common_pb2.MarketRef(venue=venue, symbol=symbol)


def bbo_stream(client, markets, log=None):
    """Reconnecting StreamBbo over [(venue, symbol), ...] (conflated: nothing to resume)."""
    req = market_data_pb2.StreamBboRequest(markets=[market(v, s) for v, s in markets])
    return ResilientStream(
        lambda _r: client.market.StreamBbo(req, metadata=client.metadata), "bbo", log)


def now_ms():
    return int(time.time() * 1000)
