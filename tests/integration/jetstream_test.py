#!/usr/bin/env python3
"""Segment changes to NATS JetStream, tried from the outside (issue 18, item 2;
protocol/publisher/publisher.md, "JetStream").

  jetstream_test.py --segmentd BIN --work DIR

A real `nats-server -js` on 127.0.0.1 (a port the OS picked, its store in DIR), and `segmentd run`
with the built-in simulator and [jetstream] url = that server. The stream is read with our own
small client of the NATS protocol and JetStream API (nats_client.py), as any consumer would:
 1. the stream is created and holds every segment change and model message the publisher
    numbered, seqs 1..N each exactly once and in order: Nats-Msg-Id = the body's "seq", subjects
    segmentd.changes.<to>, segmentd.model, segmentd.regime and segmentd.risk, bodies the publisher's JSON messages;
 2. after SIGTERM and a restart from the checkpoint, nothing is sent twice and the stream goes on;
 3. nats-server stopped for a few seconds mid-run and started again (same store): the service
    reconnects and loses nothing, and its metrics showed the stream away and the failed rounds;
 4. after SIGKILL, the restart resumes from an older checkpoint: the seqs the stream already holds
    are skipped (counted), none is sent twice;
 5. with [publisher] enabled = false the stream still gets every message (the hub runs alone);
 6. a stream of an older segmentd, without the regime and risk subjects, gets them added.
Prints "SEGMENTD_SKIP: ..." (ctest: skipped) when nats-server is not installed. Exit 0 = pass.
"""

import argparse
import json
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nats_client import NatsClient, NatsServer, find_nats_server  # noqa: E402
from restart_test import Service, check, fail, live_config  # noqa: E402

STREAM = "SEGMENTD"


def read_stream(nc):
    info = nc.js("STREAM.INFO." + STREAM)
    if "error" in info:
        fail(f"stream {STREAM}: {info['error']}")
    state = info["state"]
    return info, nc.stream_msgs(STREAM, state["first_seq"], state["last_seq"]) if state["messages"] else []


def check_exactly_once(nc, through, what):
    """The stream holds seqs 1..through (and maybe more), each once, in order, well formed."""
    info, msgs = read_stream(nc)
    ids = [int(m["headers"].get("Nats-Msg-Id", "0")) for m in msgs]
    check(ids[:through] == list(range(1, through + 1)) and ids == list(range(1, len(ids) + 1)),
          f"{what}: the stream holds seqs 1..{len(ids)} exactly once, in order (publisher at {through})")
    kinds = {"segment_change": 0, "model": 0, "regime_change": 0, "risk": 0}
    for m in msgs:
        body = json.loads(m["data"])
        seq = int(m["headers"]["Nats-Msg-Id"])
        if body.get("seq") != seq:
            fail(f"message {seq}: body seq {body.get('seq')} is not its Nats-Msg-Id")
        if body["type"] == "segment_change":
            to = body.get("to")
            want = "segmentd.changes." + ("none" if to is None else str(to))
        elif body["type"] == "model":
            want = "segmentd.model"
        elif body["type"] == "regime_change":
            want = "segmentd.regime"
        elif body["type"] == "risk":
            want = "segmentd.risk"
        else:
            fail(f"message {seq}: type {body['type']} does not belong in the stream")
        if m["subject"] != want:
            fail(f"message {seq} ({body['type']}): subject {m['subject']}, expected {want}")
        kinds[body["type"]] += 1
    check(kinds["segment_change"] > 0 and kinds["model"] > 0,
          f"{what}: bodies are the publisher's messages on their subjects ({kinds})")
    return info, len(ids)


def wait_stream_caught_up(svc, at_least):
    """Waits until the sink has the stream acknowledge everything the publisher numbered (>= at_least)."""
    def caught_up():
        last = svc.metric("segmentd_publisher_last_seq") or 0
        sent = svc.metric("segmentd_jetstream_published_seq") or 0
        return last if last >= at_least and sent == last else None
    return int(svc.wait_for(f"the stream to hold the publisher's seq >= {at_least}", caught_up, timeout=120))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--segmentd", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if find_nats_server() is None:
        print("SEGMENTD_SKIP: nats-server is not installed (deploy/install-deps.sh installs it)")
        return
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    nats = NatsServer(args.work).start()
    try:
        run(args, nats)
    finally:
        # A failed check exits from the middle of a run: no segmentd or nats-server outlives it.
        for svc in STARTED:
            if svc.proc.poll() is None:
                svc.proc.kill()
                svc.proc.wait()
        nats.stop()


STARTED = []


def start(args, config, name):
    svc = Service(args, config, name).start()
    STARTED.append(svc)
    return svc


def run(args, nats):
    state = os.path.join(args.work, "state")
    # Checkpoints on SIGTERM only (interval 1 h): after the SIGKILL of step 4, the restart resumes
    # from the checkpoint of step 2's SIGTERM, older than the stream's end by construction.
    config = live_config(state, interval="1h", extra=f"""
[jetstream]
url = "{nats.url}"
ack_timeout = "1s"
retry_interval = "200ms"
""")

    # 1. A first run: the stream is created and fills up.
    svc = start(args, config, "first")
    last = wait_stream_caught_up(svc, 40)
    nc = NatsClient(nats.port)
    info, n = check_exactly_once(nc, last, "first run")
    check(info["config"]["duplicate_window"] == 120 * 10**9 and info["config"]["subjects"] ==
          ["segmentd.changes.>", "segmentd.model", "segmentd.regime", "segmentd.risk"],
          "the stream was created with the subjects and duplicate window")
    check(svc.metric("segmentd_jetstream_connected") == 1, "segmentd_jetstream_connected is 1")
    sent = svc.metric("segmentd_jetstream_messages_total") or 0
    check(sent >= last, f"segmentd_jetstream_messages_total counts the messages ({int(sent)} >= {last})")

    # 3 (in the first run). The server goes away for a while, the pipeline goes on publishing.
    nats.stop()
    svc.wait_for("the sink to notice the stream is away",
                 lambda: svc.metric("segmentd_jetstream_connected") == 0, timeout=60)
    away_from = int(svc.metric("segmentd_publisher_last_seq") or 0)
    svc.wait_for("the publisher to number more messages meanwhile",
                 lambda: (svc.metric("segmentd_publisher_last_seq") or 0) > away_from + 5, timeout=90)
    nats.start()
    last = wait_stream_caught_up(svc, away_from + 6)
    check((svc.metric("segmentd_jetstream_failed_rounds_total") or 0) > 0,
          "segmentd_jetstream_failed_rounds_total counted the rounds sent again")
    check(svc.metric("segmentd_jetstream_gap_messages_total") == 0, "no gap while the server was away")
    nc.close()
    nc = NatsClient(nats.port)
    check_exactly_once(nc, last, "nats-server restarted mid-run")

    # 2. SIGTERM and restart: the checkpoint holds the seq; nothing is sent twice.
    code, _ = svc.stop(signal.SIGTERM)
    check(code == 0, "the first run stops cleanly on SIGTERM")
    _, before = read_stream(nc)
    stopped_at = len(before)
    check(stopped_at >= last, f"the stream holds everything published before SIGTERM ({stopped_at} messages)")
    svc = start(args, config, "second")
    last = wait_stream_caught_up(svc, stopped_at + 5)
    check_exactly_once(nc, last, "after SIGTERM and restart")
    # The shutdown checkpoint is cut once the sources stopped; what the clusterer numbered after
    # the cut is in the stream and numbered again after the restart: skipped, not sent twice.
    print(f"info: skipped after SIGTERM: {int(svc.metric('segmentd_jetstream_skipped_messages_total') or 0)}")

    # 4. SIGKILL: the restart resumes from an older checkpoint than the stream's end.
    svc.wait_for("more messages after the last checkpoint",
                 lambda: (svc.metric("segmentd_publisher_last_seq") or 0) > last + 5, timeout=90)
    svc.stop(signal.SIGKILL)
    _, before = read_stream(nc)
    killed_at = len(before)
    svc = start(args, config, "third")
    last = wait_stream_caught_up(svc, killed_at + 5)
    skipped = svc.metric("segmentd_jetstream_skipped_messages_total") or 0
    check(skipped > 0, f"after SIGKILL the seqs the stream already held were skipped ({int(skipped)})")
    check_exactly_once(nc, last, "after SIGKILL and restart")
    code, _ = svc.stop(signal.SIGTERM)
    check(code == 0, "the third run stops cleanly")

    # 5. [publisher] enabled = false: no websocket server, the hub numbers for the stream alone.
    alone = config.replace("[publisher]\n", "[publisher]\nenabled = false\n", 1)
    svc = start(args, alone, "no_websocket")
    last = wait_stream_caught_up(svc, last + 5)
    check_exactly_once(nc, last, "with the websocket publisher off")
    out = open(svc.log_path).read()
    check("publisher ws://" not in out, "the start line names no websocket publisher")
    code, _ = svc.stop(signal.SIGTERM)
    check(code == 0, "the fourth run stops cleanly")

    # 6. A stream made by an older segmentd (no regime or risk subject): the sink adds them and goes on.
    older = {"name": "SEGMENTD_OLD", "subjects": ["old.changes.>", "old.model"], "storage": "file",
             "duplicate_window": 120 * 10**9}
    made = nc.js("STREAM.CREATE.SEGMENTD_OLD", older)
    check("error" not in made, f"the older stream was made ({made.get('error')})")
    fresh = config.replace(state, state + "_older").replace('url = "', 'stream = "SEGMENTD_OLD"\nsubject_prefix = "old"\nurl = "', 1)
    svc = start(args, fresh, "older_stream")
    wait_stream_caught_up(svc, 5)
    info = nc.js("STREAM.INFO.SEGMENTD_OLD")
    check(info["config"]["subjects"] == ["old.changes.>", "old.model", "old.regime", "old.risk"],
          f"the regime and risk subjects were added to the older stream ({info['config']['subjects']})")
    check("subjects added to the stream" in open(svc.log_path).read(), "the addition is logged")
    code, _ = svc.stop(signal.SIGTERM)
    check(code == 0, "the last run stops cleanly")
    nc.close()


if __name__ == "__main__":
    main()
