"""perpgw: Python client for perpgwd (the perpgw.v1 gRPC API).

  from perpgw import Client, BookStream, OrderEventStream, typed, dec
  from perpgw.v1 import trading_pb2, common_pb2      # the generated stubs

See clients/python/README.md.
"""
from .values import Typed, dec, dstr, is_decimal_field, typed  # noqa: F401
from .client import Client, now_ms  # noqa: F401
from .errors import ErrorDetails, error_details, parse_status_details  # noqa: F401
from .streams import (RETRYABLE, Book, BookStream, OrderEventStream, ResilientStream,  # noqa: F401
                      bbo_stream, market)

__all__ = ["Typed", "dec", "dstr", "is_decimal_field", "typed", "Client", "now_ms", "RETRYABLE",
           "Book", "BookStream", "OrderEventStream", "ResilientStream", "bbo_stream", "market",
           "ErrorDetails", "error_details", "parse_status_details"]
__version__ = "1.0.0"
