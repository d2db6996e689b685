"""Client: one channel to perpgwd with a stub per perpgw.v1 service and the bearer token."""
import re
import time

import grpc

from . import v1
from .values import typed


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Short names kept from the examples' original helper (client.instruments, client.market); every
# service is also reachable by its snake_case name without "Service" (client.market_data).
ALIASES = {"instruments": "InstrumentService", "market": "MarketDataService"}


def _services():
    """{service name: Stub class} for every service in the generated modules."""
    out = {}
    for pb2 in v1.modules("_pb2"):
        services = pb2.DESCRIPTOR.services_by_name
        if not services:
            continue
        grpc_mod = __import__(pb2.__name__ + "_grpc", fromlist=["_"])
        for name in services:
            out[name] = getattr(grpc_mod, name + "Stub")
    return out


class Client:
    """One channel to perpgwd with every v1 service stub.

    addr: "host:port". token: bearer token (sent as `authorization: Bearer <token>` on every call
    made through call()/metadata). TLS (any of these enables it): cacert (PEM file of the CA that
    signed the gateway's certificate; None = the system roots), cert + key (client certificate
    for mTLS), servername (the name checked against the server certificate when it differs from
    the host in addr), tls=True (TLS with the system roots and nothing else). timeout: default
    deadline of call(), seconds. options: extra grpc channel options.

    Stubs: client.trading, client.account, client.funding, client.gateway, client.instrument
    (alias client.instruments), client.market_data (alias client.market), client.risk, ... one per
    service found in the generated modules; client.stubs maps full service names to stubs.
    """

    def __init__(self, addr, token=None, cacert=None, cert=None, key=None, servername=None,
                 tls=False, timeout=10.0, options=None):
        if bool(cert) != bool(key):
            raise ValueError("cert and key go together (mTLS)")
        self.addr = addr
        self.timeout = timeout
        self._md = (("authorization", "Bearer " + token),) if token else ()
        opts = [("grpc.keepalive_time_ms", 20000)] + list(options or [])
        self.tls = bool(tls or cacert or cert or servername)
        if self.tls:
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(cacert) if cacert else None,
                private_key=_read(key) if key else None,
                certificate_chain=_read(cert) if cert else None)
            if servername:
                opts.append(("grpc.ssl_target_name_override", servername))
            self.channel = grpc.secure_channel(addr, creds, options=opts)
        else:
            self.channel = grpc.insecure_channel(addr, options=opts)
        self.stubs = {}
        for name, stub_cls in _services().items():
            stub = stub_cls(self.channel)
            self.stubs[name] = stub
            short = _snake(name[:-len("Service")] if name.endswith("Service") else name)
            setattr(self, short, stub)
        for alias, name in ALIASES.items():
            if name in self.stubs:
                setattr(self, alias, self.stubs[name])

    @property
    def metadata(self):
        """The call metadata (the token) as a list, for calling stubs directly."""
        return list(self._md)

    def call(self, method, request, timeout=None, metadata=None):
        """Unary call with the token and a deadline: client.call(client.trading.GetOrder, req)."""
        return method(request, metadata=list(self._md) + list(metadata or []),
                      timeout=timeout or self.timeout)

    def call_typed(self, method, request, timeout=None):
        """call(), answer wrapped by perpgw.values.typed (Decimal / None for decimal strings)."""
        return typed(self.call(method, request, timeout))

    def stream(self, method, request, metadata=None):
        """Server-streaming call with the token (no deadline)."""
        return method(request, metadata=list(self._md) + list(metadata or []))

    def wait_ready(self, timeout=30.0):
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def now_ms():
    return int(time.time() * 1000)
