"""A real Prometheus scrapes a real /metrics endpoint on loopback and answers queries.

usage: prometheus_scrape_test.py --source-dir DIR --work-dir DIR -- SERVER_COMMAND...
SERVER_COMMAND serves segmentd's /metrics on 127.0.0.1. Either "{port_file}" in it is replaced
by a file where it writes its port (segmentd_metrics_catalog --serve), or "{port}" is replaced by
a free port it must listen on (segmentd itself, e.g. with an admin port given on its command line
or in a config written by a wrapper). --expect-model-version checks the value read back.

Steps: start the server, wait for its port; start Prometheus (loopback, a free port, a
temporary TSDB) with a 1 s scrape of that endpoint and segmentd's alert rules; wait until the
target is up; read segmentd_model_version and segmentd_build_info back through /api/v1/query;
evaluate every dashboard and rule expression (each must parse and run); stop everything.
Every wait is bounded by a number of polls; every process and directory is cleaned up.
Exits 77 (ctest: skipped) only when the prometheus binary is missing.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promql_names import dashboard_exprs, grafana_to_promql, rule_exprs  # noqa: E402

POLL_S = 0.2
MAX_POLLS = 300  # bounded waits: 300 polls of 0.2 s


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        return http_get_json(url)
    except urllib.error.HTTPError as e:  # 400 with a JSON error body for bad PromQL
        return json.load(e)


def stop(proc, name):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        print(f"{name} ignored SIGTERM; killing it", file=sys.stderr)
        proc.kill()
        proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--expect-model-version", type=float, default=3.0,
                    help="segmentd_model_version the server reports (the catalog publishes 3); -1: any")
    ap.add_argument("server", nargs="+")
    args = ap.parse_args()

    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("SKIP: prometheus not found (Debian package 'prometheus'; deploy/install-deps.sh installs it)")
        return 77

    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    port_file = os.path.join(args.work_dir, "server.port")
    server = prom = None
    server_log = open(os.path.join(args.work_dir, "server.log"), "w")
    prom_log_path = os.path.join(args.work_dir, "prometheus.log")
    prom_log = open(prom_log_path, "w")
    try:
        fixed_port = free_port() if any("{port}" in a for a in args.server) else None
        cmd = [a.replace("{port_file}", port_file).replace("{port}", str(fixed_port)) for a in args.server]
        server = subprocess.Popen(cmd, stdout=server_log, stderr=subprocess.STDOUT)
        target_port = fixed_port
        for _ in range(MAX_POLLS):
            if server.poll() is not None:
                break
            if fixed_port is None and os.path.exists(port_file):
                target_port = int(open(port_file).read().strip())
                break
            if fixed_port is not None:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{fixed_port}/metrics", timeout=2).read()
                    break
                except OSError:
                    pass
            time.sleep(POLL_S)
        if server.poll() is not None or target_port is None:
            print(f"FAIL: the metrics server is not serving (exit {server.poll()})", file=sys.stderr)
            return 1

        rules = os.path.join(args.source_dir, "deploy/prometheus/rules/segmentd.rules.yml")
        config = os.path.join(args.work_dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: segmentd
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
""")
        port = free_port()
        prom = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={args.work_dir}/tsdb",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=prom_log, stderr=subprocess.STDOUT)

        version = None
        for _ in range(MAX_POLLS):
            if prom.poll() is not None:
                break
            try:
                r = query(port, 'segmentd_model_version{job="segmentd"}')
                if r.get("status") == "success" and r["data"]["result"]:
                    version = float(r["data"]["result"][0]["value"][1])
                    break
            except (OSError, ValueError):
                pass  # not listening yet
            time.sleep(POLL_S)
        if version is None:
            print(f"FAIL: no scrape of segmentd_model_version (prometheus exit {prom.poll()}); log:", file=sys.stderr)
            print(open(prom_log_path).read()[-4000:], file=sys.stderr)
            return 1
        print(f"scraped: segmentd_model_version = {version:g}")
        failures = []
        if args.expect_model_version >= 0 and version != args.expect_model_version:
            failures.append(f"segmentd_model_version is {version}, expected {args.expect_model_version:g}")

        up = query(port, 'up{job="segmentd"}')["data"]["result"]
        if not up or up[0]["value"][1] != "1":
            failures.append(f"up{{job=\"segmentd\"}} is {up}")
        info = query(port, "segmentd_build_info")["data"]["result"]
        if not info or "version" not in info[0]["metric"]:
            failures.append(f"segmentd_build_info has no version label: {info}")

        exprs = dashboard_exprs(os.path.join(args.source_dir, "deploy/grafana/dashboards/segmentd.json"))
        exprs += rule_exprs(rules)
        for where, expr in exprs:
            r = query(port, grafana_to_promql(expr))
            if r.get("status") != "success":
                failures.append(f"{where}: {r.get('errorType')}: {r.get('error')} in {expr}")
        print(f"evaluated {len(exprs)} dashboard and rule expressions")

        for f in failures:
            print("FAIL:", f, file=sys.stderr)
        return 1 if failures else 0
    finally:
        stop(prom, "prometheus")
        stop(server, "metrics server")
        server_log.close()
        prom_log.close()
        shutil.rmtree(os.path.join(args.work_dir, "tsdb"), ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
