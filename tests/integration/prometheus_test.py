"""Integration test: a real Prometheus server scrapes a real perpgwd (metrics.listen on
127.0.0.1:0, port read from the "metrics on http://..." log line) that is fed by perpgw-sim; the
test checks through Prometheus's HTTP query API that the series exist and move.

  prometheus_test.py PERPGWD PERPGW_SIM REPO_ROOT

Needs Debian's `prometheus` package (scripts/install-deps.sh). Without it the test scrapes
/metrics directly, says so, and exits 0 only if PERPGW_ALLOW_NO_PROMETHEUS=1 (else it fails).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_rig  # noqa: E402
from ops_rig import Fail, wait_until  # noqa: E402

EXPECTED = ["perpgw_venue_messages_in_total", "perpgw_venue_bytes_in_total",
            "perpgw_venue_connected", "perpgw_book_status", "perpgw_events_in_total"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def parse_metric(text, name):
    """Sum of a metric's samples in the Prometheus text format."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})?\s+(\S+)" % re.escape(name), line)
        if m:
            total += float(m.group(2))
    return total


def main():
    perpgwd, sim, _root = sys.argv[1:4]
    rig = ops_rig.Rig(perpgwd, sim, rate=200, metrics=True, prefix="perpgw-prom")
    murl = urllib.parse.urlparse(rig.metrics_url)
    print("perpgwd metrics at", rig.metrics_url, "venues", rig.venues)
    prom = shutil.which("prometheus") or ("/usr/bin/prometheus"
                                          if os.path.exists("/usr/bin/prometheus") else None)
    if not prom:
        text = scrape(rig.metrics_url)
        a = parse_metric(text, "perpgw_venue_messages_in_total")
        time.sleep(2)
        b = parse_metric(scrape(rig.metrics_url), "perpgw_venue_messages_in_total")
        print("NO PROMETHEUS SERVER (apt-get install prometheus): scraped /metrics directly: "
              "messages_in %s -> %s" % (a, b))
        assert b > a
        sys.exit(0 if os.environ.get("PERPGW_ALLOW_NO_PROMETHEUS") == "1" else 1)

    cfg = os.path.join(rig.dir, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: perpgwd\n"
                "    metrics_path: %s\n"
                "    static_configs: [{targets: ['%s']}]\n" % (murl.path, murl.netloc))
    check = subprocess.run([shutil.which("promtool") or "promtool", "check", "config", cfg],
                           capture_output=True, text=True)
    print("promtool check config:", check.returncode, check.stdout.strip())
    port = None
    for attempt in range(3):  # the picked port can be taken in between (rare): retry
        port = free_port()
        p = rig.spawn([prom, "--config.file=" + cfg,
                       "--storage.tsdb.path=" + os.path.join(rig.dir, "tsdb"),
                       "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                      "prometheus-%d.log" % attempt)
        api = "http://127.0.0.1:%d/api/v1/" % port

        def ready():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        try:
            wait_until(ready, 60, "prometheus /-/ready", poll=0.2, proc=p)
            break
        except Fail as e:
            print("prometheus attempt %d: %s\n%s" % (attempt, e, ops_rig.tail(
                os.path.join(rig.dir, "prometheus-%d.log" % attempt))))
            if p.poll() is None:
                p.kill()
    else:
        raise Fail("prometheus did not start")

    def query(q):
        d = get_json(api + "query?" + urllib.parse.urlencode({"query": q}))
        assert d["status"] == "success", d
        return d["data"]["result"]

    wait_until(lambda: [r for r in query('up{job="perpgwd"}') if r["value"][1] == "1"], 60,
               "Prometheus to scrape perpgwd (up == 1)", poll=0.5)
    for name in EXPECTED:
        res = wait_until(lambda: query(name), 30, "series " + name, poll=0.5)
        print("series %s: %s" % (name, sorted({r["metric"].get("venue", "-") for r in res})))
    for v in rig.venues:
        assert query('perpgw_venue_messages_in_total{venue="%s"}' % v), v
        wait_until(lambda: query('perpgw_venue_connected{venue="%s"} == 1' % v), 30,
                   "%s connected in Prometheus" % v, poll=0.5)

    def total():
        r = query("sum(perpgw_venue_messages_in_total)")
        return float(r[0]["value"][1]) if r else 0.0
    first = total()
    wait_until(lambda: total() > first, 30, "perpgw_venue_messages_in_total to increase", poll=0.5)
    rate = wait_until(lambda: query("sum(rate(perpgw_venue_messages_in_total[5s])) > 0"), 30,
                      "a positive message rate", poll=0.5)
    print("messages_in_total %s -> %s; rate %s/s" % (first, total(), rate[0]["value"][1]))
    rig.close()
    print("PASS prometheus_test")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, Fail):
        import traceback
        traceback.print_exc()
        sys.exit(1)
