"""Installs the perpgw Python package (clients/python) into a fresh venv, offline.

  python_venv.install(root, workdir) -> the venv's python

Exactly what a user runs, from a private copy of clients/python + proto/ in workdir (pip builds a
local directory in place; a copy keeps whatever a build leaves there out of the shared checkout). The venv is made from Debian's /usr/bin/python3 with
--system-site-packages so python3-grpcio / python3-protobuf come from Debian. The pip command is
the README's plain `pip install ./clients/python`, build isolation included (the package's in-tree
backend requires nothing); --no-index only guarantees nothing is downloaded.
"""
import os
import shutil
import subprocess
import time

SYSTEM_PYTHON = "/usr/bin/python3"


def install(root, workdir, python=SYSTEM_PYTHON):
    t0 = time.time()
    src = os.path.join(workdir, "src")
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "*_pb2.py",
                                    "*_pb2_grpc.py", "*.binpb")
    shutil.copytree(os.path.join(root, "clients", "python"),
                    os.path.join(src, "clients", "python"), ignore=ignore)
    shutil.copytree(os.path.join(root, "proto"), os.path.join(src, "proto"), ignore=ignore)
    venv = os.path.join(workdir, "venv")
    subprocess.run([python, "-m", "venv", "--system-site-packages", venv], check=True)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.pop("PYTHONPATH", None)
    r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-index",
                        os.path.join(src, "clients", "python")],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("pip install of clients/python failed:\n%s\n%s" % (r.stdout, r.stderr))
    print("perpgw package installed offline into %s (%.1fs)" % (venv, time.time() - t0))
    return os.path.join(venv, "bin", "python")
