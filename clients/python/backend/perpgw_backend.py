"""In-tree PEP 517 / PEP 660 build backend for the perpgw package (standard library only).

Why: pip isolates builds by default and installs the backend's `requires` into a fresh
environment first. With setuptools there, `pip install ./clients/python` needed PyPI (or
`--no-build-isolation`). This backend needs nothing (`requires = []`, `backend-path`), so the plain
command works offline; the package's own dependencies (grpcio, protobuf) still come from wherever
pip finds them (Debian's, in a venv made with --system-site-packages).

What it builds:
- wheel (`perpgw-<version>-py3-none-any.whl`): src/perpgw/**/*.py (no previously generated stubs),
  the perpgw.v1 stubs generated now by the system `protoc` + `grpc_python_plugin` from every
  perpgw/v1/*.proto, the google.rpc descriptor set (perpgw/google_rpc.binpb, see below), and the
  .dist-info (METADATA from pyproject.toml's [project], WHEEL, top_level.txt, RECORD with
  sha256 + size per file).
- sdist (`perpgw-<version>.tar.gz`): pyproject.toml, README.md, this backend, src/ and a copy of
  the protos under proto/, so the sdist builds a wheel on its own.
- editable wheel (`pip install -e`): a perpgw.pth pointing at src/, with the stubs generated into
  src/perpgw/v1/ (git-ignored).

Where the protos are: $PERPGW_PROTO_DIR (the directory holding perpgw/v1/), else proto/ next to
pyproject.toml (an sdist), else ../../proto (the repository layout; pip builds a local directory
in place). Tools: $PROTOC and $GRPC_PYTHON_PLUGIN override `protoc` / `grpc_python_plugin` on PATH.
`python3 -m grpc_tools.protoc` is not used: Debian's python3-grpc-tools bundles protoc 3.5, whose
output the 4.21 protobuf runtime refuses.
"""
import base64
import glob
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # clients/python
PACKAGE_ROOT = os.path.join(ROOT, "src")
RPC_DESCRIPTORS = "google_rpc.binpb"
GENERATED = re.compile(r"(_pb2\.py|_pb2_grpc\.py|\.binpb)$")
# Fixed timestamp for archive members (reproducible archives); zip cannot store pre-1980 dates.
EPOCH = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------------------------------------
# pyproject.toml
# ---------------------------------------------------------------------------------------------

def _parse_toml_subset(text):
    """The subset of TOML pyproject.toml uses here, for Pythons without tomllib (< 3.11): tables,
    `key = "string"`, `key = ["a", "b"]` (may span lines), `key = {k = "v"}` with string values.
    Comments and blank lines are skipped. Anything else raises (so a change to pyproject.toml
    that needs more is noticed, not misread)."""
    data, table = {}, {}
    data_root = data
    pending = ""
    for raw in text.splitlines():
        line = _strip_comment(raw).strip()
        if not pending and not line:
            continue
        if not pending and line.startswith("["):
            table = data_root
            for part in line.strip("[]").split("."):
                table = table.setdefault(part.strip(), {})
            continue
        pending = (pending + " " + line).strip()
        if pending.count("[") > pending.count("]"):
            continue  # an array continues on the next line
        key, sep, value = pending.partition("=")
        pending = ""
        if not sep:
            raise ValueError("pyproject.toml: cannot read %r" % raw)
        table[key.strip().strip('"')] = _toml_value(value.strip())
    return data


def _strip_comment(line):
    """The line without a trailing `# comment` (a '#' inside a "string" is kept)."""
    quoted = False
    for i, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c == "#" and not quoted:
            return line[:i]
    return line


def _toml_value(v):
    if v.startswith('"') and v.endswith('"'):
        return v[1:-1]
    if v.startswith("[") and v.endswith("]"):
        return [x for x in re.findall(r'"([^"]*)"', v)]
    if v.startswith("{") and v.endswith("}"):
        return dict(re.findall(r'([\w.-]+|"[^"]*")\s*=\s*"([^"]*)"', v))
    if v in ("true", "false"):
        return v == "true"
    raise ValueError("pyproject.toml: unsupported value %r" % v)


def _pyproject():
    path = os.path.join(ROOT, "pyproject.toml")
    try:
        import tomllib  # Python 3.11+
        with open(path, "rb") as f:
            return tomllib.load(f)
    except ImportError:
        with open(path, encoding="utf-8") as f:
            return _parse_toml_subset(f.read())


def _project():
    p = _pyproject()["project"]
    for k in ("name", "version"):
        if k not in p:
            raise ValueError("pyproject.toml [project] needs %s" % k)
    return p


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project):
    """Core metadata 2.1 (PKG-INFO / METADATA) from the [project] table."""
    lines = ["Metadata-Version: 2.1", "Name: %s" % project["name"],
             "Version: %s" % project["version"]]
    if project.get("description"):
        lines.append("Summary: %s" % project["description"])
    if project.get("requires-python"):
        lines.append("Requires-Python: %s" % project["requires-python"])
    for dep in project.get("dependencies", []):
        lines.append("Requires-Dist: %s" % dep)
    body = ""
    readme = project.get("readme")
    if readme:
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + body


# ---------------------------------------------------------------------------------------------
# Stubs
# ---------------------------------------------------------------------------------------------

def _proto_dir():
    candidates = [os.environ.get("PERPGW_PROTO_DIR"), os.path.join(ROOT, "proto"),
                  os.path.join(ROOT, "..", "..", "proto")]
    for d in candidates:
        if d and glob.glob(os.path.join(d, "perpgw", "v1", "*.proto")):
            return os.path.abspath(d)
    raise SystemExit("perpgw: no perpgw/v1/*.proto under %s; set PERPGW_PROTO_DIR to the "
                     "repository's proto/ directory" % [c for c in candidates if c])


def _tool(env, name):
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        raise SystemExit("perpgw: %s not found (apt-get install protobuf-compiler "
                         "protobuf-compiler-grpc, or set %s)" % (name, env))
    return path


def _generate(out_dir):
    """Writes out_dir/perpgw/v1/*_pb2.py, *_pb2_grpc.py and out_dir/perpgw/google_rpc.binpb."""
    src = _proto_dir()
    protoc = _tool("PROTOC", "protoc")
    plugin = _tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin")
    protos = sorted(glob.glob(os.path.join(src, "perpgw", "v1", "*.proto")))
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([protoc, "-I", src, "--python_out=" + out_dir, "--grpc_python_out=" + out_dir,
                    "--plugin=protoc-gen-grpc_python=" + plugin] + protos, check=True)
    # The google.rpc error model of the gateway's status details (proto/google/rpc/*.proto), as
    # a descriptor set that perpgw.errors loads into a private pool: generated google/rpc/*_pb2
    # modules would put a `google.rpc` package in the venv that clashes with googleapis-common-
    # protos (not packaged by Debian bookworm) wherever that is installed too.
    rpc = sorted(glob.glob(os.path.join(src, "google", "rpc", "*.proto")))
    if rpc:
        subprocess.run([protoc, "-I", src, "--include_imports", "--descriptor_set_out=" +
                        os.path.join(out_dir, "perpgw", RPC_DESCRIPTORS)] + rpc, check=True)
    n = len(glob.glob(os.path.join(out_dir, "perpgw", "v1", "*_pb2*.py")))
    print("perpgw: generated %d stub modules from %d protos in %s" % (n, len(protos), src))


def _tree_files(top, rel_to, skip_generated=True):
    """(absolute path, archive path) for the files under top, sorted, without caches."""
    out = []
    for d, dirs, files in os.walk(top):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and not x.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or (skip_generated and GENERATED.search(name)):
                continue
            path = os.path.join(d, name)
            out.append((path, os.path.relpath(path, rel_to).replace(os.sep, "/")))
    return out


# ---------------------------------------------------------------------------------------------
# Wheels
# ---------------------------------------------------------------------------------------------

def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.record = []

    def add(self, arcname, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        info = zipfile.ZipInfo(arcname, date_time=EPOCH)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        self.record.append("%s,%s,%d" % (arcname, _record_hash(data), len(data)))

    def add_file(self, arcname, path):
        with open(path, "rb") as f:
            self.add(arcname, f.read())

    def close(self, dist_info):
        record = dist_info + "/RECORD"
        rows = self.record + [record + ",,"]
        self.zip.writestr(zipfile.ZipInfo(record, date_time=EPOCH), "\n".join(rows) + "\n")
        self.zip.close()


def _dist_info_files(project):
    wheel = ("Wheel-Version: 1.0\nGenerator: perpgw_backend\nRoot-Is-Purelib: true\n"
             "Tag: py3-none-any\n")
    return {"METADATA": _metadata(project), "WHEEL": wheel, "top_level.txt": "perpgw\n"}


def _names(project):
    name = _dist_name(project)
    dist_info = "%s-%s.dist-info" % (name, project["version"])
    wheel = "%s-%s-py3-none-any.whl" % (name, project["version"])
    return dist_info, wheel


def _write_wheel(wheel_directory, add_payload):
    project = _project()
    dist_info, wheel_name = _names(project)
    os.makedirs(wheel_directory, exist_ok=True)
    path = os.path.join(wheel_directory, wheel_name)
    w = _Wheel(path)
    try:
        add_payload(w)
        for name, text in _dist_info_files(project).items():
            w.add(dist_info + "/" + name, text)
        w.close(dist_info)
    except BaseException:
        w.zip.close()
        os.unlink(path)
        raise
    return wheel_name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    def payload(w):
        for path, arc in _tree_files(os.path.join(PACKAGE_ROOT, "perpgw"), PACKAGE_ROOT):
            w.add_file(arc, path)
        gen = tempfile.mkdtemp(prefix="perpgw-stubs-")
        try:
            _generate(gen)
            for path, arc in _tree_files(os.path.join(gen, "perpgw"), gen, skip_generated=False):
                w.add_file(arc, path)
        finally:
            shutil.rmtree(gen, ignore_errors=True)
    return _write_wheel(wheel_directory, payload)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # The package imports from src/ (a .pth line); the stubs go there too (git-ignored).
    def payload(w):
        _generate(PACKAGE_ROOT)
        w.add("perpgw.pth", os.path.abspath(PACKAGE_ROOT) + "\n")
    return _write_wheel(wheel_directory, payload)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    project = _project()
    dist_info, _ = _names(project)
    d = os.path.join(metadata_directory, dist_info)
    os.makedirs(d, exist_ok=True)
    for name, text in _dist_info_files(project).items():
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(text)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_editable = get_requires_for_build_wheel
get_requires_for_build_sdist = get_requires_for_build_wheel


# ---------------------------------------------------------------------------------------------
# sdist
# ---------------------------------------------------------------------------------------------

def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (_dist_name(project), project["version"])
    os.makedirs(sdist_directory, exist_ok=True)
    name = base + ".tar.gz"
    members = [(os.path.join(ROOT, f), f) for f in ("pyproject.toml", "README.md", ".gitignore")
               if os.path.exists(os.path.join(ROOT, f))]
    members += _tree_files(os.path.join(ROOT, "backend"), ROOT)
    members += _tree_files(PACKAGE_ROOT, ROOT)
    proto = _proto_dir()
    members += [(p, "proto/" + a) for p, a in _tree_files(proto, proto) if a.endswith(".proto")]

    def info(arc, size):
        ti = tarfile.TarInfo(base + "/" + arc)
        ti.size, ti.mode, ti.mtime = size, 0o644, 0
        return ti

    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        pkg_info = _metadata(project).encode("utf-8")
        t.addfile(info("PKG-INFO", len(pkg_info)), io.BytesIO(pkg_info))
        for path, arc in members:
            with open(path, "rb") as f:
                data = f.read()
            t.addfile(info(arc, len(data)), io.BytesIO(data))
    return name
