#!/usr/bin/env bash
# Runs every example of README.md "## API reference" against a real perpgw-sim + perpgwd, both
# started here (ops_rig conventions: temp dir, port 0, killed at exit). An example is a line that
# starts with the command and names a host:port address (prose such as "grpcurl prints both; ..."
# is skipped): each `grpcurl ...` example through perpgw-cli (same flags, `call` before the
# method; the one that needs `-proto`, grpc.health.v1, is skipped: perpgw-cli works by reflection
# only, and the `perpgwd health-check` line after it covers the same call) and each
# `build/gateway/perpgwd health-check --addr ...` line as is. A ctest: perpgw_api_examples. The gateway gets every sim account and a
# token with scopes [read, "trade:*", admin] ($TOKEN in the examples). Fails on any non-zero exit.
#
#   scripts/check-api-examples.sh [BUILD_DIR]      (default: build; nothing is built here)
#   PERPGW_KEEP_TEST_DIRS=1 keeps the sim/gateway logs; PERPGW_EXAMPLES_MAX_TIME (default 2)
#   replaces the stream examples' `-max-time 5`; VERBOSE=1 prints each answer's start.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
for b in gateway/perpgwd sim/perpgw-sim examples/perpgw-cli; do
  [ -x "$BUILD/$b" ] || { echo "check-api-examples: $BUILD/$b is missing (build it first)" >&2; exit 2; }
done
exec python3 - "$BUILD" <<'PY'
import json, os, re, shlex, subprocess, sys, tempfile, time
sys.path.insert(0, "tests/integration")
import ops_rig  # noqa: E402  (wait_until, tail, the Rig's cleanup conventions)
from ops_rig import Fail, wait_until, tail  # noqa: E402

build = sys.argv[1]
perpgwd, sim_bin, cli = (os.path.join(build, p) for p in
                         ("gateway/perpgwd", "sim/perpgw-sim", "examples/perpgw-cli"))
TOKEN = "api-examples-token-3c9e"
MAX_TIME = os.environ.get("PERPGW_EXAMPLES_MAX_TIME", "2")  # seconds per stream example


ADDRESS = re.compile(r"^[A-Za-z0-9.-]+:[0-9]+$")  # host:port, e.g. localhost:50051


def example_of(line):
    """(kind, args, address index) if `line` is an example, else None.

    An example is a line that starts with the command (`grpcurl ` or
    `build/gateway/perpgwd health-check `) and names a host:port address: grpcurl's positional
    address, or health-check's `--addr ADDR`. Anything else starting with those words is prose
    (e.g. "grpcurl prints both; in Python ...") and skipped, as is a line shlex cannot split."""
    if line.startswith("grpcurl "):
        kind = "grpcurl"
    elif line.startswith("build/gateway/perpgwd health-check "):
        kind = "health"
    else:
        return None
    try:
        args = shlex.split(line)
    except ValueError:
        return None
    for i, a in enumerate(args[1:], 1):
        if kind == "grpcurl" and ADDRESS.match(a):
            return kind, args, i
        if kind == "health" and args[i - 1] == "--addr" and ADDRESS.match(a):
            return kind, args, i
    return None


def examples():
    """(kind, line, args, address index) for each example line of "## API reference"."""
    out, inside = [], False
    with open("README.md") as f:
        for line in f:
            if line.startswith("## "):
                inside = line.strip() == "## API reference"
                continue
            if not inside:
                continue
            ex = example_of(line.strip().replace("$TOKEN", TOKEN))
            if ex:
                out.append((ex[0], line.strip(), ex[1], ex[2]))
    return out


def parser_self_test():
    """The README's prose must not be read as an example (it once crashed this script)."""
    prose = ["grpcurl prints both; in Python `grpc_status.rpc_status.from_call(e)` (package "
             "grpcio-status) or", "grpcurl and perpgw-cli are interchangeable here",
             "build/gateway/perpgwd health-check exits 0 when SERVING"]
    for p in prose:
        if example_of(p) is not None:
            raise Fail("parser took prose for an example: %r" % p)
    ex = example_of("grpcurl -plaintext -H 'authorization: Bearer x' -d '{}' localhost:50051 "
                    "perpgw.v1.GatewayService/ListVenues")
    if not ex or ex[1][ex[2]] != "localhost:50051":
        raise Fail("parser missed a grpcurl example: %r" % (ex,))
    ex = example_of("grpcurl -plaintext localhost:50051 describe perpgw.v1.FundingService")
    if not ex or ex[2] != 2:
        raise Fail("parser missed a grpcurl describe example: %r" % (ex,))
    ex = example_of("build/gateway/perpgwd health-check --addr localhost:50051 --service x")
    if not ex or ex[1][ex[2]] != "localhost:50051":
        raise Fail("parser missed a health-check example: %r" % (ex,))


class Rig(ops_rig.Rig):
    """ops_rig.Rig with an admin-scoped token (RiskService) and --shared-reference funding."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="perpgw-api-examples-")
        self.procs = []
        import atexit
        atexit.register(self.close)
        ep = os.path.join(self.dir, "endpoints.json")
        self.sim = self.spawn([sim_bin, "--seed", "7", "--rate", "20", "--trade-rate", "5",
                               "--shared-reference", "--endpoints-out", ep], "sim.log")
        wait_until(lambda: os.path.exists(ep) and os.path.getsize(ep) > 0, 60,
                   "the sim's endpoints file", proc=self.sim)
        time.sleep(0.2)
        with open(ep) as f:
            self.endpoints = json.load(f)
        self.control = self.endpoints["control_url"]
        env = {"PERPGW_EX_TOKEN": TOKEN}
        cfg = ["listen: 127.0.0.1:0", "log_level: info", "auth:", "  tokens:",
               '    - {name: examples, token: {env: PERPGW_EX_TOKEN}, '
               'scopes: [read, "trade:*", admin]}', "venues:"]
        acc, n = ["accounts:"], 0
        for v in sorted(self.endpoints["venues"]):
            e = self.endpoints["venues"][v]
            cfg += ["  %s:" % v, "    rest_url: %s" % e["rest_url"], "    ws_url: %s" % e["ws_url"],
                    "    stale_after_ms: 60000", "    symbols: [BTC, ETH, SOL]",
                    '    fees: {maker: "0.0002", taker: "0.0005"}']
            for a in e["accounts"]:
                creds = a["credentials"]
                acc += ["  - id: %s" % a["id"], "    venue: %s" % v]
                opts = {k: x for k, x in creds.items() if k in ops_rig.OPTION_KEYS}
                if opts:
                    acc.append("    options:")
                    acc += ['      %s: "%s"' % kv for kv in sorted(opts.items())]
                acc.append("    credentials:")
                for k, x in sorted(creds.items()):
                    if k in opts:
                        continue
                    var = "PERPGW_EX_CRED_%d" % n
                    n += 1
                    env[var] = x
                    acc.append("      %s: {env: %s}" % (k, var))
        acc.append('orders: {journal_dir: "%s"}' % os.path.join(self.dir, "journal"))
        cfg_path = os.path.join(self.dir, "gateway.yaml")
        with open(cfg_path, "w") as f:
            f.write("\n".join(cfg + acc) + "\n")
        port_file = os.path.join(self.dir, "port")
        self.gw_log = os.path.join(self.dir, "perpgwd.log")
        self.gw = self.spawn([perpgwd, "--config", cfg_path, "--port-file", port_file],
                             "perpgwd.log", env=env)
        try:
            wait_until(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0, 60,
                       "perpgwd's port file", proc=self.gw)
        except Fail as e:
            raise Fail("%s\n%s" % (e, tail(self.gw_log)))
        with open(port_file) as f:
            self.addr = "127.0.0.1:%d" % int(f.read().strip())


def argv_of(kind, args, at, addr):
    """The example's argv against the rig: its address replaced by the gateway's; grpcurl's
    command becomes perpgw-cli with `call` before the method (not before list/describe)."""
    args = args[:at] + [addr] + args[at + 1:]
    # The stream examples end on `-max-time 5`: only their exit status is checked, so they run
    # for MAX_TIME s here (7 streams: ~14 s instead of ~35 s; the ctest's run time).
    args = [MAX_TIME if i > 0 and args[i - 1] == "-max-time" else a for i, a in enumerate(args)]
    if kind == "health":
        return args
    rest = args[at + 1:]
    if rest and rest[0] not in ("list", "describe"):
        rest = ["call"] + rest
    return [cli] + args[1:at] + [addr] + rest


def main():
    parser_self_test()
    lines = examples()
    if len(lines) < 30:
        raise Fail("only %d examples found in README.md ## API reference" % len(lines))
    rig = Rig()
    h = ["-plaintext", "-H", "authorization: Bearer " + TOKEN]

    def live(venue):
        r = subprocess.run([cli] + h + ["-d", json.dumps(
            {"market": {"venue": venue, "symbol": "BTC"}, "depth": 1}), rig.addr, "call",
            "perpgw.v1.MarketDataService/GetOrderBook"], capture_output=True, text=True)
        try:
            b = json.loads(r.stdout)
        except ValueError:
            return False
        return b.get("status") == "BOOK_STATUS_LIVE" and int(b.get("sequence", 0)) >= 5
    for v in sorted(rig.endpoints["venues"]):
        wait_until(lambda: live(v), 60, "a live %s BTC book" % v, poll=0.5)
    failed, skipped = [], 0
    for kind, line, args, at in lines:
        if "-proto" in args:
            # The grpc.health.v1 grpcurl example compiles the health proto (-proto): perpgw-cli
            # knows methods by reflection only, so it cannot run that line; the next README line,
            # `perpgwd health-check`, asks the same Health/Check and is run.
            skipped += 1
            print("SKIP (needs -proto; perpgw-cli works by reflection): " + line[:100])
            continue
        argv = argv_of(kind, args, at, rig.addr)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        method = argv[-1] if kind == "grpcurl" else "health-check"
        ok = r.returncode == 0
        print("%s %s: exit %d, %d bytes%s" % ("PASS" if ok else "FAIL", method, r.returncode,
                                              len(r.stdout),
                                              "" if ok else "; " + r.stderr.strip()[:300]))
        if os.environ.get("VERBOSE"):
            print("   " + r.stdout.strip()[:400].replace("\n", "\n   "))
        if not ok:
            failed.append(line)
    rig.close()
    print("%d examples: %d passed, %d failed, %d skipped" %
          (len(lines), len(lines) - len(failed) - skipped, len(failed), skipped))
    return 1 if failed else 0


try:
    sys.exit(main())
except Fail as e:
    print("check-api-examples: %s" % e, file=sys.stderr)
    sys.exit(1)
PY
