#!/usr/bin/python3
"""The cap on accounts of a real segmentd (issue 17 item 7): `[shards] max_accounts` with
`on_max_accounts = "refuse"`.

    /usr/bin/python3 account_cap_test.py --segmentd BUILD/segmentd [test_name ...]

Starts `segmentd run` on 127.0.0.1 with 2 shards, max_accounts = 10 (5 a shard), one `replay`
source of 40 accounts × 3 fills (and an `ingest` source nobody feeds, so that `run` does not stop
when the file ends), the admin API on a free port, the publisher on an ephemeral one and
checkpoints off. Once /metrics shows every fill taken by the shards:

  - segmentd_shard_accounts adds up to 10 and segmentd_shard_max_accounts is 5 on each shard;
  - segmentd_shard_fills_refused_total adds up to the 30 refused accounts' 90 fills;
  - /v1/accounts/{id} is 200 with all 3 fills for exactly 10 accounts, and 404 for the other 30;
  - the log warns once per shard that the cap was reached.

No wall-clock threshold is asserted: every wait polls for an event, bounded by a poll count;
ctest's TIMEOUT is the guard against a hang. segmentd is stopped with SIGTERM and must exit 0.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import free_port, metric_total, parse_exposition

ARGS = None
ADMIN_TOKEN = "admin-test-token"
ACCOUNTS = 40
FILLS_EACH = 3
MAX_ACCOUNTS = 10
SHARDS = 2
POLL_S = 0.05
MAX_POLLS = 2400
T0 = 1_733_011_200_000_000_000  # 2024-12-01 00:00 UTC


def replay_lines():
    """Round-robin: every account's first fill, then every second one, then every third."""
    lines, ts = [], T0
    for k in range(FILLS_EACH):
        for a in range(ACCOUNTS):
            lines.append(json.dumps({"ts_ns": ts, "venue": "binance", "account": f"cap-{a}", "symbol": "BTCUSDT",
                                     "side": "buy" if k % 2 == 0 else "sell", "qty": 0.5, "price": 95000.0,
                                     "liquidity": "taker", "trade_id": 1000 * a + k + 1}))
            ts += 1_000_000
    return lines


class Segmentd:
    def __init__(self, work):
        self.work = work
        self.admin_port = free_port()
        self.proc = None
        self.log_path = os.path.join(work, "segmentd.log")

    def start(self):
        fills = os.path.join(self.work, "fills.ndjson")
        with open(fills, "w") as f:
            f.write("\n".join(replay_lines()) + "\n")
        cfg = os.path.join(self.work, "segmentd.toml")
        with open(cfg, "w") as f:
            f.write(f"""
[log]
level = "info"
[shards]
count = {SHARDS}
max_accounts = {MAX_ACCOUNTS}
on_max_accounts = "refuse"
[admin]
listen_address = "127.0.0.1"
port = {self.admin_port}
tokens_env = "SEGMENTD_TEST_ADMIN_TOKENS"
allow_anonymous = false
[publisher]
listen_address = "127.0.0.1"
port = 0
allow_anonymous = true
[checkpoint]
enabled = false
[run]
summary_interval = 0
[[sources]]
kind = "replay"
name = "file"
path = "{fills}"
[[sources]]
kind = "ingest"
name = "idle"
listen = "127.0.0.1:{free_port()}"
token_env = "SEGMENTD_TEST_INGEST_TOKEN"
""")
        env = dict(os.environ, SEGMENTD_TEST_ADMIN_TOKENS=ADMIN_TOKEN, SEGMENTD_TEST_INGEST_TOKEN="unused-token")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.abspath(ARGS.segmentd), "run", "--config", cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, cwd=self.work)
        self.wait_for(lambda: self.http("/healthz")[0] == 200, "the admin API to answer")
        return self

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, predicate, what):
        for _ in range(MAX_POLLS):
            if self.proc.poll() is not None:
                raise AssertionError(f"segmentd exited with {self.proc.returncode} while waiting for {what}:\n"
                                     + self.log_text())
            try:
                if predicate():
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(POLL_S)
        raise AssertionError(f"gave up waiting for {what} after {MAX_POLLS} polls:\n" + self.log_text()[-4000:])

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("segmentd ignored SIGTERM:\n" + self.log_text()[-4000:])
        self.log.close()
        assert self.proc.returncode == 0, f"segmentd exited with {self.proc.returncode}:\n" + self.log_text()[-4000:]

    def http(self, path, token=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        """{name: {labels-string: value}} of the Prometheus exposition."""
        status, text = self.http("/metrics")
        assert status == 200, f"/metrics: {status}"
        return parse_exposition(text)


class AccountCapTest(unittest.TestCase):

    def test_a_capped_service_refuses_new_accounts(self):
        with tempfile.TemporaryDirectory(prefix="segmentd-account-cap-") as work:
            s = Segmentd(work).start()
            try:
                fed = ACCOUNTS * FILLS_EACH
                refused = (ACCOUNTS - MAX_ACCOUNTS) * FILLS_EACH
                # Every fill taken by the shards, and the refusals (sampled at scrape) all counted.
                s.wait_for(lambda: metric_total(s.metrics(), "segmentd_shard_fills_processed_total") == fed
                           and metric_total(s.metrics(), "segmentd_shard_fills_refused_total") == refused,
                           f"{fed} fills processed, {refused} of them refused")
                m = s.metrics()
                self.assertEqual(metric_total(m, "segmentd_shard_fills_refused_total"), refused)
                self.assertEqual(sorted(m["segmentd_shard_max_accounts"].values()),
                                 [MAX_ACCOUNTS / SHARDS] * SHARDS)

                held, missing = [], []
                for a in range(ACCOUNTS):
                    status, body = s.http(f"/v1/accounts/cap-{a}", token=ADMIN_TOKEN)
                    if status == 200:
                        self.assertEqual(json.loads(body)["fills"], FILLS_EACH, f"cap-{a}: every fill applied")
                        held.append(a)
                    else:
                        self.assertEqual(status, 404, f"cap-{a}: {status} {body}")
                        missing.append(a)
                self.assertEqual(len(held), MAX_ACCOUNTS, f"held {held}")
                self.assertEqual(len(missing), ACCOUNTS - MAX_ACCOUNTS)
                # The accounts gauge is set when a shard publishes a batch: after the last fills.
                s.wait_for(lambda: metric_total(s.metrics(), "segmentd_shard_accounts") == MAX_ACCOUNTS,
                           f"segmentd_shard_accounts to add up to {MAX_ACCOUNTS}")
                warnings = [l for l in s.log_text().splitlines() if "account cap reached" in l]
                self.assertEqual(len(warnings), SHARDS, "\n".join(warnings))
            finally:
                s.stop()


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--segmentd", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v"] + [f"AccountCapTest.{t}" if not t.startswith("-") else t for t in rest])


if __name__ == "__main__":
    main()
