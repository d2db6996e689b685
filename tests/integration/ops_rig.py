"""Python test rig for the operations tests: a real perpgw-sim + a real perpgwd wired to every
venue the sim offers (or a chosen subset), with bearer tokens, optional TLS and metrics.

Used by python_strategy_test.py and prometheus_test.py (Debian /usr/bin/python3 only; no pip).
Every wait has a deadline; every child is killed on exit. PERPGW_KEEP_TEST_DIRS=1 keeps the dir.
"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

# Sim credential fields that are plain settings for the gateway, not secrets.
OPTION_KEYS = ("auth_scheme", "user", "signer")
TOKEN = "ops-test-token-8f1d2c"


class Fail(Exception):
    pass


def wait_until(cond, timeout, what, poll=0.05, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            raise Fail("%s: process exited with %s while waiting" % (what, proc.returncode))
        time.sleep(poll)
    raise Fail("timed out after %ss waiting for %s" % (timeout, what))


def tail(path, n=3000):
    try:
        with open(path, errors="replace") as f:
            s = f.read()
        return s[-n:]
    except OSError:
        return "(no log)"


class Rig:
    def __init__(self, perpgwd, sim, venues=None, rate=50, seed=7, symbols=("BTC", "ETH"),
                 metrics=False, prefix="perpgw-ops"):
        self.perpgwd, self.sim_bin = perpgwd, sim
        self.dir = tempfile.mkdtemp(prefix=prefix + "-")
        self.procs = []
        atexit.register(self.close)
        ep_path = os.path.join(self.dir, "endpoints.json")
        argv = [sim, "--seed", str(seed), "--rate", str(rate), "--endpoints-out", ep_path]
        if venues:
            argv += ["--venues", ",".join(venues)]
        self.sim = self.spawn(argv, "sim.log")
        wait_until(lambda: os.path.exists(ep_path), 60, "the sim's endpoints file", proc=self.sim)
        with open(ep_path) as f:
            self.endpoints = json.load(f)
        self.control = self.endpoints["control_url"]
        self.venues = sorted(self.endpoints["venues"])
        self.symbols = list(symbols)
        self.accounts = {}  # venue -> [account ids]
        self.env = {"PERPGW_OPS_TOKEN": TOKEN}
        cfg = ["listen: 127.0.0.1:0", "log_level: debug"]
        if metrics:
            cfg.append('metrics: {listen: "127.0.0.1:0"}')
        cfg += ["auth:", "  tokens:",
                "    - {name: ops, token: {env: PERPGW_OPS_TOKEN}, scopes: [read, \"trade:*\"]}",
                "venues:"]
        acc_lines = ["accounts:"]
        n = 0
        for v in self.venues:
            e = self.endpoints["venues"][v]
            cfg += ["  %s:" % v, "    rest_url: %s" % e["rest_url"], "    ws_url: %s" % e["ws_url"],
                    "    stale_after_ms: 60000",
                    "    symbols: [%s]" % ", ".join(self.symbols),
                    '    fees: {maker: "0.0002", taker: "0.0005"}']
            for a in e["accounts"]:
                creds = a["credentials"]
                self.accounts.setdefault(v, []).append(a["id"])
                acc_lines += ["  - id: %s" % a["id"], "    venue: %s" % v]
                opts = {k: val for k, val in creds.items() if k in OPTION_KEYS}
                if opts:
                    acc_lines.append("    options:")
                    acc_lines += ['      %s: "%s"' % (k, val) for k, val in sorted(opts.items())]
                acc_lines.append("    credentials:")
                for k, val in sorted(creds.items()):
                    if k in OPTION_KEYS:
                        continue
                    var = "PERPGW_OPS_CRED_%d" % n
                    n += 1
                    self.env[var] = val
                    acc_lines.append("      %s: {env: %s}" % (k, var))
        if len(acc_lines) > 1:
            acc_lines.append("orders: {journal_dir: \"%s\"}" % os.path.join(self.dir, "journal"))
        self.config_text = "\n".join(cfg + acc_lines) + "\n"
        self.config_path = os.path.join(self.dir, "gateway.yaml")
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        self.port_file = os.path.join(self.dir, "port")
        self.gw_log = os.path.join(self.dir, "perpgwd.log")
        self.gw = self.spawn([perpgwd, "--config", self.config_path, "--port-file",
                              self.port_file], "perpgwd.log", env=self.env)
        try:
            wait_until(lambda: os.path.exists(self.port_file), 60, "perpgwd's port file",
                       proc=self.gw)
        except Fail as e:
            raise Fail("%s\n%s" % (e, tail(self.gw_log)))
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.addr = "127.0.0.1:%d" % self.port
        self.metrics_url = None
        if metrics:
            m = wait_until(lambda: re.search(r"metrics on (http://\S+)", tail(self.gw_log, 10**6)),
                           30, "the 'metrics on' log line", proc=self.gw)
            self.metrics_url = m.group(1)

    def spawn(self, argv, log_name, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        log = open(os.path.join(self.dir, log_name), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=full_env, start_new_session=True)
        self.procs.append(p)
        return p

    def http_get(self, path):
        with urllib.request.urlopen(self.control + path, timeout=10) as r:
            return json.loads(r.read())

    def http_post(self, path, obj):
        req = urllib.request.Request(self.control + path, data=json.dumps(obj).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def account(self, venue, account):
        return self.http_get("/account?venue=%s&account=%s" % (venue, account))

    def venue_symbol(self, venue, ticker):
        for s in self.endpoints["venues"][venue]["symbols"]:
            if s.startswith(ticker):
                return s
        raise Fail("no %s symbol on %s" % (ticker, venue))

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        if os.environ.get("PERPGW_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept test dir", self.dir)
