#!/usr/bin/python3
"""Fills/s through NATS JetStream into one segmentd (issue 18's first number).

A real nats-server -js on 127.0.0.1 (its store in --work), `fillsim --nats` publishes a
simulation (partitioned subjects, --batch fills per message) and waits for every ack, then one
`segmentd run` with a source of kind "nats" reads the whole backlog (each run its own durable
consumer, so each reads the stream from its start). Reported: the fills, the
wall time from segmentd's first fill to its last (its fills counter, polled every 50 ms), fills/s,
and segmentd's CPU seconds over the same span (utime + stime from /proc), so CPU per fill too.
The server runs on the same 2 cores: its share is in the wall time, not in segmentd's CPU.

  bench/nats_ingest.py --segmentd build/release/segmentd --fillsim build/release/fillsim \\
      --accounts 100000 --rate 20000 --duration 100 --batch 64 --runs 3
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from nats_client import NatsServer  # noqa: E402
from harness import free_port  # noqa: E402

CONFIG = """
[run]
summary_interval = "0s"
[publisher]
enabled = false
[admin]
port = {admin}
allow_anonymous = true
[checkpoint]
enabled = {checkpoint}
dir = "{state}"
interval = "30s"
[[sources]]
kind = "nats"
name = "fills"
url = "{url}"
stream = "BENCH_FILLS"
subject = "bench.fills.>"
create_stream = false
durable = "bench-{run}"
batch = {fetch}
"""


def fills_counter(admin):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("segmentd_ingest_fills_total"):
                    return float(line.rsplit(" ", 1)[1])
    except OSError:
        return None
    return 0.0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--segmentd", required=True)
    ap.add_argument("--fillsim", required=True)
    ap.add_argument("--work", default="/tmp/segmentd-nats-bench")
    ap.add_argument("--accounts", type=int, default=100000)
    ap.add_argument("--rate", type=float, default=20000)
    ap.add_argument("--duration", type=float, default=100)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64, help="fills per NATS message")
    ap.add_argument("--fetch", type=int, default=256, help="messages per fetch ([[sources]] batch)")
    ap.add_argument("--checkpoint", action="store_true", help="checkpoints on (every 30 s) as in production")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    nats = NatsServer(args.work).start()
    try:
        t = time.monotonic()
        p = subprocess.run([args.fillsim, "--nats", nats.url, "--nats-stream", "BENCH_FILLS",
                            "--nats-subject-prefix", "bench.fills", "--partitions", str(args.partitions),
                            "--nats-batch", str(args.batch), "--accounts", str(args.accounts),
                            "--rate", str(args.rate), "--duration", str(args.duration), "--seed", "7"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("fillsim failed: " + p.stderr)
        total = int(p.stderr.split(" fills")[0].split()[-1])
        print("published %d fills in %.1f s: %s" % (total, time.monotonic() - t, p.stderr.strip().splitlines()[-1]))
        for run in range(args.runs):
            admin = free_port()
            state = os.path.join(args.work, "state-%d" % run)
            cfg = os.path.join(args.work, "bench-%d.toml" % run)
            with open(cfg, "w") as f:
                f.write(CONFIG.format(admin=admin, state=state, url=nats.url, fetch=args.fetch, run=run,
                                      checkpoint="true" if args.checkpoint else "false"))
            log = open(os.path.join(args.work, "segmentd-%d.log" % run), "w")
            proc = subprocess.Popen([args.segmentd, "run", "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
            try:
                start = None
                while True:
                    n = fills_counter(admin)
                    now = time.monotonic()
                    if n is not None and n > 0 and start is None:
                        start, start_n, start_cpu = now, n, cpu_seconds(proc.pid)
                    if n is not None and n >= total:
                        end, end_cpu = now, cpu_seconds(proc.pid)
                        break
                    if proc.poll() is not None:
                        sys.exit("segmentd exited")
                    time.sleep(0.05)
                wall = end - start
                fills = total - start_n
                cpu = end_cpu - start_cpu
                print("run %d: %d fills in %.2f s wall: %.0f fills/s; segmentd %.2f CPU s (%.2f µs/fill)"
                      % (run + 1, fills, wall, fills / wall, cpu, cpu / fills * 1e6), flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
                log.close()
    finally:
        nats.stop()


if __name__ == "__main__":
    main()
