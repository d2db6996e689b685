"""Decimal views of perpgw.v1 messages.

Prices, sizes, rates, balances, fees, notionals, ... travel as decimal strings. Their documented
"unknown" is an empty string (or an unset proto3 `optional string`), which must never be read as
0 (a "0" liquidation price read as a number costs real money). So:

  dec("101.5") -> Decimal("101.5");  dec("") -> None;  dec(None) -> None;  dec("0") -> Decimal(0)

typed(msg) wraps any message: decimal-string fields read as Decimal or None, unset message fields
as None, repeated fields as lists of the same, everything else as the raw value. `.raw` is the
message itself.

Which string fields are decimals is decided from the field name, because the protos change and
nothing here may list their fields: a name is decimal when one of its `_`-separated words is in
DECIMAL_WORDS (price, size, rate, ...) and its last word is not in NOT_DECIMAL_LAST (asset, id,
venue, reason, ...): "liquidation_price", "rate_8h", "max_leverage", "funding_accrued" are;
"fee_asset", "client_order_id", "long_venue", "status_reason" are not. A field the rule gets wrong
can be forced with DECIMAL_FIELDS / NOT_DECIMAL_FIELDS ("Message.field" or "field"). A value that
is not a decimal in a decimal field raises ValueError (it is a bug somewhere; guessing hides it).
"""
import decimal
from decimal import Decimal

from google.protobuf.descriptor import FieldDescriptor

DECIMAL_WORDS = frozenset((
    "price", "prices", "size", "sizes", "rate", "rates", "balance", "balances", "fee", "fees",
    "notional", "margin", "pnl", "leverage", "equity", "available", "apr", "bps", "usd", "spread",
    "ratio", "exposure", "accrued", "amount", "qty", "quantity", "volume",
    "interest", "hours", "slippage", "premium", "collateral",
))
NOT_DECIMAL_LAST = frozenset((
    "asset", "assets", "id", "ids", "venue", "venues", "symbol", "symbols", "reason", "error",
    "text", "url", "name", "by", "side", "outcome", "status", "token", "account", "currency",
    "type", "version", "message", "cursor", "kind",
))
DECIMAL_FIELDS = set()      # "Message.field" or "field": always decimal
NOT_DECIMAL_FIELDS = set()  # "Message.field" or "field": never decimal


def dec(s):
    """A decimal string as Decimal; "" / None (absent) as None, never 0."""
    if s is None:
        return None
    if isinstance(s, Decimal):
        return s
    if isinstance(s, int):
        return Decimal(s)
    s = s.strip()
    if s == "":
        return None
    try:
        d = Decimal(s)
    except decimal.InvalidOperation:
        raise ValueError("not a decimal string: %r" % s) from None
    if not d.is_finite():
        raise ValueError("not a finite decimal: %r" % s)
    return d


def dstr(x):
    """A Decimal/int/str as the plain decimal string the API takes ("0.001", never "1E-3");
    None -> "" (absent)."""
    if x is None:
        return ""
    if isinstance(x, float):
        raise TypeError("pass amounts as Decimal or str, not float (%r)" % x)
    d = dec(x) if isinstance(x, str) else Decimal(x)
    if d is None:
        return ""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def is_decimal_field(fd):
    """Whether FieldDescriptor `fd` is a decimal string by the naming rule above."""
    if fd.type != FieldDescriptor.TYPE_STRING:
        return False
    full = "%s.%s" % (fd.containing_type.name, fd.name) if fd.containing_type else fd.name
    if full in NOT_DECIMAL_FIELDS or fd.name in NOT_DECIMAL_FIELDS:
        return False
    if full in DECIMAL_FIELDS or fd.name in DECIMAL_FIELDS:
        return True
    words = fd.name.split("_")
    return words[-1] not in NOT_DECIMAL_LAST and any(w in DECIMAL_WORDS for w in words)


def _has_presence(fd):
    # proto3 `optional` (and message fields) track presence; plain proto3 scalars do not.
    hp = getattr(fd, "has_presence", None)
    if hp is not None:
        return hp
    return fd.containing_oneof is not None or fd.type == FieldDescriptor.TYPE_MESSAGE


def _is_repeated(fd):
    return fd.label == FieldDescriptor.LABEL_REPEATED


def _is_map(fd):
    return (fd.type == FieldDescriptor.TYPE_MESSAGE and fd.message_type.GetOptions().map_entry)


class Typed:
    """Read-only view of a message with Decimal/None for decimal strings (see the module doc)."""

    __slots__ = ("raw",)

    def __init__(self, msg):
        object.__setattr__(self, "raw", msg)

    def __getattr__(self, name):
        msg = object.__getattribute__(self, "raw")
        fd = msg.DESCRIPTOR.fields_by_name.get(name)
        if fd is None:
            return getattr(msg, name)  # methods (HasField, WhichOneof, ...) and unknown names
        value = getattr(msg, name)
        if _is_map(fd):
            vfd = fd.message_type.fields_by_name["value"]
            return {k: _convert(vfd, v) for k, v in value.items()}
        if _is_repeated(fd):
            return [_convert(fd, v) for v in value]
        if _has_presence(fd) and not msg.HasField(name):
            return None
        return _convert(fd, value)

    def __setattr__(self, name, value):
        raise AttributeError("Typed views are read-only; change .raw")

    def __repr__(self):
        return "Typed(%s)" % self.as_dict()

    def __eq__(self, other):
        return isinstance(other, Typed) and self.raw == other.raw

    __hash__ = None

    def as_dict(self):
        """Set fields as a dict of converted values (absent decimals/messages as None)."""
        out = {}
        for fd in self.raw.DESCRIPTOR.fields:
            v = getattr(self, fd.name)
            out[fd.name] = v.as_dict() if isinstance(v, Typed) else (
                [x.as_dict() if isinstance(x, Typed) else x for x in v] if isinstance(v, list)
                else v)
        return out


def _convert(fd, value):
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        return Typed(value)
    if is_decimal_field(fd):
        try:
            return dec(value)
        except ValueError as e:
            raise ValueError("%s.%s: %s" % (fd.containing_type.name, fd.name, e)) from None
    return value


def typed(msg):
    """Typed view of a message (None stays None)."""
    return None if msg is None else Typed(msg)
