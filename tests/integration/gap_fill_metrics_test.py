#!/usr/bin/python3
"""A venue source's gap-fill, seen from the outside: `segmentd run` with one Deribit source, and
then one Binance options source, against fillsim-venue (the venue simulator, the venue's wire
format and REST trade history, on 127.0.0.1),
whose connection is dropped after 20 messages and refused until the account's fills ran on by 20
(fills the stream never delivers). The REST history fails every 2nd call (500, rate limit,
truncated JSON in turn).

Checks, from /metrics of the running process:
  - every fill the venue made arrives exactly once (segmentd_ingest_fills_total = fills made):
    the ones missed while away came back through the gap-fill, re-sent ones were dropped;
  - segmentd_ingest_gap_fill_{runs,completed,requests,records}_total moved, and the failed REST
    calls are counted by kind in segmentd_ingest_gap_fill_errors_total.

    /usr/bin/python3 gap_fill_metrics_test.py --segmentd BUILD/segmentd --fillsim-venue BUILD/fillsim-venue

No wall-clock threshold: every wait polls for an event, bounded by a poll count. Both processes
are stopped with SIGTERM; segmentd must exit 0.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import free_port, metric_total, scrape

ARGS = None
FILLS = 400  # per account stream (fillsim-venue --fills)
POLL_S = 0.1
MAX_POLLS = 1800


class GapFillMetricsTest(unittest.TestCase):
    def test_gap_fill_recovers_missed_fills_and_counts_itself(self):
        self.run_venue(["--venue", "deribit", "--batch", "4"], lambda port: f"""
venue = "deribit"
url = "ws://127.0.0.1:{port}/ws/api/v2"
rest_url = "http://127.0.0.1:{port}"
""")

    def test_binance_options_gap_fill_over_eapi(self):
        # Binance's options market: listenKey from /eapi/v1/listenKey, the stream at
        # /eoptions/ws/<listenKey>, the gap-fill from /eapi/v1/userTrades (every symbol at once).
        self.run_venue(["--venue", "binance", "--market", "options"], lambda port: f"""
venue = "binance"
market = "options"
url = "ws://127.0.0.1:{port}/eoptions/ws"
rest_url = "http://127.0.0.1:{port}"
""")

    def run_venue(self, venue_args, source_toml):
        with tempfile.TemporaryDirectory() as work:
            venue_port, admin_port = free_port(), free_port()
            venue_log = open(os.path.join(work, "venue.log"), "w")
            venue = subprocess.Popen(
                [os.path.abspath(ARGS.fillsim_venue)] + venue_args +
                ["--listen", f"127.0.0.1:{venue_port}", "--account", "acct-a:key-a:secret-a", "--fills", str(FILLS),
                 "--rate", "100", "--drop-after", "20", "--away-fills", "20", "--rest-error-every", "2"],
                stdout=venue_log, stderr=subprocess.STDOUT)
            seg = None
            seg_log_path = os.path.join(work, "segmentd.log")
            seg_log = open(seg_log_path, "w")

            def log_tail():
                seg_log.flush()
                with open(seg_log_path) as f:
                    return f.read()[-4000:]
            try:
                cfg = os.path.join(work, "segmentd.toml")
                with open(cfg, "w") as f:
                    f.write(f"""
[admin]
listen_address = "127.0.0.1"
port = {admin_port}
allow_anonymous = true
[publisher]
port = 0
allow_anonymous = true
[checkpoint]
enabled = false
[run]
summary_interval = 0
[[sources]]
kind = "venue"
name = "venue-a"
{source_toml(venue_port)}
heartbeat_interval = "10s"
backoff_initial = "50ms"
backoff_max = "200ms"
accounts = [{{name = "acct-a", key_env = "GAPFILL_TEST_KEY", secret_env = "GAPFILL_TEST_SECRET"}}]
""")
                env = dict(os.environ, GAPFILL_TEST_KEY="key-a", GAPFILL_TEST_SECRET="secret-a")
                seg = subprocess.Popen([os.path.abspath(ARGS.segmentd), "run", "--config", cfg], stdout=seg_log,
                                       stderr=subprocess.STDOUT, env=env, cwd=work)
                m = {}
                for _ in range(MAX_POLLS):
                    if seg.poll() is not None:
                        self.fail(f"segmentd exited with {seg.returncode}:\n" + log_tail())
                    try:
                        m = scrape(admin_port)
                    except OSError:
                        m = {}
                    if metric_total(m, "segmentd_ingest_fills_total") >= FILLS and \
                            metric_total(m, "segmentd_ingest_gap_fill_completed_total") >= 1:
                        break
                    time.sleep(POLL_S)
                else:
                    self.fail(f"gave up: fills {metric_total(m, 'segmentd_ingest_fills_total')} of {FILLS}, gap-fill "
                              f"{ {k: v for k, v in m.items() if 'gap_fill' in k} }\n" + log_tail())
                time.sleep(1.0)  # anything delivered twice would show now
                m = scrape(admin_port)
                self.assertEqual(metric_total(m, "segmentd_ingest_fills_total"), FILLS, "every fill made, exactly once")
                self.assertGreaterEqual(metric_total(m, "segmentd_ingest_reconnects_total"), 1)
                self.assertGreaterEqual(metric_total(m, "segmentd_ingest_gap_fill_runs_total"), 1)
                self.assertGreaterEqual(metric_total(m, "segmentd_ingest_gap_fill_completed_total"), 1)
                self.assertGreaterEqual(metric_total(m, "segmentd_ingest_gap_fill_requests_total"), 2)
                self.assertGreaterEqual(metric_total(m, "segmentd_ingest_gap_fill_records_total"), 20)
                self.assertGreaterEqual(metric_total(m, "segmentd_ingest_gap_fill_errors_total"), 1,
                                        {k: v for k, v in m.items() if "gap_fill" in k})
                for kind in ("http", "rate_limited", "bad_response"):
                    self.assertIn(f'kind="{kind}"', "".join(m["segmentd_ingest_gap_fill_errors_total"]))
            finally:
                if seg is not None and seg.poll() is None:
                    seg.send_signal(signal.SIGTERM)
                    seg.wait(timeout=60)
                venue.send_signal(signal.SIGTERM)
                venue.wait(timeout=30)
                venue_log.close()
                seg_log.close()
            self.assertEqual(seg.returncode, 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--segmentd", required=True)
    parser.add_argument("--fillsim-venue", dest="fillsim_venue", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v"] + rest)
