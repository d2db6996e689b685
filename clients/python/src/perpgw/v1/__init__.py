"""perpgw.v1: the generated protobuf/gRPC modules (<name>_pb2, <name>_pb2_grpc), one pair per
proto/perpgw/v1/<name>.proto. They are generated when the package is built (the in-tree build
backend, clients/python/backend/perpgw_backend.py), never committed, so this package lists
nothing by hand: modules() finds whatever was generated.

Running from a source checkout without installing: point $PERPGW_PY_STUBS at the output of
examples/python/gen_stubs.sh and put clients/python/src on sys.path.
"""
import importlib
import os
import pkgutil

_extra = os.environ.get("PERPGW_PY_STUBS")
if _extra:
    _d = os.path.join(_extra, "perpgw", "v1")
    if os.path.isdir(_d) and _d not in __path__:
        __path__.append(_d)


def module_names():
    """Names of the generated modules present ("common_pb2", "trading_pb2_grpc", ...)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__)
                  if m.name.endswith("_pb2") or m.name.endswith("_pb2_grpc"))


def modules(suffix="_pb2"):
    """The generated modules whose name ends with `suffix` ("_pb2" or "_pb2_grpc"), imported."""
    names = [n for n in module_names() if n.endswith(suffix) and
             not (suffix == "_pb2" and n.endswith("_pb2_grpc"))]
    if not names:
        raise ImportError(
            "perpgw.v1: no generated stubs found in %s. Install the package "
            "(pip install ./clients/python, which runs protoc), "
            "or set PERPGW_PY_STUBS to the output of examples/python/gen_stubs.sh."
            % list(__path__))
    return [importlib.import_module(__name__ + "." + n) for n in names]
