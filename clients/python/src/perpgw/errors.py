"""The gateway's structured errors: google.rpc.Status in the `grpc-status-details-bin` trailer
with ErrorInfo (reason from the README's documented list, venue code/message in metadata) and
RetryInfo where a retry makes sense.

  try:
      client.call(client.trading.PlaceOrder, req)
  except grpc.RpcError as e:
      d = perpgw.error_details(e)   # None when the status carries no details
      if d and d.reason == "rate_limited": time.sleep(d.retry_delay or 1)

The google.rpc messages come from proto/google/rpc/*.proto, compiled into a descriptor set when
the package is built and loaded into a private descriptor pool (no `google.rpc` modules: Debian
bookworm does not package googleapis-common-protos, and a second copy would clash with it).
"""
import os

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

TRAILER = "grpc-status-details-bin"
_DESCRIPTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "google_rpc.binpb")
_classes = None


def _message_class(pool, name):
    desc = pool.FindMessageTypeByName(name)
    get = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    if get is not None:
        return get(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def rpc_classes():
    """{"Status": cls, "ErrorInfo": cls, "RetryInfo": cls, ...} (google.rpc), or {} when the
    package was built without proto/google/rpc."""
    global _classes
    if _classes is None:
        _classes = {}
        if os.path.exists(_DESCRIPTORS):
            fds = descriptor_pb2.FileDescriptorSet()
            with open(_DESCRIPTORS, "rb") as f:
                fds.ParseFromString(f.read())
            pool = descriptor_pool.DescriptorPool()
            for fd in fds.file:  # --include_imports: dependencies first
                pool.AddSerializedFile(fd.SerializeToString())
            for fd in fds.file:
                if fd.package == "google.rpc":
                    for m in fd.message_type:
                        _classes[m.name] = _message_class(pool, "google.rpc." + m.name)
    return _classes


class ErrorDetails:
    """code (grpc.StatusCode name or int), message, reason ("" if no ErrorInfo), domain,
    metadata (dict), retry_delay (seconds as float, None without RetryInfo), status (the
    decoded google.rpc.Status)."""

    def __init__(self, status):
        self.status = status
        self.code = status.code
        self.message = status.message
        self.reason, self.domain, self.metadata, self.retry_delay = "", "", {}, None
        cls = rpc_classes()
        for any_msg in status.details:
            kind = any_msg.type_url.rsplit("/", 1)[-1]
            if kind == "google.rpc.ErrorInfo" and "ErrorInfo" in cls:
                info = cls["ErrorInfo"].FromString(any_msg.value)
                self.reason, self.domain = info.reason, info.domain
                self.metadata = dict(info.metadata)
            elif kind == "google.rpc.RetryInfo" and "RetryInfo" in cls:
                ri = cls["RetryInfo"].FromString(any_msg.value)
                self.retry_delay = ri.retry_delay.seconds + ri.retry_delay.nanos / 1e9

    def __repr__(self):
        return "ErrorDetails(code=%s reason=%r metadata=%r retry_delay=%r message=%r)" % (
            self.code, self.reason, self.metadata, self.retry_delay, self.message)


def parse_status_details(blob):
    """ErrorDetails from the bytes of a grpc-status-details-bin trailer (None if not decodable)."""
    cls = rpc_classes()
    if not blob or "Status" not in cls:
        return None
    return ErrorDetails(cls["Status"].FromString(blob))


def error_details(err):
    """ErrorDetails of a grpc.RpcError (a failed call), or None when it carries none."""
    trailers = getattr(err, "trailing_metadata", None)
    md = trailers() if callable(trailers) else None
    for k, v in md or ():
        if k == TRAILER:
            return parse_status_details(v)
    return None
