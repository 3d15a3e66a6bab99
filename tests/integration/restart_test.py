#!/usr/bin/env python3
"""Durable state, tried from the outside (issue 25, core/checkpoint.md).

  restart_test.py replay  --segmentd BIN --fillsim BIN --work DIR [--kills N]
      `segmentd replay --checkpoint-dir` killed with SIGKILL at N random points (each run resumes
      from the previous one's checkpoints) writes byte for byte the accounts file and the model of
      a run that never stopped.
  restart_test.py corrupt --segmentd BIN --work DIR
      `segmentd run`: a bit flip, a short file, another format version and another config are each
      refused with the file's path and reason; the previous checkpoint is used; with none valid the
      service exits 2, or starts empty with on_invalid = "start-empty".
  restart_test.py default --segmentd BIN --work DIR
      the default run (built-in simulator) restarted after SIGTERM and after SIGKILL keeps its
      segment ids, labels and policies, each account's fill count, and the publisher's seq.
  restart_test.py ingest --segmentd BIN --work DIR
      `segmentd run` with an ingest feed: fills sent before a SIGTERM and re-sent after the
      restart count once (the feed's de-duplication window is in the checkpoint).
  restart_test.py upgrade --segmentd BIN --work DIR [--fixture DIR]
      a checkpoint written by segmentd before the slow clock (tests/fixtures/checkpoints/one_clock,
      one clock per account) loads: every account's fills and fast features are what the old
      binary had, its slow clock starts from the fast one, and the same fills afterwards give
      the fast features the old binary computed from them. Rewritten by this build, it loads as
      it was written (core/checkpoint.md, "One-clock records").
  restart_test.py make-one-clock-fixture --segmentd OLD_BIN --work DIR --fixture DIR
      writes that fixture with a segmentd built before the slow clock (its README says which).

Every server binds 127.0.0.1 on ports the OS picked free. Exit 0 = pass.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


STARTED = []  # every segmentd this run started: a failed check must not leave one running


def fail(msg):
    print("FAIL: " + msg, flush=True)
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


# --- replay -----------------------------------------------------------------------------------


def replay_cmd(args, inp, out, model, ckpt=None, interval="40ms"):
    cmd = [args.segmentd, "replay", "--input", inp, "--out", out, "--model-out", model, "--config", args.config]
    if ckpt:
        cmd += ["--checkpoint-dir", ckpt, "--checkpoint-interval", interval]
    return cmd


def test_replay(args):
    work = args.work
    inp = os.path.join(work, "fills.ndjson")
    subprocess.run([args.fillsim, "--accounts", "3000", "--rate", "400", "--duration", str(args.fill_seconds), "--seed", "11",
                    "--out", inp], check=True, stdout=subprocess.DEVNULL)
    args.config = os.path.join(work, "replay.toml")
    with open(args.config, "w") as f:
        f.write("[shards]\ncount = 2\n[clusterer]\nmin_accounts = 500\nbatch_size = 256\n")
    ref_out, ref_model = os.path.join(work, "ref.ndjson"), os.path.join(work, "ref.model.json")
    t0 = time.monotonic()
    subprocess.run(replay_cmd(args, inp, ref_out, ref_model), check=True, stderr=subprocess.DEVNULL)
    full = time.monotonic() - t0
    ref_model_bytes = slurp(ref_model)
    check(b'"version"' in ref_model_bytes and len(slurp(ref_out)) > 0, f"uninterrupted replay ({full:.2f} s)")

    rng = random.Random(int(os.environ.get("SEGMENTD_RESTART_SEED", "25")))
    ckpt = os.path.join(work, "replay-state")
    shutil.rmtree(ckpt, ignore_errors=True)
    out, model = os.path.join(work, "out.ndjson"), os.path.join(work, "model.json")
    kills, resumed = 0, 0
    # Each attempt is killed at a random moment of its own run; the next one resumes from the
    # newest checkpoint. Some kills land before any checkpoint, some while one is written.
    while kills < args.kills:
        p = subprocess.Popen(replay_cmd(args, inp, out, model, ckpt), stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.05, max(0.1, full * 0.9)))
        if p.poll() is not None:
            err = p.stderr.read()
            if p.returncode != 0:
                fail("an attempt failed:\n" + err)
            # It finished before the kill: start over for this kill point.
            resumed += "resuming from" in err
            shutil.rmtree(ckpt, ignore_errors=True)
            continue
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
    p = subprocess.run(replay_cmd(args, inp, out, model, ckpt), stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        fail("the final attempt failed:\n" + p.stderr)
    resumed += "resuming from" in p.stderr
    check(resumed >= 1, f"the runs after a kill resumed from a checkpoint ({resumed} resumed)")
    check(slurp(out) == slurp(ref_out), f"accounts file byte-identical after {kills} SIGKILLs")
    check(slurp(model) == ref_model_bytes, f"model byte-identical after {kills} SIGKILLs")


# --- live service helpers -----------------------------------------------------------------------


class Service:
    def __init__(self, args, config_text, log_name):
        self.args = args
        self.admin = free_port()
        self.pub = free_port()
        self.config = os.path.join(args.work, log_name + ".toml")
        with open(self.config, "w") as f:
            f.write(config_text.format(admin=self.admin, pub=self.pub))
        self.log_path = os.path.join(args.work, log_name + ".log")

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.args.segmentd, "run", "--config", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        STARTED.append(self.proc)
        return self

    def run_to_exit(self, timeout=30):
        with open(self.log_path, "w") as log:
            p = subprocess.run([self.args.segmentd, "run", "--config", self.config], stdout=log,
                               stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, open(self.log_path).read()

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except (urllib.error.URLError, ConnectionError, OSError):
            return None, ""

    def post(self, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin}{path}", method="POST", data=b"")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_for(self, what, fn, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"segmentd exited ({self.proc.returncode}) waiting for {what}:\n" + open(self.log_path).read())
            v = fn()
            if v:
                return v
            time.sleep(0.2)
        fail(f"timed out waiting for {what}:\n" + open(self.log_path).read()[-3000:])

    def model(self):
        code, body = self.get("/v1/segments")
        if code != 200:
            return None
        m = json.loads(body).get("model") or {}
        return m if m.get("segments") else None

    def metric(self, name):
        code, body = self.get("/metrics")
        if code != 200:
            return None
        for line in body.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("segmentd did not stop")
        self.log.close()
        return self.proc.returncode, open(self.log_path).read()


# The servers on loopback ports Service picks, anonymous, and checkpoints in STATE.
SERVERS_AND_CHECKPOINT = """
[publisher]
port = {pub}
allow_anonymous = true
[admin]
port = {admin}
allow_anonymous = true
[checkpoint]
dir = "STATE"
interval = "INTERVAL"
on_invalid = "ON_INVALID"
"""

LIVE_CONFIG = """
[run]
summary_interval = "0s"
sim_accounts = 1500
sim_rate = 4000
sim_speedup = 120
[clusterer]
min_accounts = 400
""" + SERVERS_AND_CHECKPOINT


def live_config(state, interval="1h", on_invalid="refuse", extra=""):
    return (LIVE_CONFIG.replace("STATE", state).replace("INTERVAL", interval).replace("ON_INVALID", on_invalid)
            + extra)


def segments_of(model):
    return sorted((s["id"], s["label"], json.dumps(s.get("policy"), sort_keys=True)) for s in model["segments"])


def sample_accounts(svc, n=20):
    out = {}
    for i in range(0, 1500, 1500 // n):
        name = "acc%07d" % i
        code, body = svc.get("/v1/accounts/" + name)
        if code == 200:
            out[name] = json.loads(body)["fills"]
    return out


def recent_changes(svc, names):
    """Each account's recent segment changes (/v1/accounts/{id} recent_changes), as comparable tuples."""
    out = {}
    for name in names:
        code, body = svc.get("/v1/accounts/" + name)
        if code == 200:
            out[name] = [(c["ts"], c["model_version"], c["cause"], c["confidence"])
                         for c in json.loads(body)["recent_changes"]]
    return out


# --- corrupt ------------------------------------------------------------------------------------


def test_corrupt(args):
    state = os.path.join(args.work, "corrupt-state")
    shutil.rmtree(state, ignore_errors=True)
    # Two checkpoints: two runs stopped by SIGTERM.
    for i in range(2):
        svc = Service(args, live_config(state), f"corrupt-seed{i}").start()
        svc.wait_for("some fills", lambda: (svc.metric("segmentd_shard_fills_processed_total") or 0) > 1000 or None)
        code, log = svc.stop()
        check(code == 0 and "checkpoint written" in log, f"run {i + 1}: SIGTERM writes a checkpoint")
    files = sorted(f for f in os.listdir(state) if f.endswith(".sdc"))
    check(len(files) == 2, f"two checkpoint files: {files}")
    newest, older = os.path.join(state, files[1]), os.path.join(state, files[0])
    good_newest = slurp(newest)

    def restart(label, on_invalid="refuse", extra=""):
        return Service(args, live_config(state, on_invalid=on_invalid, extra=extra), label)

    # A bit flip in the middle of the newest: refused (checksum), the older one is used.
    data = bytearray(good_newest)
    data[len(data) // 2] ^= 0x10
    with open(newest, "wb") as f:
        f.write(data)
    svc = restart("corrupt-bitflip").start()
    svc.wait_for("admin", lambda: svc.get("/healthz")[0] == 200)
    code, log = svc.stop()
    check(newest in log and "checksum mismatch" in log and ("restored from " + older) in log,
          "bit flip: the file is named with 'checksum mismatch' and the previous checkpoint is restored")
    # That run wrote a new newest checkpoint at SIGTERM; put the corrupt cases on the two newest.
    files = sorted(f for f in os.listdir(state) if f.endswith(".sdc"))
    paths = [os.path.join(state, f) for f in files]
    cases = [
        ("short file", lambda b: b[: len(b) // 3], "truncated"),
        ("other version", lambda b: b[:8] + (99).to_bytes(4, "little") + b[12:], "format version 99"),
    ]
    for name, mutate, reason in cases:
        for p in paths:
            mutated = mutate(slurp(p) if name != "short file" else good_newest)
            with open(p, "wb") as f:
                f.write(mutated)
        code, log = restart("corrupt-" + name.replace(" ", "-")).run_to_exit()
        check(code == 2 and all(p in log for p in paths) and reason in log,
              f"{name}: every file named with '{reason}', exit 2 (got {code})")
    # start-empty: starts with nothing (and says so).
    svc = restart("corrupt-start-empty", on_invalid="start-empty").start()
    svc.wait_for("admin", lambda: svc.get("/healthz")[0] == 200)
    code, log = svc.stop()
    check("no valid checkpoint: starting empty" in log and "started empty" in log,
          "on_invalid = start-empty: the service starts with no state and says so")
    # Config changed: a valid checkpoint written with another half-life is refused.
    files = sorted(f for f in os.listdir(state) if f.endswith(".sdc"))
    for f in files[:-1]:
        os.remove(os.path.join(state, f))
    code, log = restart("corrupt-config", extra="[features]\nhalf_life = \"2h\"\n").run_to_exit()
    check(code == 2 and "another configuration" in log and os.path.join(state, files[-1]) in log,
          f"config fingerprint changed: refused with the path, exit 2 (got {code})")


# --- default run --------------------------------------------------------------------------------


async def ws_messages(port, since_seq=None, count=50, timeout=30):
    """Subscribes (unfiltered) and returns (subscribed, the next `count` seq-carrying messages)."""
    import websockets  # python3-websockets: /usr/bin/python3

    # max_queue=None: the client stops reading the socket once max_queue messages wait unread, and
    # the close handshake on leaving (the server's close frame behind the rest of a replay) would
    # then wait for its timeouts (2 x 30 s of this test, once).
    async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None, max_queue=None) as ws:
        req = {"op": "subscribe"}
        if since_seq is not None:
            req["since_seq"] = since_seq
        await ws.send(json.dumps(req))
        subscribed, got = None, []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
            if msg.get("type") == "subscribed":
                subscribed = msg
            elif msg.get("type") in ("segment_change", "model"):
                got.append(msg)
        return subscribed, got


def test_default(args):
    state = os.path.join(args.work, "default-state")
    shutil.rmtree(state, ignore_errors=True)
    # Models are published at most once an hour of event time (30 s here) besides events, so the
    # model read before the stop is, as a rule, the one the checkpoint holds.
    extra = "[clusterer]\npublish_interval = \"1h\"\nrestart_interval = \"0s\"\nmin_accounts = 400\n"
    config = live_config(state, interval="1s").replace("[clusterer]\nmin_accounts = 400\n", "") + extra
    for how in (signal.SIGTERM, signal.SIGKILL):
        svc = Service(args, config, f"default-{how.name}").start()
        svc.wait_for("a model", svc.model)
        time.sleep(3)  # fills after the model: accounts get assigned, the seq moves, checkpoints are written
        before = svc.model()
        before_accounts = sample_accounts(svc)
        before_seq = svc.metric("segmentd_publisher_last_seq") or 0
        before_changes = recent_changes(svc, before_accounts)
        if how == signal.SIGTERM:
            code, body = svc.post("/v1/checkpoint")
            written = json.loads(body)["last"] if code == 200 else {}
            check(code == 200 and written.get("ok") and written.get("trigger") == "request" and
                  os.path.exists(written.get("path", "")),
                  f"POST /v1/checkpoint writes one now: {written.get('path')} ({written.get('bytes')} bytes)")
            phases = written.get("phases", {})
            check(sorted(phases) == ["capture_seconds", "prefault_seconds", "sync_seconds", "write_seconds"] and
                  all(v >= 0 for v in phases.values()) and
                  phases["capture_seconds"] + phases["write_seconds"] + phases["sync_seconds"]
                  <= written["seconds"] + 1e-6 and phases["prefault_seconds"] <= phases["capture_seconds"],
                  f"its result says where the time went: {phases} of {written.get('seconds')} s")
            code, body = svc.get("/v1/checkpoint")
            status = json.loads(body) if code == 200 else {}
            check(code == 200 and status.get("dir") == state and status.get("writes", 0) >= 1 and
                  status.get("last", {}).get("ok"), "GET /v1/checkpoint shows the directory and the last write")
            _, seen = asyncio.run(ws_messages(svc.pub, since_seq=max(0, int(before_seq) - 200), count=20))
            last_seen = seen[-1]["seq"]
        check(len(before_accounts) >= 10 and before_seq > 0,
              f"{how.name}: sampled {len(before_accounts)} accounts, seq {before_seq:.0f}, model v{before['version']}")
        svc.stop(how)
        after = Service(args, config, f"default-{how.name}-after")
        after.pub = svc.pub  # the same port: a subscriber reconnects where it was
        with open(after.config, "w") as f:
            f.write(config.format(admin=after.admin, pub=after.pub))
        after.start()
        m = after.wait_for("the restored model", after.model, timeout=30)
        if how == signal.SIGTERM:
            subscribed, resumed = asyncio.run(ws_messages(after.pub, since_seq=last_seen, count=30))
            seqs = [x["seq"] for x in resumed]
            check(subscribed and subscribed.get("mode") == "replay" and seqs[:1] == [last_seen + 1] and
                  seqs == list(range(last_seen + 1, last_seen + 1 + len(seqs))),
                  f"SIGTERM: a subscriber resuming with since_seq={last_seen} after the restart gets "
                  f"a replay from {last_seen + 1} with no gap ({len(seqs)} messages)")
        after_accounts = sample_accounts(after)
        after_changes = recent_changes(after, before_accounts)
        seq = after.metric("segmentd_publisher_last_seq") or 0
        after.stop()
        log = open(after.log_path).read()
        check("restored from" in log, f"{how.name}: the restart says where it restored from")
        if m["version"] == before["version"]:
            check(segments_of(m) == segments_of(before),
                  f"{how.name}: same model v{m['version']}: segment ids, labels and policies identical")
        else:
            restored_ids = {s[0]: s[1] for s in segments_of(m)}
            kept = [sid for sid, label, _ in segments_of(before) if restored_ids.get(sid) == label]
            check(m["version"] > before["version"] and len(kept) >= len(before["segments"]) // 2,
                  f"{how.name}: the model continues v{before['version']} → v{m['version']} "
                  f"({len(kept)}/{len(before['segments'])} segments unchanged)")
        if how == signal.SIGTERM:
            lost = [a for a, n in before_accounts.items() if after_accounts.get(a, 0) < n]
            check(not lost, f"SIGTERM: every sampled account kept at least its fills ({len(before_accounts)} sampled)")
            check(seq >= before_seq, f"SIGTERM: the publisher's seq continues ({before_seq:.0f} → {seq:.0f})")
            with_changes = [a for a, c in before_changes.items() if c]
            kept = [a for a in with_changes if after_changes.get(a, [])[:len(before_changes[a])] == before_changes[a]]
            check(with_changes and kept == with_changes,
                  f"SIGTERM: each account's recent segment changes survive the restart "
                  f"({len(kept)}/{len(with_changes)} sampled accounts with changes)")
        else:
            # Up to one checkpoint interval is lost to SIGKILL; nothing is reset.
            reset = [a for a, n in before_accounts.items() if n >= 20 and after_accounts.get(a, 0) < n // 2]
            check(not reset, f"SIGKILL: no sampled account's fill count reset ({len(before_accounts)} sampled)")
            check(seq > 0.5 * before_seq, f"SIGKILL: the publisher's seq resumes near where it was "
                                          f"({before_seq:.0f} → {seq:.0f})")


# --- ingest ---------------------------------------------------------------------------------------


INGEST_CONFIG = """
[run]
summary_interval = "0s"
""" + SERVERS_AND_CHECKPOINT + """
[[sources]]
name = "feed"
kind = "ingest"
listen = "127.0.0.1:INGEST_PORT"
token_env = "SEGMENTD_TEST_INGEST_TOKEN"
"""


def ingest_lines(first, last):
    """Fills first..last-1 of three accounts, each with its trade id."""
    t0 = 1_733_011_200_000_000_000
    return "".join(json.dumps({"ts_ns": t0 + k * 1_000_000, "venue": "binance", "account": f"feed-{k % 3}",
                               "symbol": "BTCUSDT", "side": "buy" if k % 2 else "sell", "qty": 0.5,
                               "price": 95000.0 + k, "liquidity": "taker", "trade_id": f"T-{k}"}) + "\n"
                   for k in range(first, last))


def send_frame(port, token, frame):
    import websockets  # python3-websockets, as publisher_test.py

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port}/", extra_headers={"Authorization": "Bearer " + token},
                                      open_timeout=10) as ws:
            await ws.send(frame)
    asyncio.run(go())


def test_ingest(args):
    """A producer that re-sends after a restart: what was in the checkpoint counts once."""
    state = os.path.join(args.work, "ingest-state")
    shutil.rmtree(state, ignore_errors=True)
    token = "ingest-restart-token"
    os.environ["SEGMENTD_TEST_INGEST_TOKEN"] = token
    port = free_port()
    config = (INGEST_CONFIG.replace("STATE", state).replace("INTERVAL", "1h").replace("ON_INVALID", "refuse")
              .replace("INGEST_PORT", str(port)))

    def fills_of(svc, account):
        code, body = svc.get("/v1/accounts/" + account)
        return json.loads(body)["fills"] if code == 200 else None

    first = Service(args, config, "ingest-1").start()
    first.wait_for("the admin API", lambda: first.get("/healthz")[0] == 200)
    send_frame(port, token, ingest_lines(0, 12))  # 4 fills per account
    first.wait_for("12 fills", lambda: first.metric("segmentd_ingest_fills_total") == 12)
    code, log = first.stop()
    check(code == 0 and "checkpoint written" in log, "the first run wrote its checkpoint at SIGTERM")

    second = Service(args, config, "ingest-2").start()
    second.wait_for("the admin API", lambda: second.get("/healthz")[0] == 200)
    check(all(fills_of(second, f"feed-{a}") == 4 for a in range(3)), "the restart restored 4 fills per account")
    # The producer re-sends its last 6 fills (it never saw them acknowledged) and goes on with 6 new.
    send_frame(port, token, ingest_lines(6, 18))
    second.wait_for("12 fills seen", lambda: (second.metric("segmentd_ingest_fills_total") or 0)
                    + (second.metric("segmentd_ingest_duplicates_total") or 0) >= 12)
    check(second.metric("segmentd_ingest_duplicates_total") == 6,
          "the 6 re-sent fills are dropped as duplicates after the restart")
    check(second.metric("segmentd_ingest_fills_total") == 6, "the 6 new ones are taken")
    counts = [fills_of(second, f"feed-{a}") for a in range(3)]
    check(counts == [6, 6, 6], f"each account has its 6 fills, none twice ({counts})")
    code, _ = second.stop()
    check(code == 0, "the second run stops cleanly")


# ---- A checkpoint from before the slow clock (upgrade) -------------------------------------------

UPGRADE_TOKEN = "upgrade-test-token"


def upgrade_fills(first_hour, hours, seed):
    """Fills of 12 accounts over `hours` hours of event time from 2024-12-01 + first_hour: options
    with an iv, inverse perps and a dated future on Deribit, linear perps on Binance; makers and
    takers, buys and sells, so that every feature has something to read.

    Each instrument trades at one price. A live run resolves markouts at ticks of event time and,
    once its sources are quiet for a second, at the wall clock's (service/app/pipeline.cpp,
    idle_clock): these fills are stamped in 2024, so when their markouts resolve depends on how
    the frames were timed, and with moving prices so would markout_bps. At one price per
    instrument every markout is 0 whenever it resolves, and every feature is a function of the
    fills alone."""
    rng = random.Random(seed)
    t0 = 1_733_011_200_000_000_000 + first_hour * 3_600_000_000_000
    lines = []
    t = t0
    k = 0
    while t < t0 + hours * 3_600_000_000_000:
        t += rng.randint(5, 120) * 1_000_000_000
        acct = "upg-%02d" % rng.randrange(12)
        kind = rng.random()
        fill = {"ts_ns": t, "account": acct, "side": rng.choice(["buy", "sell"]),
                "liquidity": rng.choice(["maker", "taker"]), "trade_id": "U-%d-%d" % (seed, k)}
        btc = 96000.0 + rng.uniform(-800, 800)  # the index: greeks move, instrument prices do not
        if kind < 0.3:
            strike = rng.choice([90000, 100000, 110000])
            call = rng.choice("CP")
            premium = {90000: 0.07, 100000: 0.03, 110000: 0.01}[strike] if call == "C" else \
                {90000: 0.008, 100000: 0.045, 110000: 0.13}[strike]
            fill.update(venue="deribit", symbol="BTC-27DEC24-%d-%s" % (strike, call),
                        qty=rng.choice([0.1, 0.5, 1.0]), price=premium,
                        iv=round(rng.uniform(0.45, 0.7), 3), underlying_price=btc)
        elif kind < 0.55:
            fill.update(venue="deribit", symbol="BTC-PERPETUAL", qty=round(rng.uniform(0.05, 2.0), 3), price=96000.0)
        elif kind < 0.65:
            fill.update(venue="deribit", symbol="BTC-27DEC24", qty=round(rng.uniform(0.05, 1.0), 3), price=96400.0)
        elif kind < 0.85:
            fill.update(venue="binance", symbol="ETHUSDT", qty=round(rng.uniform(0.5, 20), 2), price=3600.0)
        else:
            fill.update(venue="binance", symbol="SOLUSDT", qty=round(rng.uniform(5, 200), 1), price=230.0)
        lines.append(json.dumps(fill) + "\n")
        k += 1
    return lines


def upgrade_config(state, port):
    return (INGEST_CONFIG.replace("STATE", state).replace("INTERVAL", "1h").replace("ON_INVALID", "refuse")
            .replace("INGEST_PORT", str(port)).replace("SEGMENTD_TEST_INGEST_TOKEN", "SEGMENTD_TEST_UPGRADE_TOKEN"))


def send_lines(port, lines, per_frame=200):
    for i in range(0, len(lines), per_frame):
        send_frame(port, UPGRADE_TOKEN, "".join(lines[i:i + per_frame]))


def accounts_of(svc, names):
    out = {}
    for name in names:
        code, body = svc.get("/v1/accounts/" + name)
        if code == 200:
            out[name] = json.loads(body)
    return out


def upgrade_names(lines):
    return sorted({json.loads(line)["account"] for line in lines})


def make_one_clock_fixture(args):
    """With a segmentd from before the slow clock: batch A, a checkpoint, the accounts; then batch B
    and the accounts again (not checkpointed: the test replays B itself)."""
    os.makedirs(args.fixture, exist_ok=True)
    state = os.path.join(args.work, "one-clock-state")
    shutil.rmtree(state, ignore_errors=True)
    os.environ["SEGMENTD_TEST_UPGRADE_TOKEN"] = UPGRADE_TOKEN
    port = free_port()
    a, b = upgrade_fills(0, 6, 1), upgrade_fills(6, 3, 2)
    svc = Service(args, upgrade_config(state, port), "one-clock").start()
    svc.wait_for("the admin API", lambda: svc.get("/healthz")[0] == 200)
    send_lines(port, a)
    svc.wait_for("batch A", lambda: svc.metric("segmentd_ingest_fills_total") == len(a))
    code, body = svc.post("/v1/checkpoint")
    written = json.loads(body)["last"]
    check(code == 200 and written.get("ok"), "the old binary wrote a checkpoint after batch A")
    names = upgrade_names(a + b)
    after_a = accounts_of(svc, names)
    send_lines(port, b)
    svc.wait_for("batch B", lambda: svc.metric("segmentd_ingest_fills_total") == len(a) + len(b))
    after_b = accounts_of(svc, names)
    svc.stop(signal.SIGKILL)  # no checkpoint at exit: the fixture's holds batch A only
    ckpt = os.path.basename(written["path"])
    for old in os.listdir(args.fixture):
        if old.startswith("checkpoint-"):
            os.remove(os.path.join(args.fixture, old))
    shutil.copy(written["path"], os.path.join(args.fixture, ckpt))
    for name, lines in (("fills_a.ndjson", a), ("fills_b.ndjson", b)):
        with open(os.path.join(args.fixture, name), "w") as f:
            f.writelines(lines)
    keep = lambda accts: {n: {"fills": v["fills"], "features": v["features"]["raw"]} for n, v in accts.items()}
    with open(os.path.join(args.fixture, "expected.json"), "w") as f:
        json.dump({"checkpoint": ckpt, "after_a": keep(after_a), "after_b": keep(after_b)}, f, indent=1,
                  sort_keys=True)
    print("fixture written to", args.fixture)


def rel_close(a, b, rel=1e-12, absolute=1e-12):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + absolute


RATE_AND_RATIO = ["trade_rate", "notional_rate", "ticket_size", "maker_ratio", "direction_imbalance", "option_share",
                  "future_share", "perp_share", "tenor", "moneyness", "concentration", "turnover", "markout_bps"]


def test_upgrade(args):
    fixture = args.fixture or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                           "checkpoints", "one_clock")
    with open(os.path.join(fixture, "expected.json")) as f:
        expected = json.load(f)
    with open(os.path.join(fixture, "fills_b.ndjson")) as f:
        batch_b = f.readlines()
    state = os.path.join(args.work, "upgrade-state")
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    shutil.copy(os.path.join(fixture, expected["checkpoint"]), os.path.join(state, expected["checkpoint"]))
    os.environ["SEGMENTD_TEST_UPGRADE_TOKEN"] = UPGRADE_TOKEN
    port = free_port()
    config = upgrade_config(state, port)
    svc = Service(args, config, "upgrade-1").start()
    svc.wait_for("the admin API", lambda: svc.get("/healthz")[0] == 200)
    names = sorted(expected["after_a"])
    got = accounts_of(svc, names)
    check(sorted(got) == names, f"the one-clock checkpoint loaded: all {len(names)} accounts are there")
    bad = [(n, k) for n in names for k, v in expected["after_a"][n]["features"].items()
           if not rel_close(got[n]["features"]["fast"][k], v) or got[n]["fills"] != expected["after_a"][n]["fills"]]
    bad = [(n, k, got[n]["features"]["fast"][k], expected["after_a"][n]["features"][k]) for n, k in bad]
    check(not bad, f"each account's fills and fast features are the old binary's ({bad[:3]})")
    bad = [(n, k) for n in names for k in RATE_AND_RATIO
           if not rel_close(got[n]["features"]["slow"][k], got[n]["features"]["fast"][k], 1e-9)]
    check(not bad, f"the slow clock starts where the fast clock was: same rates and ratios ({bad[:3]})")
    check(all(got[n]["features"]["raw"] == got[n]["features"]["fast"] for n in names),
          "the model sees the fast clock, as the old model did")
    send_lines(port, batch_b)
    svc.wait_for("batch B", lambda: svc.metric("segmentd_ingest_fills_total") == len(batch_b))
    got = accounts_of(svc, sorted(expected["after_b"]))
    bad = [(n, k, got[n]["features"]["fast"][k], v) for n in expected["after_b"]
           for k, v in expected["after_b"][n]["features"].items() if not rel_close(got[n]["features"]["fast"][k], v)]
    check(not bad and all(got[n]["fills"] == expected["after_b"][n]["fills"] for n in expected["after_b"]),
          f"the same fills afterwards give the old binary's fast features ({bad[:3]})")
    moved = [n for n in expected["after_b"]
             if any(not rel_close(got[n]["features"]["slow"][k], got[n]["features"]["fast"][k], 1e-6)
                    for k in ("trade_rate", "notional_rate"))]
    check(moved, f"after 3 more hours the clocks differ ({len(moved)} accounts' rates)")
    code, log = svc.stop()
    check(code == 0 and "checkpoint written" in log, "the upgraded service wrote a checkpoint of its own at SIGTERM")
    again = Service(args, config, "upgrade-2").start()
    again.wait_for("the admin API", lambda: again.get("/healthz")[0] == 200)
    reloaded = accounts_of(again, sorted(got))
    # Exactly, but for markout_bps: markouts still pending when `got` was read may resolve before
    # the SIGTERM checkpoint (at the idle clock's tick), and at one price per instrument their
    # markout is 0 up to the rounding residue of P'·a − b (core/features.md): |value| < 1e-9.
    bad = [(n, view, k, got[n]["features"][view][k], reloaded[n]["features"][view][k]) for n in got
           for view in ("raw", "fast", "slow") for k in got[n]["features"][view]
           if got[n]["features"][view][k] != reloaded[n]["features"][view][k]
           and not (k == "markout_bps" and abs(got[n]["features"][view][k]) < 1e-9
                    and abs(reloaded[n]["features"][view][k]) < 1e-9)]
    check(not bad and all(reloaded[n]["fills"] == got[n]["fills"] for n in got),
          f"its own checkpoint (two clocks) reloads exactly: fast, slow and what the model sees ({bad[:3]})")
    code, _ = again.stop()
    check(code == 0, "the second run stops cleanly")
    # A config whose model would see the slow clock cannot continue the old model: refused.
    shutil.rmtree(state)
    os.makedirs(state)
    shutil.copy(os.path.join(fixture, expected["checkpoint"]), os.path.join(state, expected["checkpoint"]))
    mixed = Service(args, config + "\n[features.fast_weight]\nall = 0.5\n", "upgrade-mixed")
    code, log = mixed.run_to_exit()
    check(code == 2 and "written with another configuration" in log,
          f"with [features.fast_weight] all = 0.5 the one-clock checkpoint is refused (exit {code})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["replay", "corrupt", "default", "ingest", "upgrade", "make-one-clock-fixture"])
    ap.add_argument("--segmentd", required=True)
    ap.add_argument("--fillsim")
    ap.add_argument("--work", required=True)
    ap.add_argument("--kills", type=int, default=int(os.environ.get("SEGMENTD_RESTART_KILLS", "4")))
    ap.add_argument("--fill-seconds", type=int, default=1500,
                    help="replay: event-time seconds of the simulated file (sanitizer builds: fewer)")
    ap.add_argument("--fixture", help="upgrade: the one-clock fixture directory (default: the repository's)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    {"replay": test_replay, "corrupt": test_corrupt, "default": test_default, "ingest": test_ingest,
     "upgrade": test_upgrade, "make-one-clock-fixture": make_one_clock_fixture}[args.mode](args)


if __name__ == "__main__":
    main()
