#!/usr/bin/python3
"""Live RSS per account of a real segmentd (bench/README.md, "Account updates and memory per account").

    bench/live_rss_per_account.py --segmentd BUILD/segmentd --fills FILE [--small FILE]
        [--no-publisher] [--max-accounts N]
    bench/live_rss_per_account.py --generate ACCOUNTS FILE   # ACCOUNTS distinct accounts, 6 fills each

Runs `segmentd run` with one replay source reading FILE (checkpoints off, the publisher on an
ephemeral port, the admin API on a free one), waits until /metrics shows every line of FILE
taken by the shards (an `ingest` source nobody feeds keeps `run` going after the file) and the
process's RSS has stopped moving, then prints VmRSS, the accounts
held (segmentd_shard_accounts) and the names interned. With --small, does the same first for a
small file and prints (RSS - RSS_small) / (accounts - accounts_small): the bytes each further
account costs the live process. --no-publisher takes the publisher out; --max-accounts sets
[shards] max_accounts (a small cap: what refused accounts still cost).
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)", line)
        if m and not line.startswith("#"):
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def measure(segmentd, fills, publisher, max_accounts):
    lines = sum(1 for _ in open(fills, "rb"))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="segmentd-rss-") as work:
        cfg = os.path.join(work, "segmentd.toml")
        with open(cfg, "w") as f:
            f.write(f"""
[admin]
listen_address = "127.0.0.1"
port = {port}
allow_anonymous = true
[shards]
max_accounts = {max_accounts}
[publisher]
enabled = {"true" if publisher else "false"}
port = 0
allow_anonymous = true
[checkpoint]
enabled = false
[run]
summary_interval = 0
[[sources]]
kind = "replay"
name = "file"
path = "{os.path.abspath(fills)}"
[[sources]]
kind = "ingest"
name = "idle"
listen = "127.0.0.1:{free_port()}"
token_env = "SEGMENTD_BENCH_INGEST_TOKEN"
""")
        log = open(os.path.join(work, "log"), "w")
        t0 = time.time()
        env = dict(os.environ, SEGMENTD_BENCH_INGEST_TOKEN="unused")
        proc = subprocess.Popen([segmentd, "run", "--config", cfg], stdout=log, stderr=subprocess.STDOUT, cwd=work,
                                env=env)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"segmentd exited {proc.returncode}: " + open(log.name).read()[-2000:])
                try:
                    m = metrics(port)
                    if m.get("segmentd_shard_fills_processed_total", 0) >= lines:
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            took = time.time() - t0
            # Settled: the clusterer and the publisher catch up after the last fill.
            prev = -1
            for _ in range(60):
                time.sleep(2)
                cur = rss_kib(proc.pid)
                if abs(cur - prev) < 256:
                    break
                prev = cur
            m = metrics(port)
            return {"rss_bytes": rss_kib(proc.pid) * 1024, "accounts": int(m.get("segmentd_shard_accounts", 0)),
                    "refused": int(m.get("segmentd_shard_fills_refused_total", 0)), "fills": lines,
                    "seconds_to_ingest": round(took, 1),
                    "process_rss_metric": int(m.get("segmentd_process_resident_memory_bytes", 0))}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)


def generate(accounts, path, fills_each=6):
    """Native NDJSON: every account's first fill, then every second one, ...: each account is new
    within the first `accounts` lines. Three kinds of account (maker on a perpetual, taker always
    buying, option seller), so that a model forms and every account is assigned and published."""
    ts = 1_733_011_200_000_000_000
    with open(path, "w", buffering=1 << 22) as f:
        for k in range(fills_each):
            lines = []
            for a in range(accounts):
                ts += 1000
                if a % 3 == 0:
                    lines.append('{"ts_ns":%d,"venue":"deribit","account":"mem-%07d","symbol":"BTC-PERPETUAL",'
                                 '"side":"%s","qty":0.1,"price":95000.0,"liquidity":"maker","trade_id":"m%d-%d"}\n'
                                 % (ts, a, "buy" if k % 2 == 0 else "sell", a, k))
                elif a % 3 == 1:
                    lines.append('{"ts_ns":%d,"venue":"binance","account":"mem-%07d","symbol":"BTCUSDT","side":"buy",'
                                 '"qty":5.0,"price":95000.0,"liquidity":"taker","trade_id":%d}\n' % (ts, a, a * 100 + k + 1))
                else:
                    lines.append('{"ts_ns":%d,"venue":"deribit","account":"mem-%07d","symbol":"BTC-27DEC24-100000-C",'
                                 '"side":"sell","qty":1.0,"price":0.0125,"underlying_price":95000.0,"iv":0.6,'
                                 '"liquidity":"taker","trade_id":"o%d-%d"}\n' % (ts, a, a, k))
            f.write("".join(lines))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--generate":
        generate(int(sys.argv[2]), sys.argv[3])
        return
    p = argparse.ArgumentParser()
    p.add_argument("--segmentd", required=True)
    p.add_argument("--fills", required=True)
    p.add_argument("--small")
    p.add_argument("--no-publisher", action="store_true")
    p.add_argument("--max-accounts", type=int, default=0)
    a = p.parse_args()
    args = (not a.no_publisher, a.max_accounts)
    base = measure(os.path.abspath(a.segmentd), a.small, *args) if a.small else None
    if base:
        print("small:", base)
    big = measure(os.path.abspath(a.segmentd), a.fills, *args)
    print("large:", big)
    if base and big["accounts"] > base["accounts"]:
        per = (big["rss_bytes"] - base["rss_bytes"]) / (big["accounts"] - base["accounts"])
        print(f"RSS per account held: {per:.0f} B ({big['accounts'] - base['accounts']} accounts more)")


if __name__ == "__main__":
    main()
