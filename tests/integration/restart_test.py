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


def fail(msg):
    print("FAIL: " + msg, flush=True)
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
    subprocess.run([args.fillsim, "--accounts", "3000", "--rate", "400", "--duration", "1500", "--seed", "11",
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

    async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["replay", "corrupt", "default", "ingest"])
    ap.add_argument("--segmentd", required=True)
    ap.add_argument("--fillsim")
    ap.add_argument("--work", required=True)
    ap.add_argument("--kills", type=int, default=int(os.environ.get("SEGMENTD_RESTART_KILLS", "4")))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    {"replay": test_replay, "corrupt": test_corrupt, "default": test_default, "ingest": test_ingest}[args.mode](args)


if __name__ == "__main__":
    main()
