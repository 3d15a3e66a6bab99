"""A real Prometheus scrapes a running segmentd on loopback; every series the dashboard and the
alert rules query must be there, and the ones a working pipeline moves must have moved.

usage: prometheus_scrape_test.py --source-dir DIR --work-dir DIR -- SERVER_COMMAND...
SERVER_COMMAND runs segmentd with its admin API (and so /metrics) on 127.0.0.1:{port}; "{port}"
is replaced by a free port (segmentd_on_port.sh writes the config).

Steps: start segmentd and wait until its /metrics shows a model (segmentd_model_version > 0);
lint that exposition with `promtool check metrics`; start Prometheus (loopback, a free port, a
temporary TSDB) with a 1 s scrape of it and segmentd's alert rules; wait until the target is up
and Prometheus holds a model version; then
  - every metric name the dashboard and the rules use must have at least one series in
    Prometheus (absent = FAIL),
  - the metrics that a pipeline with a model has necessarily moved (LIVE below) must be > 0
    (never set = FAIL),
  - every dashboard and rule expression must evaluate,
  - no series carries an account label (bounded labels).
Every wait is bounded by a number of polls; every process and directory is cleaned up.
Exits 77 (ctest: skipped) only when the prometheus or promtool binary is missing.
"""
import argparse
import json
import re
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
from promql_names import dashboard_exprs, grafana_to_promql, metric_names, rule_exprs  # noqa: E402

POLL_S = 0.2
MAX_POLLS = 600  # bounded waits: 600 polls of 0.2 s

# Metrics a running pipeline with a model has necessarily moved: each must read > 0 (summed over
# its series). Gauges that may rightly be 0 in a healthy run (queued bytes, slow-consumer closes,
# dropped fills, subscribers) are only required to exist.
LIVE = [
    "segmentd_model_version",
    "segmentd_model_segments",
    "segmentd_model_last_update_timestamp_seconds",
    "segmentd_model_inertia",
    "segmentd_segment_accounts",
    "segmentd_segment_changes_total",
    "segmentd_clusterer_batch_accounts_count",
    "segmentd_clusterer_batch_duration_seconds_count",
    "segmentd_ingest_fills_total",
    "segmentd_ingest_source_connected",
    "segmentd_ingest_source_lag_seconds_count",
    "segmentd_shard_accounts",
    "segmentd_shard_fills_processed_total",
    "segmentd_shard_ring_capacity",
    "segmentd_end_to_end_latency_seconds_count",
    "segmentd_publisher_last_seq",
    "segmentd_publisher_messages_total",
    "segmentd_checkpoint_duration_seconds_count",
    "segmentd_checkpoint_size_bytes",
    "segmentd_checkpoint_accounts",
    "segmentd_checkpoint_last_success_timestamp_seconds",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
]


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
    ap.add_argument("server", nargs="+")
    args = ap.parse_args()

    prometheus = shutil.which("prometheus")
    promtool = shutil.which("promtool")
    if prometheus is None or promtool is None:
        print("SKIP: prometheus/promtool not found (Debian package 'prometheus'; deploy/install-deps.sh installs it)")
        return 77

    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    server = prom = None
    server_log = open(os.path.join(args.work_dir, "server.log"), "w")
    prom_log_path = os.path.join(args.work_dir, "prometheus.log")
    prom_log = open(prom_log_path, "w")
    try:
        target_port = free_port()
        cmd = [a.replace("{port}", str(target_port)) for a in args.server]
        server = subprocess.Popen(cmd, stdout=server_log, stderr=subprocess.STDOUT)
        exposition = None
        for _ in range(MAX_POLLS):
            if server.poll() is not None:
                break
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{target_port}/metrics", timeout=2).read().decode()
                m = re.search(r"^segmentd_model_version ([0-9.e+]+)$", text, re.M)
                if m and float(m.group(1)) > 0:
                    exposition = text
                    break
            except OSError:
                pass
            time.sleep(POLL_S)
        if exposition is None:
            print(f"FAIL: segmentd served no model on /metrics in {MAX_POLLS * POLL_S:.0f} s (exit {server.poll()})",
                  file=sys.stderr)
            return 1
        with open(os.path.join(args.work_dir, "metrics.txt"), "w") as f:
            f.write(exposition)
        lint = subprocess.run([promtool, "check", "metrics"], input=exposition, capture_output=True, text=True)
        failures = []
        if lint.returncode != 0 or lint.stdout.strip() or lint.stderr.strip():
            failures.append(f"promtool check metrics: {lint.stdout}{lint.stderr}")
        if re.search(r"\baccount=", exposition):
            failures.append("a series carries an account label (unbounded cardinality)")

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
                    if version > 0:
                        break
            except (OSError, ValueError):
                pass  # not listening yet
            time.sleep(POLL_S)
        if not version:
            print(f"FAIL: Prometheus holds no model version > 0 (prometheus exit {prom.poll()}); log:", file=sys.stderr)
            print(open(prom_log_path).read()[-4000:], file=sys.stderr)
            return 1
        print(f"scraped: segmentd_model_version = {version:g}")
        up = query(port, 'up{job="segmentd"}')["data"]["result"]
        if not up or up[0]["value"][1] != "1":
            failures.append(f"up{{job=\"segmentd\"}} is {up}")
        info = query(port, "segmentd_build_info")["data"]["result"]
        if not info or "version" not in info[0]["metric"]:
            failures.append(f"segmentd_build_info has no version label: {info}")

        exprs = dashboard_exprs(os.path.join(args.source_dir, "deploy/grafana/dashboards/segmentd.json"))
        exprs += rule_exprs(rules)
        used = {}
        for where, expr in exprs:
            r = query(port, grafana_to_promql(expr))
            if r.get("status") != "success":
                failures.append(f"{where}: {r.get('errorType')}: {r.get('error')} in {expr}")
            for n in metric_names(expr):
                used.setdefault(n, where)
        if len(exprs) < 20 or len(used) < 20:
            failures.append(f"found only {len(exprs)} expressions using {len(used)} metrics; is the extraction broken?")
        print(f"evaluated {len(exprs)} dashboard and rule expressions using {len(used)} metrics")
        for name, where in sorted(used.items()):
            r = query(port, f'count({{__name__="{name}",job="segmentd"}})')
            if r.get("status") != "success" or not r["data"]["result"]:
                failures.append(f"{where}: {name} has no series in a running segmentd")
        for name in LIVE:
            r = query(port, f'sum({{__name__="{name}",job="segmentd"}})')
            value = float(r["data"]["result"][0]["value"][1]) if r.get("status") == "success" and r["data"]["result"] else None
            if not value or value <= 0:
                failures.append(f"{name} is {value} in a running segmentd with a model (never set)")
        print(f"{len(used)} queried metrics present, {len(LIVE)} live metrics checked > 0")

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
