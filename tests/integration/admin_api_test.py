#!/usr/bin/python3
"""The admin API of a real segmentd: /readyz, /v1/segments, /v1/accounts/{id} and /metrics served
by the pipeline's own handlers (Pipeline::account_view, its readiness checks, its metrics
registry), not by a test's.

    /usr/bin/python3 admin_api_test.py --segmentd BUILD/segmentd [test_name ...]

Starts `segmentd run` on 127.0.0.1 with one `ingest` source (a websocket the test feeds native
NDJSON fills to, so the test decides when the model may exist), the admin API on a free port, the
publisher on an ephemeral one and checkpoints off. Then, in order:

  1. nothing fed: /readyz 503 (no model, no source delivering); /v1/segments has no model;
  2. 12 accounts fed, fewer than [clusterer] min_accounts, so still no model: once /metrics shows
     every fill processed, /readyz is 503 with only the model check failing, each account's fill
     count is what was fed, its features are the ones its fills imply (maker_ratio,
     direction_imbalance, option_share), an unknown account is 404, and the /v1 endpoints need
     the bearer token;
  3. the other accounts fed: /readyz turns 200 (the wait is for that event), /v1/segments has k
     segments, every account keeps its exact fill count and gets a segment of that model with its
     distances to every segment, and /metrics has live series whose values match what was fed.

No wall-clock threshold is asserted: every wait polls for an event, bounded by a poll count;
ctest's TIMEOUT is the guard against a hang. segmentd is stopped with SIGTERM and must exit 0.
"""

import argparse
import asyncio
import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import websockets

from harness import free_port, parse_exposition

ARGS = None
ADMIN_TOKEN = "admin-test-token"
INGEST_TOKEN = "ingest-test-token"
PUBLISHER_TOKEN = "publisher-test-token"
K = 3
MIN_ACCOUNTS = 30
POLL_S = 0.05
MAX_POLLS = 2400

T0 = 1_733_011_200_000_000_000  # 2024-12-01 00:00 UTC: before the option's expiry (27 Dec 2024)
FEATURES = ["trade_rate", "notional_rate", "ticket_size", "maker_ratio", "direction_imbalance",
            "delta_neutrality", "vega_bias", "option_share", "future_share"]


# ---------------------------------------------------------------------------- the fed accounts
# Three kinds of account, far apart in feature space, so that a model of K = 3 segments exists once
# MIN_ACCOUNTS of them have min_fills fills. Fill counts differ per account (6, 8, 10).

def kind_of(name):
    return name.split("-")[0]


def fills_of(name, index):
    """The native NDJSON fills of one account, without timestamps (added when the feed is built)."""
    n = 6 + 2 * (index % 3)  # 6, 8 or 10: even, so the market maker buys as much as it sells
    out = []
    for i in range(n):
        if kind_of(name) == "mm":  # maker on a perpetual, alternating sides, same size: balanced
            out.append({"venue": "deribit", "account": name, "symbol": "BTC-PERPETUAL", "liquidity": "maker",
                        "side": "buy" if i % 2 == 0 else "sell", "qty": 0.1, "price": 95000.0,
                        "trade_id": f"{name}-{i}"})
        elif kind_of(name) == "dir":  # taker, always buying, big tickets on a linear perpetual
            out.append({"venue": "binance", "account": name, "symbol": "BTCUSDT", "liquidity": "taker",
                        "side": "buy", "qty": 5.0, "price": 95000.0, "trade_id": 1000 * index + i + 1})
        else:  # options only, taker, selling calls
            out.append({"venue": "deribit", "account": name, "symbol": "BTC-27DEC24-100000-C",
                        "liquidity": "taker", "side": "sell", "qty": 1.0, "price": 0.0125,
                        "underlying_price": 95000.0, "iv": 0.6, "trade_id": f"{name}-{i}"})
    return out


def population():
    names = []
    for i in range(14):
        names += [f"mm-{i}", f"dir-{i}", f"opt-{i}"]
    return names  # 42 accounts


def feed_lines(accounts, t_start):
    """Round-robin over the accounts, one fill each per second of event time: (lines, next ts)."""
    queues = {a: fills_of(a, population().index(a)) for a in accounts}
    lines, ts = [], t_start
    while any(queues.values()):
        for a in accounts:
            if queues[a]:
                fill = dict(queues[a].pop(0), ts_ns=ts)
                ts += 1_000_000_000
                lines.append(json.dumps(fill))
    return lines, ts


# ---------------------------------------------------------------------------- segmentd

class Segmentd:
    def __init__(self, work, extra="", simulator=None):
        self.work = work
        self.extra = extra  # TOML appended to the config
        # A simulator source instead of the ingest feed: (market_events, sim_speedup).
        self.simulator = simulator
        self.admin_port = free_port()
        self.ingest_port = free_port()
        self.proc = None
        self.log_path = os.path.join(work, "segmentd.log")

    def start(self):
        cfg = os.path.join(self.work, "segmentd.toml")
        with open(cfg, "w") as f:
            f.write(f"""
[log]
level = "info"
[admin]
listen_address = "127.0.0.1"
port = {self.admin_port}
tokens_env = "SEGMENTD_TEST_ADMIN_TOKENS"
allow_anonymous = false
[publisher]
listen_address = "127.0.0.1"
port = 0
tokens_env = "SEGMENTD_TEST_PUBLISHER_TOKENS"
allow_anonymous = false
[checkpoint]
enabled = false
[clusterer]
k = {K}
min_accounts = {MIN_ACCOUNTS}
min_fills = 5
seeds = 2
[run]
summary_interval = 0
""" + (f"""sim_speedup = {self.simulator[1]}
[[sources]]
kind = "simulator"
name = "sim"
accounts = 300
rate = 3000
seed = 5
duration_s = 0
market_events = "{self.simulator[0]}"
""" if self.simulator else f"""[[sources]]
kind = "ingest"
name = "feed"
listen = "127.0.0.1:{self.ingest_port}"
token_env = "SEGMENTD_TEST_INGEST_TOKEN"
""") + self.extra)
        env = dict(os.environ, SEGMENTD_TEST_ADMIN_TOKENS=ADMIN_TOKEN, SEGMENTD_TEST_INGEST_TOKEN=INGEST_TOKEN,
                   SEGMENTD_TEST_PUBLISHER_TOKENS=PUBLISHER_TOKEN)
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
        """SIGTERM; segmentd must stop cleanly (exit 0)."""
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

    def http(self, path, token=None, method="GET"):
        """(status, body) of an admin API request."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def json(self, path, token=ADMIN_TOKEN):
        status, body = self.http(path, token=token)
        assert status == 200, f"GET {path}: {status} {body}"
        return json.loads(body)

    def metrics(self):
        """{name: {labels-string: value}} of the Prometheus exposition."""
        status, text = self.http("/metrics")
        assert status == 200, f"/metrics: {status}"
        return parse_exposition(text)

    def metric_sum(self, name, metrics=None):
        metrics = metrics if metrics is not None else self.metrics()
        return sum(metrics.get(name, {}).values()) if name in metrics else None

    async def feed(self, lines, per_frame=25):
        async with websockets.connect(f"ws://127.0.0.1:{self.ingest_port}/",
                                      extra_headers={"Authorization": f"Bearer {INGEST_TOKEN}"}) as ws:
            for i in range(0, len(lines), per_frame):
                await ws.send("\n".join(lines[i:i + per_frame]))


def readiness(body):
    doc = json.loads(body)
    return doc["ready"], {c["name"]: c["ok"] for c in doc["checks"]}


# ---------------------------------------------------------------------------- the test

class AdminApiTest(unittest.TestCase):

    def check_account(self, s, name, fed, last_ts, model):
        """/v1/accounts/{name} from the pipeline: what was fed, and the model's view of it."""
        acct = s.json(f"/v1/accounts/{name}")
        self.assertEqual(acct["account"], name)
        self.assertEqual(acct["fills"], fed[name], f"{name}: fills counted = fills fed")
        raw = acct["features"]["raw"]
        self.assertEqual(len(raw), 16)
        for f in FEATURES:
            self.assertIsInstance(raw[f], (int, float), f"{name}: raw {f} present")
        self.assertGreater(raw["trade_rate"], 0, name)
        self.assertGreater(raw["notional_rate"], 0, name)
        # Features the fills determine (core/features.md): all-maker or all-taker, one side only,
        # options only. The market maker's buys and sells are equal but decayed (event time moves
        # between them), so its imbalance is near 0, not exactly 0.
        expect = {"mm": (1.0, 0.0, 0.0), "dir": (0.0, 1.0, 0.0), "opt": (0.0, 1.0, 1.0)}[kind_of(name)]
        got = (raw["maker_ratio"], raw["direction_imbalance"], raw["option_share"])
        for e, g, f in zip(expect, got, ("maker_ratio", "direction_imbalance", "option_share")):
            tol = 0.01 if (kind_of(name), f) == ("mm", "direction_imbalance") else 1e-9
            self.assertTrue(math.isclose(g, e, abs_tol=tol), f"{name}: {f} = {g}, fed fills imply {e}")
        # Two clocks (core/features.md): the model sees the fast one by default; the slow clock
        # reads the same ratios the fills imply, and a lower trade rate than the fast one for
        # fills this recent (its window is 24 h, not 1 h).
        self.assertEqual(acct["features"]["fast"], raw, name)
        slow = acct["features"]["slow"]
        self.assertEqual(sorted(slow), sorted(raw), name)
        for e, f in zip(expect, ("maker_ratio", "direction_imbalance", "option_share")):
            tol = 0.01 if (kind_of(name), f) == ("mm", "direction_imbalance") else 1e-9
            self.assertTrue(math.isclose(slow[f], e, abs_tol=tol), f"{name}: slow {f} = {slow[f]}, fed fills imply {e}")
        self.assertLess(slow["trade_rate"], raw["trade_rate"], name)
        self.assertEqual(acct["last_fill"], last_ts[name], f"{name}: last fill = last ts fed")
        if model is None:
            self.assertEqual(acct["model_version"], 0, name)
            self.assertEqual(acct["distances"], [], name)
            self.assertIsNone(acct["segment"], name)
        else:
            ids = {seg["id"] for seg in model["segments"]}
            self.assertGreaterEqual(acct["model_version"], 1, name)
            self.assertEqual({d["segment"] for d in acct["distances"]}, ids, name)
            for d in acct["distances"]:
                self.assertTrue(math.isfinite(d["distance"]) and d["distance"] >= 0, f"{name}: {d}")
            self.assertEqual(len(acct["features"]["scaled"]), 16)
        return acct

    def test_admin_api_of_a_running_pipeline(self):
        names = population()
        first = [n for n in names if int(n.split("-")[1]) < 4]  # 12 accounts < MIN_ACCOUNTS
        rest = [n for n in names if n not in first]
        self.assertLess(len(first), MIN_ACCOUNTS)
        self.assertGreaterEqual(len(names), MIN_ACCOUNTS)
        lines1, t = feed_lines(first, T0)
        lines2, _ = feed_lines(rest, t)
        fed, last_ts = {}, {}
        for line in lines1 + lines2:
            f = json.loads(line)
            fed[f["account"]] = fed.get(f["account"], 0) + 1
            last_ts[f["account"]] = f["ts_ns"]

        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work)
            try:
                s.start()
                # 1. Nothing fed: neither a model nor a source delivering.
                status, body = s.http("/readyz")
                self.assertEqual(status, 503, body)
                self.assertEqual(readiness(body), (False, {"model": False, "sources": False}))
                doc = s.json("/v1/segments")
                self.assertEqual((doc["ready"], doc["model"]), (False, None))
                self.assertEqual(s.http("/v1/accounts/mm-0", token=ADMIN_TOKEN)[0], 404)  # not seen yet

                # 2. Fewer accounts than min_accounts: fills arrive, no model.
                asyncio.run(s.feed(lines1))
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == len(lines1),
                           f"{len(lines1)} fills processed")
                m = s.metrics()
                self.assertEqual(s.metric_sum("segmentd_ingest_fills_total", m), len(lines1))
                self.assertEqual(s.metric_sum("segmentd_shard_accounts", m), len(first))
                self.assertEqual(s.metric_sum("segmentd_model_version", m), 0)
                status, body = s.http("/readyz")
                self.assertEqual(status, 503, body)
                self.assertEqual(readiness(body), (False, {"model": False, "sources": True}))
                self.assertEqual(s.json("/v1/segments")["model"], None)
                for name in first:
                    self.check_account(s, name, fed, last_ts, None)
                self.assertEqual(s.http("/v1/accounts/nobody", token=ADMIN_TOKEN)[0], 404)
                self.assertEqual(s.http("/v1/accounts/mm-99", token=ADMIN_TOKEN)[0], 404)
                for path in ("/v1/segments", "/v1/accounts/mm-0"):
                    self.assertEqual(s.http(path)[0], 401, path)
                    self.assertEqual(s.http(path, token=INGEST_TOKEN)[0], 401, path)
                # Each refused login is counted where an alert can see it (and logged with the peer).
                self.assertEqual(s.metric_sum("segmentd_admin_auth_failures_total"), 4)
                self.assertEqual(s.log_text().count("admin login failed"), 4)

                # 3. The rest: a model appears, readiness follows it.
                asyncio.run(s.feed(lines2))
                total = len(lines1) + len(lines2)
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == total,
                           f"{total} fills processed")
                s.wait_for(lambda: s.http("/readyz")[0] == 200, "/readyz 200 (a model)")
                status, body = s.http("/readyz")
                self.assertEqual(readiness(body), (True, {"model": True, "sources": True}))
                doc = s.json("/v1/segments")
                self.assertTrue(doc["ready"])
                model = doc["model"]
                self.assertGreaterEqual(model["version"], 1)
                self.assertEqual(len(model["segments"]), K)
                for seg in model["segments"]:
                    self.assertEqual(set(seg), {"id", "label", "size", "weight", "centroid", "policy", "stressed_policy",
                                    "extreme_policy"})
                    self.assertEqual(len(seg["centroid"]), 16)
                    self.assertTrue(seg["label"])
                # Every account gets a first assignment against the new model (the shards' sweep).
                s.wait_for(lambda: s.metric_sum("segmentd_segment_changes_total") >= len(names),
                           f"{len(names)} first assignments")
                model = s.json("/v1/segments")["model"]
                ids = {seg["id"] for seg in model["segments"]}
                segment_of = {}
                for name in names:
                    acct = self.check_account(s, name, fed, last_ts, model)
                    self.assertIn(acct["segment"], ids, name)
                    self.assertTrue(acct["recent_changes"], name)
                    self.assertEqual(acct["recent_changes"][-1]["to"], acct["segment"], name)
                    self.assertEqual(acct["recent_changes"][0]["cause"], "first_assignment", name)
                    segment_of[name] = acct["segment"]
                # Three kinds of account far apart, three segments: each kind is one segment.
                by_kind = {}
                for name, seg in segment_of.items():
                    by_kind.setdefault(kind_of(name), set()).add(seg)
                self.assertEqual(sorted(len(v) for v in by_kind.values()), [1, 1, 1], by_kind)
                self.assertEqual(len(set().union(*by_kind.values())), K, by_kind)
                self.assertEqual(s.http("/v1/accounts/nobody", token=ADMIN_TOKEN)[0], 404)

                # /metrics: live series of this pipeline, with the values that were fed.
                m = s.metrics()
                self.assertEqual(s.metric_sum("segmentd_ingest_fills_total", m), total)
                self.assertEqual(s.metric_sum("segmentd_ingest_parse_errors_total", m) or 0, 0)
                self.assertEqual(s.metric_sum("segmentd_shard_fills_processed_total", m), total)
                self.assertEqual(s.metric_sum("segmentd_shard_accounts", m), len(names))
                self.assertGreaterEqual(s.metric_sum("segmentd_model_version", m), model["version"])
                self.assertEqual(s.metric_sum("segmentd_model_segments", m), K)
                self.assertGreaterEqual(s.metric_sum("segmentd_segment_changes_total", m), len(names))
                self.assertGreater(s.metric_sum("segmentd_publisher_last_seq", m), len(names))
                self.assertGreater(s.metric_sum("segmentd_ingest_messages_total", m), 0)
                self.assertGreater(s.metric_sum("segmentd_ingest_bytes_total", m), 0)
                self.assertGreater(s.metric_sum("segmentd_clusterer_batch_accounts_count", m), 0)
                self.assertGreater(s.metric_sum("process_resident_memory_bytes", m), 0)
                # Markouts by who priced them (issue 20 item 4): this feed has no market data, so
                # every one is priced by a fill, the account's own or another's.
                s.wait_for(lambda: (s.metric_sum("segmentd_markouts_resolved_total") or 0) > 0, "markouts resolved")
                by = {}
                for labels, v in s.metrics()["segmentd_markouts_resolved_total"].items():
                    kind = re.search(r'priced_by="([a-z_]+)"', labels).group(1)
                    by[kind] = by.get(kind, 0) + v
                self.assertEqual(sorted(by), ["market_data", "other_fill", "own_fill"], by)
                self.assertEqual(by["market_data"], 0, by)
                self.assertGreater(by["own_fill"] + by["other_fill"], 0, by)
            finally:
                s.stop()

    def test_future_timestamps_do_not_stop_the_model(self):
        """Hostile-input report: one valid fill stamped +1 h, +1 day, in 2030 or in 2200 on an
        ingest feed dropped every segment's size and weight to 0, and the model version never
        advanced again. Each must be refused, counted (reason future_time) and logged, and the
        model must go on with the fills that follow."""
        names = population()
        lines, t = feed_lines(names, T0)
        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work)
            try:
                s.start()
                asyncio.run(s.feed(lines))
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == len(lines),
                           f"{len(lines)} fills processed")
                s.wait_for(lambda: s.http("/readyz")[0] == 200, "/readyz 200 (a model)")

                # Four future fills, each in its own frame between valid ones, on existing accounts.
                hour, day = 3600 * 10**9, 86400 * 10**9
                bad_ts = [t + hour, t + day, 1_893_456_000 * 10**9, 7_258_118_400 * 10**9]
                more, t_end = feed_lines(names, t)
                more = [json.dumps(dict(json.loads(x), trade_id=f"again-{i}")) for i, x in enumerate(more)]
                frames, k = [], 0
                for i, ts in enumerate(bad_ts):
                    bad = {"venue": "binance", "account": f"dir-{i}", "symbol": "BTCUSDT", "liquidity": "taker",
                           "side": "buy", "qty": 5.0, "price": 95000.0, "trade_id": f"future-{i}", "ts_ns": ts}
                    frames.append(json.dumps(bad))
                    frames += more[k:k + 20]
                    k += 20
                asyncio.run(s.feed(frames, per_frame=1))
                done = len(lines) + k
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == done,
                           f"{done} fills processed (the {len(bad_ts)} future ones refused)")
                # The model goes on: each later part of the feed brings a new version (the old code
                # published once at the future time, then never again).
                rest = more[k:]
                for part in range(3):
                    v = s.json("/v1/segments")["model"]["version"]
                    chunk = rest[part * len(rest) // 3:(part + 1) * len(rest) // 3]
                    asyncio.run(s.feed(chunk))
                    done += len(chunk)
                    s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == done,
                               f"{done} fills processed")
                    s.wait_for(lambda: s.json("/v1/segments")["model"]["version"] > v,
                               f"the model to advance past version {v} (part {part + 1} of the feed after the future fills)")
                total = len(lines) + len(more)
                self.assertEqual(done, total)
                model = s.json("/v1/segments")["model"]
                self.assertEqual(len(model["segments"]), K)
                for seg in model["segments"]:
                    self.assertGreater(seg["weight"], 0, seg)
                    self.assertGreater(seg["size"], 0, seg)
                self.assertEqual(sum(seg["size"] for seg in model["segments"]), len(names))
                m = s.metrics()
                refused = {k: v for k, v in m.get("segmentd_ingest_parse_errors_total", {}).items()
                           if 'reason="future_time"' in k}
                self.assertEqual(sum(refused.values()), len(bad_ts), m.get("segmentd_ingest_parse_errors_total"))
                self.assertEqual(s.metric_sum("segmentd_ingest_fills_total", m), total)
                # No account's clock moved to the future: its last fill is the last valid one fed.
                for i in range(len(bad_ts)):
                    acct = s.json(f"/v1/accounts/dir-{i}")
                    self.assertLess(acct["last_fill"], t_end, acct)
                self.assertIn("fill refused: timestamp too far ahead", s.log_text())
            finally:
                s.stop()

    def test_price_records_on_an_ingest_feed_price_the_markouts(self):
        """Issue 20, item 4: native price records (market data) on a feed go on the price tape,
        are counted (segmentd_ingest_prices_total), and the markouts resolve with them: counted
        priced_by="market_data", none by a fill. A hostile price record (an account in it, a time
        far ahead) is refused by name and counted, as a bad fill is."""
        sec = 10**9
        marks = [95000.0 + 10.0 * i for i in range(40)]  # a market rising 10 USD a second
        lines = []
        for i in range(40):
            lines.append(json.dumps({"record": "price", "ts_ns": T0 + i * sec, "venue": "binance",
                                     "symbol": "BTCUSDT", "mark_price": marks[i], "underlying_price": marks[i]}))
            if i in (1, 5, 9):  # a taker buys at the mark, three times, 4 s apart: three markouts
                lines.append(json.dumps({"ts_ns": T0 + i * sec + sec // 2, "venue": "binance", "account": "md-buyer",
                                         "symbol": "BTCUSDT", "side": "buy", "qty": 0.5, "price": marks[i],
                                         "liquidity": "taker", "trade_id": f"md-{i}"}))
        hostile = [json.dumps({"record": "price", "ts_ns": T0 + 5 * sec, "venue": "binance", "symbol": "BTCUSDT",
                               "account": "md-buyer", "mark_price": 1.0}),
                   json.dumps({"record": "price", "ts_ns": T0 + 86400 * sec, "venue": "binance",
                               "symbol": "BTCUSDT", "mark_price": 1.0})]
        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work)
            try:
                s.start()
                asyncio.run(s.feed(lines[:20] + hostile + lines[20:], per_frame=5))
                s.wait_for(lambda: s.metric_sum("segmentd_ingest_prices_total") == 40, "40 price records counted")
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == 3, "3 fills processed")

                def priced():
                    m = s.metrics().get("segmentd_markouts_resolved_total", {})
                    out = {}
                    for labels, v in m.items():
                        kind = labels.split('priced_by="')[1].split('"')[0]
                        out[kind] = out.get(kind, 0) + v
                    return out
                s.wait_for(lambda: priced().get("market_data", 0) == 3, "3 markouts resolved by market data")
                by = priced()
                self.assertEqual((by.get("own_fill", 0), by.get("other_fill", 0)), (0, 0), by)
                m = s.metrics()
                errors = {k.split('reason="')[1].split('"')[0]: v
                          for k, v in m.get("segmentd_ingest_parse_errors_total", {}).items() if v}
                self.assertEqual(errors, {"unknown_field": 1, "future_time": 1}, errors)
                self.assertEqual(s.metric_sum("segmentd_ingest_fills_total", m), 3)
                # The marks rose after every buy: a positive markout (the buys' own prints would
                # have priced it at 0).
                acct = s.json("/v1/accounts/md-buyer")
                self.assertEqual(acct["fills"], 3)
                self.assertGreater(acct["features"]["raw"]["markout_bps"], 0, acct["features"]["raw"])
                self.assertIn("price refused: timestamp too far ahead", s.log_text())
            finally:
                s.stop()

    def test_segment_exposure_of_a_running_pipeline(self):
        """Issue 22, item 1: GET /v1/risk/exposure and its metrics from a running segmentd, against
        an independent computation from what was fed (core/features.md, "Segment exposure"): each
        account's position per instrument from its fills; a perpetual's delta in USD is its
        quantity × the price of its last fill, a call's is the quantity × Black-76 delta × forward
        at its last fill (and vega F·φ(d1)·√T, USD per 1.00 of vol), both written here from the
        formulas, not from the C++. The market makers end flat and hold nothing.

        The venues' open interest comes as native price records after the fills; a segment's share
        of it is its open positions, long and short, over 2 × the open interest of the instruments
        that have one. The publisher's `model` messages carry the exposure of the latest scan."""
        names = population()
        lines, t_end = feed_lines(names, T0)
        qty, last = {}, {}  # (account, symbol) -> signed quantity; account -> last fill
        for line in lines:
            f = json.loads(line)
            key = (f["account"], f["symbol"])
            qty[key] = qty.get(key, 0.0) + (f["qty"] if f["side"] == "buy" else -f["qty"])
            last[f["account"]] = f
        open_interest = {("deribit", "BTC-PERPETUAL"): 10.0, ("binance", "BTCUSDT"): 2000.0,
                         ("deribit", "BTC-27DEC24-100000-C"): 500.0}
        index_usd = 95000.0
        price_lines = [json.dumps({"record": "price", "ts_ns": t_end, "venue": venue, "symbol": symbol,
                                   "underlying_price": index_usd, "open_interest": oi})
                       for (venue, symbol), oi in open_interest.items()]
        oi_total = sum(open_interest.values())
        expiry = 1_735_286_400_000_000_000  # 2024-12-27 08:00 UTC, BTC-27DEC24-100000-C
        year_ns = 365.25 * 86400e9

        def greeks(name):
            """(delta USD, vega USD, gross) of the account's positions as the definitions say."""
            delta = vega = gross = 0.0
            for (acct, symbol), q in qty.items():
                if acct != name or abs(q) < 1e-12:
                    continue
                f = last[name]
                if symbol.endswith("-C"):
                    fwd, strike, sigma = f["underlying_price"], 100000.0, f["iv"]
                    t = (expiry - f["ts_ns"]) / year_ns
                    d1 = (math.log(fwd / strike) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
                    n_d1 = 0.5 * (1.0 + math.erf(d1 / math.sqrt(2.0)))
                    pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
                    d, v = q * n_d1 * fwd, q * fwd * pdf * math.sqrt(t)
                else:
                    d, v = q * f["price"], 0.0
                delta += d
                vega += v
                gross += abs(d)
            return delta, vega, gross

        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work, extra='[risk]\nexposure_interval = "1s"\n')
            try:
                s.start()
                self.assertEqual(s.http("/v1/risk/exposure")[0], 401)  # a /v1 endpoint: token needed
                asyncio.run(s.feed(lines + price_lines))
                s.wait_for(lambda: s.http("/readyz")[0] == 200, "the model")
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == len(lines),
                           "every fill processed")
                s.wait_for(lambda: s.metric_sum("segmentd_ingest_prices_total") == len(price_lines),
                           "every price record")

                def consistent():
                    """The exposure and every account's segment, read until a re-read agrees."""
                    before = {n: s.json(f"/v1/accounts/{n}")["segment"] for n in names}
                    time.sleep(1.1)  # past the report's one-second reuse: a fresh scan
                    doc = s.json("/v1/risk/exposure")
                    after = {n: s.json(f"/v1/accounts/{n}")["segment"] for n in names}
                    return (doc, after) if before == after else None

                got = None
                for _ in range(20):
                    got = consistent()
                    if got:
                        break
                self.assertIsNotNone(got, "segments kept moving")
                doc, segment_of = got
                self.assertEqual(doc["accounts_scanned"], len(names))
                expected = {}
                for n in names:
                    d, v, g = greeks(n)
                    if g == 0 and v == 0:
                        continue
                    e = expected.setdefault(segment_of[n], {"accounts": 0, "net": 0.0, "gross": 0.0, "vega": 0.0,
                                                            "grosses": {}})
                    e["accounts"] += 1
                    e["net"] += d
                    e["gross"] += g
                    e["vega"] += v
                    e["grosses"][n] = g
                    e["held"] = e.get("held", 0.0) + sum(abs(q) for (a, _), q in qty.items() if a == n)
                self.assertEqual(sorted(str(x["segment"]) for x in doc["segments"]),
                                 sorted(str(k) for k in expected), doc)
                close = lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
                metrics = s.metrics()
                for seg in doc["segments"]:
                    e = expected[seg["segment"]]
                    where = f"segment {seg['segment']} ({seg['label']})"
                    self.assertEqual(seg["accounts"], e["accounts"], where)
                    self.assertEqual(seg["positions"], e["accounts"], where)  # one instrument each
                    self.assertTrue(close(seg["net_delta_usd"], e["net"]), (where, seg["net_delta_usd"], e["net"]))
                    self.assertTrue(close(seg["gross_delta_usd"], e["gross"]), (where, seg["gross_delta_usd"]))
                    self.assertTrue(close(seg["net_vega_usd"], e["vega"]), (where, seg["net_vega_usd"], e["vega"]))
                    ranked = sorted(e["grosses"].values(), reverse=True)
                    for top in (1, 5, 10):
                        share = sum(ranked[:top]) / e["gross"]
                        self.assertTrue(close(seg["concentration"][f"top{top}"], share), (where, top))
                    self.assertEqual(len(seg["largest_accounts"]), min(10, e["accounts"]), where)
                    for i, a in enumerate(seg["largest_accounts"]):
                        self.assertTrue(close(a["gross_delta_usd"], ranked[i]), (where, i))
                        self.assertTrue(close(a["gross_delta_usd"], e["grosses"][a["account"]]), (where, a))
                    self.assertEqual([u["underlying"] for u in seg["underlyings"]], ["BTC"], where)
                    u = seg["underlyings"][0]
                    self.assertTrue(close(u["net_delta_usd"], e["net"]), where)
                    self.assertTrue(close(u["long_delta_usd"] - u["short_delta_usd"], e["gross"]), where)
                    # Every instrument held has an open interest, and BTC is the only underlying.
                    share = e["held"] / (2.0 * oi_total)
                    self.assertTrue(close(u["open_interest_share"], share), (where, u["open_interest_share"], share))
                    self.assertTrue(close(seg["open_interest_share"], share), (where, seg["open_interest_share"]))
                    # The same figures on /metrics (labelled by segment id and label).
                    sid = "none" if seg["segment"] is None else str(seg["segment"])
                    series = {k: v for k, v in metrics.get("segmentd_segment_delta_usd", {}).items()
                              if f'segment="{sid}"' in k}
                    net = [v for k, v in series.items() if 'side="net"' in k]
                    self.assertEqual(len(net), 1, series)
                    self.assertTrue(close(net[0], e["net"]), (where, net, e["net"]))
                self.assertEqual(doc["open_interest"], [{"underlying": "BTC", "open_interest": oi_total,
                                                         "open_interest_usd": oi_total * index_usd,
                                                         "instruments": 3}])
                held_all = sum(abs(q) for q in qty.values())
                shares = [seg["open_interest_share"] for seg in doc["segments"]]
                self.assertTrue(close(sum(shares), held_all / (2.0 * oi_total)), shares)
                oi_series = metrics.get("segmentd_segment_open_interest_share", {})
                self.assertTrue(close(sum(v for k, v in oi_series.items() if 'underlying="BTC"' in k),
                                      held_all / (2.0 * oi_total)), oi_series)
                # /v1/segments shows the same scan beside the model, in short.
                for _ in range(20):
                    ex = s.json("/v1/risk/exposure")
                    seg_doc = s.json("/v1/segments")
                    if seg_doc["exposure"] and seg_doc["exposure"]["scanned_at"] == ex["scanned_at"]:
                        break
                self.assertEqual(seg_doc["exposure"]["scanned_at"], ex["scanned_at"])
                self.assertEqual([(x["segment"], x["accounts"], x["gross_delta_usd"], x["net_delta_usd"],
                                   x["net_vega_usd"], x["top5_share"]) for x in seg_doc["exposure"]["segments"]],
                                 [(x["segment"], x["accounts"], x["gross_delta_usd"], x["net_delta_usd"],
                                   x["net_vega_usd"], x["concentration"]["top5"]) for x in ex["segments"]])
                self.assertTrue(seg_doc["ready"] and seg_doc["model"])
                # The option sellers are short vega and delta; the directional buyers long delta.
                opt_seg = segment_of["opt-0"]
                self.assertLess(expected[opt_seg]["vega"], 0)
                self.assertGreater(expected[segment_of["dir-0"]]["net"], 0)
                self.assertGreater(s.metric_sum("segmentd_exposure_scan_seconds", metrics), 0)

                # The publisher's `model` messages carry the latest periodic scan ([risk]
                # exposure_interval = 1s here). A market maker trades ETH there and back to make a
                # new model version; the BTC figures summed over segments are the fed book's
                # whatever the segments are.
                port = s.json("/v1/overview")["publisher"]["port"]
                after_ns = time.time_ns()  # everything fed is processed: any scan from now holds it all
                time.sleep(1.5)  # a periodic scan in between
                probe = [json.dumps({"venue": "deribit", "account": "mm-0", "symbol": "ETH-PERPETUAL",
                                     "liquidity": "maker", "side": side, "qty": 0.1, "price": 3000.0,
                                     "underlying_price": 3000.0, "ts_ns": t_end + (1 + i) * 1_000_000_000,
                                     "trade_id": f"probe-{i}"}) for i, side in enumerate(("buy", "sell"))]

                async def model_with_exposure():
                    async with websockets.connect(f"ws://127.0.0.1:{port}/",
                                                  extra_headers={"Authorization": f"Bearer {PUBLISHER_TOKEN}"},
                                                  max_queue=None) as ws:
                        await ws.send(json.dumps({"op": "subscribe", "filter": {"accounts": ["nobody"]}}))
                        await s.feed(probe)
                        while True:
                            m = json.loads(await asyncio.wait_for(ws.recv(), 60))
                            if m["type"] == "model" and m["exposure"] and m["exposure"]["scanned_at"] > after_ns:
                                return m

                m = asyncio.run(model_with_exposure())
                ex = m["exposure"]
                btc = [u for seg in ex["segments"] for u in seg["underlyings"] if u["underlying"] == "BTC"]
                want_net = sum(e["net"] for e in expected.values())
                want_gross = sum(e["gross"] for e in expected.values())
                self.assertTrue(close(sum(u["net_delta_usd"] for u in btc), want_net), (btc, want_net))
                self.assertTrue(close(sum(u["gross_delta_usd"] for u in btc), want_gross), (btc, want_gross))
                self.assertTrue(close(sum(u["open_interest_share"] for u in btc), held_all / (2.0 * oi_total)), btc)
                self.assertTrue(close(sum(x["open_interest_share"] for x in ex["segments"]),
                                      held_all / (2.0 * oi_total)), ex["segments"])
                self.assertTrue(all(x["open_notional_usd"] is not None and x["net_gamma_usd"] is not None
                                    for x in ex["segments"]), ex["segments"])
                self.assertGreaterEqual(ex["as_of"], max(f["ts_ns"] for f in last.values()), ex)
            finally:
                s.stop()

    def test_shock_scenarios_of_a_running_pipeline(self):
        """Issue 22, item 2: GET /v1/risk/scenarios and its metrics from a running segmentd, against
        an independent computation (core/features.md, "Shock scenarios"): each account's positions
        from its fills, revalued at the index price fed last (92,000) with Black-76 written here
        (the call at the 60 % vol its fills carried, shifted by the shock's vol points) and
        linearly for the perpetuals; margin = 0.1 × gross delta × the segment's calm margin
        multiplier (from /v1/segments), an account over margin when its loss exceeds it; for the
        accounts whose venue stated a margin (a native end of positions with margin_usd, after a
        position record restating what they hold), that margin × the multiplier instead. The same
        figures are published every second as a `risk` message (item 2), with each segment's
        dynamic margin (item 4: every segment here has the fallback policy, multiplier 1 and
        dynamic_margin_cap 4): clamp(worst loss / (0.1 × gross delta), 1, 4)."""
        names = population()
        lines, ts = feed_lines(names, T0)
        index, as_of = 92000.0, ts + 10**9
        lines.append(json.dumps({"record": "price", "ts_ns": as_of, "venue": "binance", "symbol": "BTCUSDT",
                                 "mark_price": index, "underlying_price": index}))
        qty, last = {}, {}
        for line in lines[:-1]:
            f = json.loads(line)
            key = (f["account"], f["symbol"])
            qty[key] = qty.get(key, 0.0) + (f["qty"] if f["side"] == "buy" else -f["qty"])
            last[key] = f
        stated = {f"dir-{i}": 1000.0 * (i + 1) for i in range(7)}  # the venue's margin, USD
        margin_lines = []
        for name, margin_usd in stated.items():
            margin_lines.append(json.dumps({"record": "position", "ts_ns": as_of, "venue": "binance", "account": name,
                                            "symbol": "BTCUSDT", "qty": qty[(name, "BTCUSDT")],
                                            "mark_price": 95000.0}))
            margin_lines.append(json.dumps({"record": "positions_end", "ts_ns": as_of, "venue": "binance",
                                            "account": name, "margin_usd": margin_usd}))
        expiry, year_ns, strike = 1_735_286_400_000_000_000, 365.25 * 86400e9, 100000.0
        ncdf = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

        def call(fwd, sigma, t):
            d1 = (math.log(fwd / strike) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
            return fwd * ncdf(d1) - strike * ncdf(d1 - sigma * math.sqrt(t))

        def account(name, shocks):
            """(gross delta USD at the fills, P&L per shock, dollar gamma, open notional) of the
            account's positions."""
            gross, pnl, gamma, notional = 0.0, [0.0] * len(shocks), 0.0, 0.0
            for (acct, symbol), q in qty.items():
                if acct != name or abs(q) < 1e-12:
                    continue
                f = last[(acct, symbol)]
                if symbol.endswith("-C"):
                    t_fill = (expiry - f["ts_ns"]) / year_ns
                    d1 = (math.log(f["underlying_price"] / strike) + 0.18 * t_fill) / (0.6 * math.sqrt(t_fill))
                    gross += abs(q * ncdf(d1) * f["underlying_price"])
                    t = (expiry - as_of) / year_ns
                    for i, sh in enumerate(shocks):
                        sigma = max(0.6 + sh["vol_points"] / 100.0, 0.01)
                        pnl[i] += q * (call(index * (1 + sh["price"]), sigma, t) - call(index, 0.6, t))
                    d1_now = (math.log(index / strike) + 0.18 * t) / (0.6 * math.sqrt(t))
                    pdf = math.exp(-0.5 * d1_now * d1_now) / math.sqrt(2.0 * math.pi)
                    gamma += q * pdf / (index * 0.6 * math.sqrt(t)) * index * index / 100.0
                    notional += abs(q) * index
                else:
                    gross += abs(q * f["price"])
                    notional += abs(q) * index
                    for i, sh in enumerate(shocks):
                        pnl[i] += q * index * sh["price"]
            return gross, pnl, gamma, notional

        extra = """
[risk]
publish_interval = "1s"
[[clusterer.policies]]
label = "no-such-label"
[clusterer.fallback_policy]
margin_multiplier = 1.0
dynamic_margin_cap = 4.0
"""
        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work, extra)
            try:
                s.start()
                self.assertEqual(s.http("/v1/risk/scenarios")[0], 401)  # a /v1 endpoint: token needed
                asyncio.run(s.feed(lines))
                s.wait_for(lambda: s.http("/readyz")[0] == 200, "the model")
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == len(lines) - 1,
                           "every fill processed")
                asyncio.run(s.feed(margin_lines))

                def venue_margins():
                    time.sleep(1.1)  # past the one-second reuse: a fresh scan
                    return sum(x["venue_margin_accounts"] for x in s.json("/v1/risk/scenarios")["segments"])

                s.wait_for(lambda: venue_margins() == len(stated), "the venue's margins")
                got = None
                for _ in range(20):
                    before = {n: s.json(f"/v1/accounts/{n}")["segment"] for n in names}
                    time.sleep(1.1)  # past the one-second reuse: a fresh scan
                    doc, model = s.json("/v1/risk/scenarios"), s.json("/v1/segments")["model"]
                    after = {n: s.json(f"/v1/accounts/{n}")["segment"] for n in names}
                    if before == after:
                        got = (doc, model, after)
                        break
                self.assertIsNotNone(got, "segments kept moving")
                doc, model, segment_of = got
                shocks = doc["shocks"]
                self.assertEqual(len(shocks), 34)
                self.assertEqual((doc["as_of"], doc["regime"], doc["base_margin_rate"]), (as_of, "calm", 0.1))
                self.assertEqual((doc["options_assumed_vol"], doc["positions_approximated"]), (0, 0), doc)
                multiplier = {seg["id"]: seg["policy"]["margin_multiplier"] for seg in model["segments"]}
                expected = {}
                for n in names:
                    gross, pnl, gamma, notional = account(n, shocks)
                    if gross == 0:
                        continue
                    margin = stated[n] if n in stated else 0.1 * gross
                    margin *= multiplier.get(segment_of[n], 1.0)
                    e = expected.setdefault(segment_of[n], {"accounts": 0, "gross": 0.0, "margin": 0.0, "stated": 0,
                                                            "gamma": 0.0, "notional": 0.0,
                                                            "pnl": [0.0] * len(shocks), "over": [0] * len(shocks),
                                                            "liq": [0.0] * len(shocks)})
                    e["accounts"] += 1
                    e["stated"] += n in stated
                    e["gross"] += gross
                    e["margin"] += margin
                    e["gamma"] += gamma
                    e["notional"] += notional
                    for i, p in enumerate(pnl):
                        e["pnl"][i] += p
                        if -p > margin:
                            e["over"][i] += 1
                            e["liq"][i] += gross
                self.assertEqual(sorted(str(x["segment"]) for x in doc["segments"]), sorted(str(k) for k in expected))
                close = lambda a, b: math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-3)
                for seg in doc["segments"]:
                    e = expected[seg["segment"]]
                    where = f"segment {seg['segment']} ({seg['label']})"
                    self.assertEqual(seg["accounts"], e["accounts"], where)
                    self.assertTrue(close(seg["gross_delta_usd"], e["gross"]), (where, seg["gross_delta_usd"], e))
                    self.assertTrue(close(seg["margin_usd"], e["margin"]), (where, seg["margin_usd"], e["margin"]))
                    self.assertEqual(seg["venue_margin_accounts"], e["stated"], where)
                    self.assertTrue(close(seg["net_gamma_usd"], e["gamma"]), (where, seg["net_gamma_usd"], e["gamma"]))
                    self.assertTrue(close(seg["open_notional_usd"], e["notional"]), (where, seg["open_notional_usd"]))
                    for i, row in enumerate(seg["scenarios"]):
                        self.assertEqual(row["shock"], shocks[i]["shock"])
                        self.assertTrue(close(row["pnl_usd"], e["pnl"][i]), (where, row, e["pnl"][i]))
                        self.assertEqual(row["accounts_over_margin"], e["over"][i], (where, row))
                        self.assertTrue(close(row["liquidation_usd"], e["liq"][i]), (where, row, e["liq"][i]))
                # The option sellers lose when the market rallies with vol up; the directional
                # buyers lose in a crash, some beyond their margin.
                shock_index = {sh["shock"]: i for i, sh in enumerate(shocks)}
                opt = expected[segment_of["opt-0"]]
                self.assertLess(opt["pnl"][shock_index["spot+20%/vol+25"]], 0)
                crash = shock_index["spot-20%"]
                self.assertGreater(expected[segment_of["dir-0"]]["over"][crash], 0)
                total = sum(e["pnl"][crash] for e in expected.values())
                self.assertTrue(close(doc["total"][crash]["pnl_usd"], total), doc["total"][crash])
                metrics = s.metrics()
                self.assertTrue(close(metrics["segmentd_scenario_pnl_usd"]['{shock="spot-20%"}'], total),
                                metrics["segmentd_scenario_pnl_usd"])
                self.assertEqual(s.metric_sum("segmentd_scenario_accounts_over_margin", metrics),
                                 sum(sum(e["over"]) for e in expected.values()))

                # The publisher's stream: a `risk` message with the same figures, and the margins.
                port = s.json("/v1/overview")["publisher"]["port"]

                async def risk_message():
                    async with websockets.connect(f"ws://127.0.0.1:{port}/",
                                                  extra_headers={"Authorization": f"Bearer {PUBLISHER_TOKEN}"},
                                                  max_queue=None) as ws:
                        await ws.send(json.dumps({"op": "subscribe", "filter": {"accounts": ["nobody"]}}))
                        while True:
                            m = json.loads(await asyncio.wait_for(ws.recv(), 60))
                            if m["type"] == "risk":
                                return m

                risk = asyncio.run(risk_message())
                self.assertEqual((risk["as_of"], risk["regime"]), (as_of, "calm"))
                self.assertEqual(risk["shocks"], [sh["shock"] for sh in shocks])
                self.assertEqual(sorted(str(x["segment"]) for x in risk["segments"]), sorted(str(k) for k in expected))
                raised = 0
                for seg in risk["segments"]:
                    e = expected[seg["segment"]]
                    where = f"risk, segment {seg['segment']}"
                    self.assertEqual(seg["accounts"], e["accounts"], where)
                    self.assertEqual(seg["venue_margin_accounts"], e["stated"], where)
                    self.assertTrue(close(seg["margin_usd"], e["margin"]), (where, seg["margin_usd"], e["margin"]))
                    self.assertTrue(all(close(a, b) for a, b in zip(seg["pnl_usd"], e["pnl"])), where)
                    self.assertEqual(seg["accounts_over_margin"], e["over"], where)
                    worst = max(0.0, -min(e["pnl"]))
                    want = min(4.0, max(1.0, worst / (0.1 * e["gross"])))
                    self.assertTrue(seg["dynamic_margin"], where)
                    self.assertTrue(close(seg["margin_multiplier"], want), (where, seg["margin_multiplier"], want))
                    raised += want > 1.0
                self.assertGreater(raised, 0, "some segment's worst loss is beyond its margin: raised")
            finally:
                s.stop()

    def test_a_simulated_crash_switches_the_regime_and_the_policies(self):
        """Issue 22, items 3 and 5: the built-in simulator's market crashes 15 % over 3 minutes
        after 36 minutes of event time (240 simulated seconds a wall second). The subscriber of the
        publisher sees, in seq order: no regime change while the market is calm (after the 30-min
        warm-up too), then regime changes to stressed and extreme within the crash, each listing
        every segment's policy in the new market regime; the segment changes after them carry
        that regime's policies; and after the crash, with hysteresis, the way back to calm."""
        crash_at_s, speedup = 36 * 60, 240
        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work, simulator=(f"crash@{crash_at_s}s:0.15/3m", speedup))
            try:
                s.start()
                port = s.json("/v1/overview")["publisher"]["port"]
                seen = []

                async def listen():
                    async with websockets.connect(f"ws://127.0.0.1:{port}/",
                                                  extra_headers={"Authorization": f"Bearer {PUBLISHER_TOKEN}"},
                                                  max_queue=None) as ws:
                        await ws.send(json.dumps({"op": "subscribe", "since_seq": 0, "batch": True}))
                        back_to_calm = False
                        while not back_to_calm:
                            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
                            for m in frame if isinstance(frame, list) else [frame]:
                                if "seq" in m and m["type"] in ("segment_change", "model", "regime_change"):
                                    seen.append(m)
                                back_to_calm = back_to_calm or (m["type"] == "regime_change" and
                                                                m["market"] == "calm")

                asyncio.run(listen())
                changes = [m for m in seen if m["type"] == "regime_change"]
                first_ts = min(m["ts"] for m in seen if m["type"] == "segment_change")
                crash_ns = first_ts + crash_at_s * 10**9
                self.assertGreaterEqual(changes[0]["ts"], crash_ns - 60 * 10**9,
                                        f"no switch in the calm half hour before the crash: {changes[0]}")
                self.assertLessEqual(changes[0]["ts"], crash_ns + 180 * 10**9, changes[0])
                markets = [m["market"] for m in changes]
                self.assertIn("extreme", markets, changes)
                self.assertEqual(markets[-1], "calm")
                self.assertTrue(all(m["underlying"] in ("BTC", "ETH") and m["reason"] for m in changes), changes)
                # Every regime change lists the latest model's segments with that regime's policies,
                # and every segment change after it until the next carries the same.
                model, market = None, "calm"
                checked = 0
                for m in seen:
                    if m["type"] == "model":
                        model = {seg["id"]: seg for seg in m["segments"]}
                    elif m["type"] == "regime_change":
                        market = m["market"]
                        key = {"calm": "policy", "stressed": "stressed_policy", "extreme": "extreme_policy"}[market]
                        self.assertIsNotNone(model, "the model came first")
                        self.assertEqual({p["segment"]: p["policy"] for p in m["policies"]},
                                         {i: seg[key] for i, seg in model.items()}, m)
                    elif model and m["to"] in model:
                        key = {"calm": "policy", "stressed": "stressed_policy", "extreme": "extreme_policy"}[market]
                        self.assertEqual((m["regime"], m["policy"]), (market, model[m["to"]][key]), m)
                        checked += market != "calm"
                self.assertGreater(checked, 0, "segment changes were published under stress")
                doc = s.json("/v1/risk/regime")
                self.assertEqual(doc["switches"], len(changes))
            finally:
                s.stop()

    def test_a_crash_in_the_index_switches_the_market_regime(self):
        """Issue 22, item 3: index prices on a feed (native price records) drive the market
        regime (core/market_regime.h). 40 minutes of a calm random walk, then the index falls
        12 % in two minutes: /v1/risk/regime goes stressed then extreme within the crash, with
        the reason, the metrics say so, and the change is logged. The calm part alone switches
        nothing."""
        import random
        rng = random.Random(3)
        sec = 10**9
        price, lines, t = 95000.0, [], T0
        for i in range(40 * 60):  # calm: 1e-4 a second
            price *= math.exp(rng.gauss(0.0, 1e-4))
            t += sec
            lines.append(json.dumps({"record": "price", "ts_ns": t, "venue": "binance", "symbol": "BTCUSDT",
                                     "mark_price": price, "underlying_price": price}))
        calm_lines = len(lines)
        crash_start = t
        for i in range(120):  # -12 %
            price *= math.exp(math.log(0.88) / 120 + rng.gauss(0.0, 1e-4))
            t += sec
            lines.append(json.dumps({"record": "price", "ts_ns": t, "venue": "binance", "symbol": "BTCUSDT",
                                     "mark_price": price, "underlying_price": price}))
        lines.append(json.dumps({"record": "price", "ts_ns": t + sec, "venue": "binance", "symbol": "BTCUSDT",
                                 "mark_price": price, "underlying_price": price}))
        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work)
            try:
                s.start()
                self.assertEqual(s.http("/v1/risk/regime")[0], 401)  # a /v1 endpoint: token needed
                asyncio.run(s.feed(lines[:calm_lines], per_frame=200))
                s.wait_for(lambda: s.json("/v1/risk/regime")["index_prices"] == calm_lines, "the calm part")
                doc = s.json("/v1/risk/regime")
                self.assertEqual((doc["market"], doc["switches"], doc["events"]), ("calm", 0, []), doc)
                btc = doc["underlyings"][0]
                self.assertEqual((btc["underlying"], btc["regime"], btc["warm"]), ("BTC", "calm", True), btc)
                self.assertTrue(0.5 < btc["vol_ratio"] < 1.6, btc)
                self.assertAlmostEqual(btc["slow_vol"], 1e-4, delta=3e-5)
                # The publisher's stream carries each change (issue 22, item 3): a subscriber opened now.
                port = s.json("/v1/overview")["publisher"]["port"]
                changes = []

                async def crash_and_listen():
                    async with websockets.connect(f"ws://127.0.0.1:{port}/",
                                                  extra_headers={"Authorization": f"Bearer {PUBLISHER_TOKEN}"},
                                                  max_queue=None) as ws:
                        await ws.send(json.dumps({"op": "subscribe", "since_seq": 0}))
                        await s.feed(lines[calm_lines:], per_frame=200)
                        while len(changes) < 2:
                            m = json.loads(await asyncio.wait_for(ws.recv(), 60))
                            if m["type"] == "regime_change":
                                changes.append(m)

                asyncio.run(crash_and_listen())
                s.wait_for(lambda: s.json("/v1/risk/regime")["market"] == "extreme", "the extreme regime")
                doc = s.json("/v1/risk/regime")
                ev = doc["events"]
                self.assertEqual([(e["from"], e["to"]) for e in ev], [("calm", "stressed"), ("stressed", "extreme")], ev)
                self.assertTrue(all(e["underlying"] == "BTC" and e["reason"] for e in ev), ev)
                self.assertLessEqual(ev[0]["time"] - crash_start, 30 * sec, ev)
                self.assertLessEqual(ev[1]["time"] - crash_start, 120 * sec, ev)
                m = s.metrics()
                self.assertEqual(s.metric_sum("segmentd_market_regime", m), 2)
                self.assertEqual(s.metric_sum("segmentd_market_regime_switches_total", m), 2)
                self.assertEqual(m["segmentd_underlying_regime"]['{underlying="BTC"}'], 2, m["segmentd_underlying_regime"])
                self.assertIn("market regime changed", s.log_text())
                # The same two changes on the stream, in order, with the market regime the policies
                # now follow (no model yet: no segment policies to list).
                self.assertEqual([(c["underlying"], c["from"], c["to"], c["market_from"], c["market"]) for c in changes],
                                 [("BTC", "calm", "stressed", "calm", "stressed"),
                                  ("BTC", "stressed", "extreme", "stressed", "extreme")], changes)
                self.assertEqual([(c["ts"], c["reason"]) for c in changes], [(e["time"], e["reason"]) for e in ev])
                self.assertEqual(changes[1]["seq"], changes[0]["seq"] + 1)
                self.assertEqual([c["policies"] for c in changes], [[], []])
            finally:
                s.stop()

    def test_console_login_views_and_feed(self):
        """The console (issue 21) from a running segmentd: the login form and its session cookie,
        the page's headers, /v1/overview and /v1/map against what was fed, the publisher's
        websocket opened with the session, and logout. (tests/console/ drives the page itself in
        a browser.)"""
        names = population()
        hostile = "<img src=x onerror=alert(1)>"
        lines, t = feed_lines(names, T0)
        # The hostile name trades like the option sellers.
        for i, f in enumerate(fills_of("opt-0", 0)):
            lines.append(json.dumps(dict(f, account=hostile, trade_id=f"hostile-{i}", ts_ns=t)))
            t += 1_000_000_000
        more, _ = feed_lines(names, t)
        more = [json.dumps(dict(json.loads(x), trade_id=f"again-{i}")) for i, x in enumerate(more)]
        accounts = names + [hostile]
        with tempfile.TemporaryDirectory() as work:
            s = Segmentd(work)
            try:
                s.start()
                asyncio.run(s.feed(lines + more))
                total = len(lines) + len(more)
                s.wait_for(lambda: s.metric_sum("segmentd_shard_fills_processed_total") == total,
                           f"{total} fills processed")
                s.wait_for(lambda: s.json("/v1/overview")["sample_size"] == len(accounts),
                           f"the population sample to hold the {len(accounts)} accounts")

                # 1. No session: the login form (200), and the data is refused.
                status, headers, body = console_request(s, "GET", "/")
                self.assertEqual(status, 200)
                self.assertIn('action="/console/login"', body)
                self.assertIn('name="token"', body)
                csp = headers.get("Content-Security-Policy", "")
                for directive in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"):
                    self.assertIn(directive, csp)
                self.assertNotIn("unsafe-inline", csp)
                for path in ("/v1/overview", "/v1/map", "/v1/segments"):
                    self.assertEqual(s.http(path)[0], 401, path)
                failures = s.metric_sum("segmentd_admin_auth_failures_total")

                # 2. A wrong token: 401, the form again with its error, no cookie; counted and logged.
                status, headers, body = console_request(s, "POST", "/console/login", form={"token": "wrong"})
                self.assertEqual(status, 401)
                self.assertIn("not valid", body)
                self.assertNotIn("Set-Cookie", headers)
                self.assertEqual(s.metric_sum("segmentd_admin_auth_failures_total"), failures + 1)
                self.assertIn("bad token at the console's login", s.log_text())
                # A login posted from another site's page is refused whatever the token.
                status, headers, _ = console_request(s, "POST", "/console/login", form={"token": ADMIN_TOKEN},
                                                     origin="http://evil.example")
                self.assertEqual(status, 403)
                self.assertNotIn("Set-Cookie", headers)

                # 3. The right token: a session cookie the page's script cannot read.
                status, headers, _ = console_request(s, "POST", "/console/login", form={"token": ADMIN_TOKEN},
                                                     origin=f"http://127.0.0.1:{s.admin_port}")
                self.assertEqual(status, 303)
                self.assertEqual(headers.get("Location"), "/")
                cookie = headers["Set-Cookie"]
                attrs = [a.strip() for a in cookie.split(";")]
                self.assertRegex(attrs[0], r"^segmentd_session=[0-9a-f]{64}$")
                for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
                    self.assertIn(attr, attrs)
                session = attrs[0]

                # 4. With it: the page, its script, the data. HTML files only through "/".
                overview = json.loads(console_request(s, "GET", "/v1/overview", cookie=session)[2])
                pub = overview["publisher"]
                status, headers, body = console_request(s, "GET", "/", cookie=session)
                self.assertEqual(status, 200)
                self.assertIn('src="/console/console.js"', body)
                self.assertIn(f"connect-src 'self' ws://127.0.0.1:{pub['port']};",
                              headers["Content-Security-Policy"])
                status, headers, body = console_request(s, "GET", "/console/console.js")
                self.assertEqual(status, 200)
                self.assertTrue(headers["Content-Type"].startswith("text/javascript"))
                self.assertGreater(len(body), 1000)
                self.assertEqual(console_request(s, "GET", "/console/index.html", cookie=session)[0], 404)
                self.assertEqual(console_request(s, "GET", "/console/../../etc/passwd")[0], 404)
                # The console changes nothing: POST /v1/checkpoint takes the token only.
                self.assertEqual(console_request(s, "POST", "/v1/checkpoint", cookie=session)[0], 401)

                # 5. /v1/overview against the feed, computed here from what was fed.
                model = s.json("/v1/segments")["model"]
                self.assertEqual(overview["model_version"] >= 1, True)
                self.assertEqual(overview["segments"], K)
                self.assertEqual(overview["throughput"]["fills_total"], total)
                self.assertEqual(overview["throughput"]["accounts"], len(accounts))
                self.assertTrue(overview["readiness"]["ready"])
                self.assertEqual(pub["path"], "/v1/stream")
                self.assertGreaterEqual(pub["seq"], len(accounts))
                # maker_ratio is 1 for the 14 market makers and 0 for the 29 others: the
                # percentiles 0..65 are 0 and 70..100 are 1 (type-7 quantiles of 43 values).
                q = overview["quantiles"]
                self.assertEqual(len(q), 16)
                for value, want in zip(q["maker_ratio"], [0.0] * 14 + [1.0] * 7):
                    self.assertAlmostEqual(value, want, places=9)
                for feature, values in q.items():
                    self.assertEqual(len(values), 21, feature)
                    self.assertEqual(values, sorted(values), feature)
                self.assertTrue(overview["history"])
                last = overview["history"][-1]
                self.assertEqual({int(k) for k in last["sizes"]}, {seg["id"] for seg in model["segments"]})
                self.assertLessEqual(sum(last["sizes"].values()), len(accounts))

                # 6. /v1/map: every account once, on the segment the shards gave it; the same
                # picture on a second read (points do not jump between reads).
                view = json.loads(console_request(s, "GET", "/v1/map", cookie=session)[2])
                self.assertEqual(sorted(p["account"] for p in view["points"]), sorted(accounts))
                self.assertEqual({c["segment"] for c in view["centroids"]}, {seg["id"] for seg in model["segments"]})
                for p in view["points"]:
                    acct = s.json("/v1/accounts/" + urllib.parse.quote(p["account"], safe=""))
                    self.assertEqual(p["segment"], acct["segment"], p)
                    self.assertTrue(math.isfinite(p["x"]) and math.isfinite(p["y"]), p)
                again = json.loads(console_request(s, "GET", "/v1/map", cookie=session)[2])
                if again["projection_version"] == view["projection_version"]:
                    self.assertEqual(again["points"], view["points"])

                # 7. The live feed: the publisher's websocket with the session, from the page's origin.
                origin = f"http://127.0.0.1:{s.admin_port}"
                first = asyncio.run(subscribe_with(pub["port"], {"Cookie": session}, origin))
                self.assertEqual(first["type"], "subscribed")
                for headers_, origin_ in (({"Cookie": session}, None), ({"Cookie": session}, "http://evil.example"),
                                          ({"Cookie": "segmentd_session=" + "0" * 64}, origin)):
                    with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                        asyncio.run(subscribe_with(pub["port"], headers_, origin_))
                    self.assertEqual(refused.exception.status_code, 401)

                # 8. Logout: the cookie is cleared and the session no longer opens anything.
                status, headers, _ = console_request(s, "POST", "/console/logout", cookie=session,
                                                     origin=origin)
                self.assertEqual(status, 303)
                self.assertIn("Max-Age=0", headers["Set-Cookie"])
                status, _, body = console_request(s, "GET", "/", cookie=session)
                self.assertIn('action="/console/login"', body)
                self.assertEqual(console_request(s, "GET", "/v1/overview", cookie=session)[0], 401)
                with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                    asyncio.run(subscribe_with(pub["port"], {"Cookie": session}, origin))
            finally:
                s.stop()


def console_request(s, method, path, cookie=None, form=None, origin=None):
    """(status, headers, body) of a request to the admin server, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", s.admin_port, timeout=30)
    headers = {}
    body = None
    if cookie:
        headers["Cookie"] = cookie
    if origin:
        headers["Origin"] = origin
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    out = (res.status, dict(res.getheaders()), res.read().decode())
    conn.close()
    return out


async def subscribe_with(port, headers, origin):
    """The first message of a subscription opened with these upgrade headers."""
    kwargs = {"extra_headers": headers, "max_queue": None}  # see restart_test.ws_messages
    if origin:
        kwargs["origin"] = origin
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/stream", **kwargs) as ws:
        await ws.send(json.dumps({"op": "subscribe", "since_seq": 0}))
        return json.loads(await asyncio.wait_for(ws.recv(), 30))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--segmentd", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v"] + [f"AdminApiTest.{t}" if not t.startswith("-") else t for t in rest])
