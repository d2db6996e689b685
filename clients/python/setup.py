"""Build hook: generates the perpgw.v1 stubs (messages + gRPC) while building the package.

The stubs come from every proto/perpgw/v1/*.proto that exists at build time (no list here), with
the system `protoc` and `grpc_python_plugin` (Debian: protobuf-compiler, protobuf-compiler-grpc).
`python3 -m grpc_tools.protoc` is not used: Debian's python3-grpc-tools bundles protoc 3.5, whose
output the 4.21 protobuf runtime refuses.

Where the protos are: $PERPGW_PROTO_DIR (the directory holding perpgw/v1/), else ../../proto
next to this file (the repository layout; pip builds a local directory in place). Override the
tools with $PROTOC and $GRPC_PYTHON_PLUGIN.
"""
import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
RPC_DESCRIPTORS = "google_rpc.binpb"


def proto_dir():
    d = os.environ.get("PERPGW_PROTO_DIR") or os.path.join(HERE, "..", "..", "proto")
    d = os.path.abspath(d)
    if not glob.glob(os.path.join(d, "perpgw", "v1", "*.proto")):
        raise SystemExit("perpgw: no perpgw/v1/*.proto under %s; set PERPGW_PROTO_DIR to the "
                         "repository's proto/ directory" % d)
    return d


def tool(env, name):
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        raise SystemExit("perpgw: %s not found (apt-get install protobuf-compiler "
                         "protobuf-compiler-grpc, or set %s)" % (name, env))
    return path


def generate(out_dir):
    """Writes out_dir/perpgw/v1/*_pb2.py and *_pb2_grpc.py; returns the generated paths."""
    src = proto_dir()
    protos = sorted(glob.glob(os.path.join(src, "perpgw", "v1", "*.proto")))
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([tool("PROTOC", "protoc"), "-I", src, "--python_out=" + out_dir,
                    "--grpc_python_out=" + out_dir,
                    "--plugin=protoc-gen-grpc_python=" + tool("GRPC_PYTHON_PLUGIN",
                                                              "grpc_python_plugin")] + protos,
                   check=True)
    gen = sorted(glob.glob(os.path.join(out_dir, "perpgw", "v1", "*_pb2*.py")))
    print("perpgw: generated %d stub modules from %d protos in %s" % (len(gen), len(protos), src))
    # The google.rpc error model the gateway's status details use (proto/google/rpc/*.proto), as
    # a descriptor set that perpgw.errors loads into a private pool: generating google/rpc/*_pb2
    # modules would put a `google.rpc` package in the venv that clashes with googleapis-common-
    # protos (not packaged by Debian bookworm) wherever that is installed too.
    rpc = sorted(glob.glob(os.path.join(src, "google", "rpc", "*.proto")))
    if rpc:
        out = os.path.join(out_dir, "perpgw", RPC_DESCRIPTORS)
        subprocess.run([tool("PROTOC", "protoc"), "-I", src, "--include_imports",
                        "--descriptor_set_out=" + out] + rpc, check=True)
        gen.append(out)
    return gen


class BuildPyWithStubs(build_py):
    def run(self):
        super().run()
        # protoc writes perpgw/v1/... under its output root: the build tree's package root. An
        # editable install (pip install -e) imports from src/, so the stubs go there (git-ignored).
        if getattr(self, "editable_mode", False):
            generate(os.path.join(HERE, "src"))
        else:
            generate(self.build_lib)

    def get_outputs(self, include_bytecode=1):
        # Let install/record (and wheels) know about the generated files.
        outs = super().get_outputs(include_bytecode)
        gen = glob.glob(os.path.join(self.build_lib, "perpgw", "v1", "*_pb2*.py")) + \
            glob.glob(os.path.join(self.build_lib, "perpgw", RPC_DESCRIPTORS))
        return outs + [g for g in gen if g not in outs]


setup(cmdclass={"build_py": BuildPyWithStubs})
