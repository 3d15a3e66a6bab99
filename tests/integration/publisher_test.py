#!/usr/bin/python3
"""End-to-end tests of the publisher and the admin API with a real websocket client.

Runs tests/integration/publisher_harness (the real Publisher and AdminServer on 127.0.0.1,
ephemeral ports, a deterministic scripted stream) and talks to it with Debian's
python3-websockets, which only the system interpreter /usr/bin/python3 can import.

    /usr/bin/python3 publisher_test.py --harness BUILD/tests/publisher_harness \
        --schemas protocol/publisher/schemas [test_name ...]

No test waits on a wall-clock threshold: every wait is for an event (a message, a counter the
harness reports); ctest's TIMEOUT is the only guard against a hang.
"""

import argparse
import asyncio
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json_schema_subset  # noqa: E402

try:
    import jsonschema  # python3-jsonschema, when installed
except ImportError:  # pragma: no cover
    jsonschema = None

ARGS = None
TOKEN = "test-token-1"
OTHER_TOKEN = "second-token"


# ---------------------------------------------------------------------------- harness

class Harness:
    """The harness process: start(), cmd(), publish(), stats(), stop()."""

    def __init__(self, *options, capture_log=False):
        self.options = [str(o) for o in options]
        self.capture_log = capture_log  # keep the harness's stderr (its log lines) in self.log
        self.log = ""
        self.proc = None
        self.ws_port = self.admin_port = None
        self.scheme = "ws"
        self.ssl = None

    async def start(self):
        env = dict(os.environ, SEGMENTD_TEST_TOKENS=f"{TOKEN},{OTHER_TOKEN}")
        self.proc = await asyncio.create_subprocess_exec(
            ARGS.harness, *self.options, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if self.capture_log else None, env=env)
        line = (await self.proc.stdout.readline()).decode().split()
        assert line and line[0] == "READY", f"harness did not start: {line}"
        self.ws_port, self.admin_port = int(line[1]), int(line[2])
        return self

    async def cmd(self, line):
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()
        return (await self.proc.stdout.readline()).decode().strip()

    async def publish(self, n, per_call=None):
        reply = await self.cmd(f"publish {n} {per_call or n}")
        assert reply.startswith("OK "), reply
        return int(reply.split()[1])

    async def regime(self, underlying, to):
        reply = await self.cmd(f"regime {underlying} {to}")
        assert reply.startswith("OK "), reply
        return int(reply.split()[1])

    async def model(self):
        reply = await self.cmd("model")
        assert reply.startswith("OK "), reply
        return int(reply.split()[1])

    async def stats(self):
        reply = await self.cmd("stats")
        assert reply.startswith("STATS "), reply
        return json.loads(reply[6:])

    async def stop(self):
        """Quit the harness; it must exit 0, also when it already died (a crash or a TSan report
        ends it early with another code, and that must fail the test, not skip the check)."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                self.proc.stdin.write(b"quit\n")
                await self.proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # it died since: its exit code below says how
        if self.capture_log:
            self.log = (await self.proc.stderr.read()).decode()
        code = await self.proc.wait()
        assert code == 0, f"harness exited with {code}"

    async def connect(self, token=TOKEN, **kw):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        kw.setdefault("max_size", None)
        # Unbounded library queue: with its default (32 messages) the library stops reading the
        # socket, and a client that closes with messages unread waits out the close timeout (10 s)
        # for a close frame it no longer reads. Tests of slow readers open their own sockets.
        kw.setdefault("max_queue", None)
        return await websockets.connect(f"{self.scheme}://127.0.0.1:{self.ws_port}/", extra_headers=headers,
                                        ssl=self.ssl, **kw)

    def http(self, path, token=None, method="GET"):
        """(status, body) of an admin API request."""
        scheme = "https" if self.ssl else "http"
        req = urllib.request.Request(f"{scheme}://127.0.0.1:{self.admin_port}{path}", method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, context=self.ssl) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


async def send(ws, obj):
    await ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))


async def recv(ws):
    """The next message; a batch-mode frame (a JSON array) is returned as a list."""
    return json.loads(await ws.recv())


async def recv_type(ws, kind):
    """The next message of type `kind`, skipping heartbeats."""
    while True:
        m = await recv(ws)
        if m["type"] == "heartbeat" and kind != "heartbeat":
            continue
        assert m["type"] == kind, f"expected {kind}, got {m}"
        return m


async def subscribe(ws, **request):
    await send(ws, dict(op="subscribe", **request))
    return await recv_type(ws, "subscribed")


async def read_snapshot(ws):
    """All chunks of a snapshot: (seq, model, {account: row})."""
    first = await recv_type(ws, "snapshot")
    chunks = [first]
    while len(chunks) < first["chunks"]:
        chunks.append(await recv_type(ws, "snapshot"))
    assert [c["chunk"] for c in chunks] == list(range(first["chunks"]))
    assert all(c["seq"] == first["seq"] for c in chunks)
    rows = {}
    for c in chunks:
        for row in c["accounts"]:
            assert row["account"] not in rows, "an account twice in one snapshot"
            rows[row["account"]] = row
    return first["seq"], first.get("model"), rows


async def read_until(ws, last_seq, out=None):
    """Sequenced messages (segment_change, model, regime_change, risk) until seq == last_seq;
    heartbeats skipped."""
    out = [] if out is None else out
    while not out or out[-1]["seq"] < last_seq:
        m = await recv(ws)
        if m["type"] in ("segment_change", "model", "regime_change", "risk"):
            out.append(m)
    return out


def assert_gap_free(test, messages, first):
    seqs = [m["seq"] for m in messages]
    test.assertEqual(seqs, list(range(first, first + len(seqs))), "seq must be gap-free, without duplicates")


def apply(state, messages):
    """Account → (segment, seq) after applying segment_changes."""
    for m in messages:
        if m["type"] == "segment_change":
            state[m["account"]] = (m["to"], m["seq"])
    return state


def run(coro):
    return asyncio.run(coro)


# ---------------------------------------------------------------------------- tests

class PublisherTest(unittest.TestCase):

    def test_snapshot_then_changes(self):
        async def body():
            h = await Harness("--chunk", 7).start()
            try:
                early = await h.connect()
                sub = await subscribe(early, since_seq=0)
                self.assertEqual(sub["mode"], "replay")
                last = await h.publish(120, 10)  # model (seq 1) + 120 changes
                self.assertEqual(last, 121)
                seen = await read_until(early, last)
                assert_gap_free(self, seen, 1)
                self.assertEqual(seen[0]["type"], "model")
                state = apply({}, seen)

                late = await h.connect()
                sub = await subscribe(late)
                self.assertEqual((sub["mode"], sub["why"], sub["seq"]), ("snapshot", "requested", last))
                seq, model, rows = await read_snapshot(late)
                self.assertEqual(seq, last)
                self.assertEqual(model["version"], 1)
                self.assertEqual(len(model["segments"]), 4)
                self.assertEqual({a: (r["segment"], r["seq"]) for a, r in rows.items()}, state)
                labels = {s["id"]: s["label"] for s in model["segments"]}
                for r in rows.values():
                    self.assertEqual(r["label"], labels[r["segment"]])

                last2 = await h.publish(30)
                a = await read_until(early, last2)
                b = await read_until(late, last2)
                self.assertEqual(a, b, "both subscribers see the same deltas")
                assert_gap_free(self, b, last + 1)
                await early.close()
                await late.close()
            finally:
                await h.stop()
        run(body())

    def test_resume_no_gap_no_duplicate(self):
        async def body():
            h = await Harness().start()
            try:
                steady = await h.connect()
                await subscribe(steady, since_seq=0)
                client = await h.connect()
                await subscribe(client, since_seq=0)
                last = await h.publish(100, 7)
                got = await read_until(client, 50)
                await client.close()  # gone mid-stream: what it had not read is lost with it
                last = await h.publish(100, 13)

                client = await h.connect()
                sub = await subscribe(client, since_seq=got[-1]["seq"])
                self.assertEqual((sub["mode"], sub["since_seq"]), ("replay", 50))
                last = await h.publish(10)
                got = await read_until(client, last, got)
                assert_gap_free(self, got, 1)
                self.assertEqual(got[-1]["seq"], last)
                reference = await read_until(steady, last)
                self.assertEqual(got, reference, "replayed messages are the published ones, byte for byte")
                stats = await h.stats()
                self.assertEqual(stats["replays"], 3)
            finally:
                await h.stop()
        run(body())

    def test_resume_beyond_ring_gets_snapshot(self):
        async def body():
            h = await Harness("--ring", 20).start()
            try:
                client = await h.connect()
                await subscribe(client, since_seq=0)
                last = await h.publish(10)
                got = await read_until(client, last)
                await client.close()
                last = await h.publish(100)
                stats = await h.stats()
                self.assertEqual((stats["ring_size"], stats["ring_first_seq"]), (20, last - 19))

                client = await h.connect()
                sub = await subscribe(client, since_seq=got[-1]["seq"])
                self.assertEqual((sub["mode"], sub["why"], sub["seq"]), ("snapshot", "since_seq_not_in_ring", last))
                seq, model, rows = await read_snapshot(client)
                self.assertEqual(seq, last)
                self.assertEqual(len(rows), 50)
                last2 = await h.publish(5)
                deltas = await read_until(client, last2)
                assert_gap_free(self, deltas, last + 1)
                await client.close()

                # The ring's first seq is still resumable; one before it is not.
                client = await h.connect()
                sub = await subscribe(client, since_seq=last2 - 20)
                self.assertEqual(sub["mode"], "replay")
                assert_gap_free(self, await read_until(client, last2), last2 - 19)
                await client.close()
                # A client ahead of the server (e.g. it restarted) gets a snapshot too.
                client = await h.connect()
                sub = await subscribe(client, since_seq=last2 + 1000)
                self.assertEqual((sub["mode"], sub["why"]), ("snapshot", "since_seq_ahead"))
                await client.close()
            finally:
                await h.stop()
        run(body())

    def test_slow_consumer_closed_fast_keeps_up(self):
        async def body():
            # A subscriber past its queue limit reads on from the ring; it is closed once the ring
            # has dropped what it has not read: a small ring gets there sooner.
            h = await Harness("--queue-limit", 65536, "--ring", 5000).start()
            try:
                # The fast client reads whatever arrives (an unbounded library queue).
                fast = await h.connect(max_queue=None)
                await subscribe(fast, since_seq=0)
                # The slow client reads nothing: a small receive buffer and a one-message library
                # queue make the server's queue for it grow at once.
                sock = socket.create_connection(("127.0.0.1", h.ws_port))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                # No keepalive pings from the library: its ping cannot be answered while the server's
                # writes to this client are stalled, and on a loaded machine (sanitizer builds under
                # ctest -j) the library's own ping timeout would drop the connection before the 1008
                # close frame is read.
                slow = await websockets.connect(f"ws://127.0.0.1:{h.ws_port}/", sock=sock, max_queue=1,
                                                read_limit=4096, max_size=None, ping_interval=None,
                                                extra_headers={"Authorization": f"Bearer {TOKEN}"})
                await subscribe(slow, since_seq=0)
                seen = []
                for _ in range(1000):
                    last = await h.publish(100, 20)
                    await read_until(fast, last, seen)  # the fast one keeps up, batch after batch
                    if (await h.stats())["slow_consumer_closes"] >= 1:
                        break
                stats = await h.stats()
                self.assertEqual(stats["slow_consumer_closes"], 1)
                self.assertEqual(stats["subscribers"], 1)
                # Now the slow client reads: what was in flight, then the close frame. The kernel holds
                # megabytes for it by now; a bigger receive buffer (the window can open to 64 KiB)
                # drains them in a few round trips instead of a thousand, which matters on a loaded
                # machine: the harness drops a closing peer after its close_timeout.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    while True:
                        await slow.recv()
                self.assertEqual(closed.exception.rcvd.code, 1008)
                self.assertEqual(closed.exception.rcvd.reason, "slow consumer")
                # The fast one was never held back and is still served.
                last = await h.publish(100)
                await read_until(fast, last, seen)
                assert_gap_free(self, seen, 1)
                self.assertEqual(seen[-1]["seq"], last)
                await fast.close()
            finally:
                await h.stop()
        run(body())

    def test_resume_larger_than_the_queue_limit_is_streamed(self):
        """Issue 17, item 4: a resume whose replay is larger than queue_limit_bytes is read from the
        ring at the client's pace, not queued at once (which closed it 1008 before one message)."""
        async def body():
            h = await Harness("--queue-limit", 65536).start()
            try:
                ws = await h.connect(max_queue=None)
                await subscribe(ws, since_seq=0)
                first = await h.publish(100)
                seen = await read_until(ws, first)
                await ws.close()
                # While it is away: ten times its queue limit.
                last = await h.publish(3000, 100)
                ws = await h.connect(max_queue=None)
                sub = await subscribe(ws, since_seq=first)
                self.assertEqual(sub["mode"], "replay")
                await read_until(ws, last, seen)
                # And live again afterwards, without a gap.
                last = await h.publish(50)
                await read_until(ws, last, seen)
                assert_gap_free(self, seen, 1)
                self.assertEqual(seen[-1]["seq"], last)
                self.assertEqual((await h.stats())["slow_consumer_closes"], 0)
                await ws.close()
            finally:
                await h.stop()
        run(body())

    def test_burst_larger_than_the_queue_limit_reaches_a_reading_subscriber(self):
        """Issue 17, item 4: one publish larger than queue_limit_bytes (the first assignments after
        warm-up) does not close a subscriber that reads: it reads on from the ring, then live."""
        async def body():
            h = await Harness("--queue-limit", 65536).start()
            try:
                ws = await h.connect(max_queue=None)
                await subscribe(ws)  # a snapshot of nothing yet
                last = await h.publish(3000)  # one publish_changes call, one batch of ~10x the limit
                seen = await read_until(ws, last)
                last = await h.publish(50)
                await read_until(ws, last, seen)
                assert_gap_free(self, seen, 1)
                stats = await h.stats()
                self.assertEqual(stats["slow_consumer_closes"], 0)
                self.assertGreaterEqual(stats["catch_ups"], 1)
                self.assertEqual(stats["subscribers"], 1)
                await ws.close()
            finally:
                await h.stop()
        run(body())

    def test_silent_sockets_lock_out_neither_subscribers_nor_health(self):
        """Issue 17, item 2: silent connections take no slot before they authenticate (publisher)
        or send a request (admin); /healthz and /metrics answer whatever holds the port."""
        async def body():
            h = await Harness("--max-connections", 16, "--admin-max-connections", 8).start()
            silent = []
            try:
                silent += [socket.create_connection(("127.0.0.1", h.ws_port)) for _ in range(300)]
                silent += [socket.create_connection(("127.0.0.1", h.admin_port)) for _ in range(200)]
                ws = await h.connect()
                self.assertEqual((await subscribe(ws))["type"], "subscribed")
                self.assertEqual(h.http("/healthz"), (200, "ok\n"))
                status, metrics = h.http("/metrics")
                self.assertEqual(status, 200)
                self.assertIn("harness_scripted_metric", metrics)
                # Slots are counted after authentication: 16 subscribers fit, the 17th gets 503.
                others = [await h.connect() for _ in range(15)]
                with self.assertRaises(websockets.InvalidStatusCode) as e:
                    await h.connect()
                self.assertEqual(e.exception.status_code, 503)
                # Eight keep-alive connections that sent a request hold the admin's slots: probes
                # are still answered, anything else gets 503.
                held = []
                for _ in range(8):
                    c = http.client.HTTPConnection("127.0.0.1", h.admin_port)
                    c.request("GET", "/healthz")
                    self.assertEqual(c.getresponse().read(), b"ok\n")
                    held.append(c)
                self.assertEqual(h.http("/healthz"), (200, "ok\n"))
                self.assertEqual(h.http("/metrics")[0], 200)
                self.assertEqual(h.http("/v1/segments", token=TOKEN)[0], 503)
                stats = await h.stats()
                self.assertEqual(stats["rejected_connections"], 1)
                self.assertGreater(stats["admin_evicted"], 0)
                for o in others + [ws]:
                    await o.close()
                for c in held:
                    c.close()
            finally:
                for sock in silent:
                    sock.close()
                await h.stop()
        run(body())

    def test_failed_logins_and_slow_consumer_closes_are_logged(self):
        """Issue 17, item 6: who failed to log in (never the token presented), and which
        subscriber was closed as a slow consumer, are in the log, with counters beside them."""
        async def body():
            h = await Harness("--queue-limit", 65536, "--ring", 2000, capture_log=True).start()
            secret = "wrong-token-7f3a9c"
            try:
                with self.assertRaises(websockets.InvalidStatusCode):
                    await h.connect(token=secret)
                self.assertEqual(h.http("/v1/segments", token=secret)[0], 401)
                sock = socket.create_connection(("127.0.0.1", h.ws_port))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                slow = await websockets.connect(f"ws://127.0.0.1:{h.ws_port}/", sock=sock, max_queue=1,
                                                read_limit=4096, max_size=None, ping_interval=None,
                                                extra_headers={"Authorization": f"Bearer {TOKEN}"})
                await subscribe(slow, since_seq=0)
                for _ in range(1000):
                    await h.publish(100, 20)
                    if (await h.stats())["slow_consumer_closes"] >= 1:
                        break
                stats = await h.stats()
                self.assertEqual(stats["slow_consumer_closes"], 1)
                self.assertEqual(stats["auth_failures"], 1)
                self.assertEqual(stats["admin_auth_failures"], 1)
                # Dropped under the library too: its close handshake would otherwise wait out its
                # timeouts (20 s) when the event loop ends, for a peer that reads nothing.
                slow.transport.abort()
                sock.close()
            finally:
                await h.stop()
            self.assertIn('"subscriber login failed" peer=127.0.0.1 reason="bad bearer token"', h.log)
            self.assertIn('"admin login failed" peer=127.0.0.1 reason="bad bearer token"', h.log)
            self.assertIn('"subscriber closed 1008: slow consumer" peer=127.0.0.1', h.log)
            self.assertNotIn(secret, h.log)
        run(body())

    def test_auth_missing_or_wrong_token_401(self):
        async def body():
            h = await Harness().start()
            try:
                for token in (None, "wrong-token", TOKEN + "x", ""):
                    with self.assertRaises(websockets.InvalidStatusCode) as e:
                        await h.connect(token=token)
                    self.assertEqual(e.exception.status_code, 401)
                for token in (TOKEN, OTHER_TOKEN):
                    ws = await h.connect(token=token)
                    self.assertEqual((await subscribe(ws))["type"], "subscribed")
                    await ws.close()
                stats = await h.stats()
                self.assertEqual(stats["auth_failures"], 4)
                # Not an upgrade: 426; another path: 404.
                with self.assertRaises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(f"http://127.0.0.1:{h.ws_port}/")
                self.assertEqual(e.exception.code, 426)
            finally:
                await h.stop()
        run(body())

    def test_malformed_subscribe_error_frame_connection_stays(self):
        async def body():
            h = await Harness().start()
            try:
                ws = await h.connect()
                cases = [
                    ("not json", "malformed_json", "not valid JSON"),
                    ("[1,2]", "malformed_json", "JSON object"),
                    ({"filter": {}}, "bad_request", "op: missing"),
                    ({"op": "fly"}, "unknown_op", "fly"),
                    ({"op": "subscribe", "extra": 1}, "bad_request", "extra: unknown field"),
                    ({"op": "subscribe", "since_seq": -1}, "bad_request", "since_seq"),
                    ({"op": "subscribe", "since_seq": "5"}, "bad_request", "since_seq"),
                    ({"op": "subscribe", "filter": {"segments": "x"}}, "bad_request", "filter.segments: must be an array"),
                    ({"op": "subscribe", "filter": {"segments": [1, 0]}}, "bad_request", "filter.segments[1]"),
                    ({"op": "subscribe", "filter": {"accounts": [1]}}, "bad_request", "filter.accounts[0]"),
                    ({"op": "subscribe", "filter": {"segments": [1], "accounts": ["a"]}}, "bad_request", "exactly one"),
                    ({"op": "subscribe", "filter": {"colour": [1]}}, "bad_request", "filter.colour"),
                    ('{"op":"subscribe","op":"subscribe"}', "bad_request", "given twice"),
                    ({"op": "unsubscribe"}, "not_subscribed", "not subscribed"),
                    (b"\x00\x01", "binary_frame", "text"),
                ]
                for request, code, words in cases:
                    await send(ws, request)
                    err = await recv_type(ws, "error")
                    self.assertEqual(err["code"], code, f"{request!r}: {err}")
                    self.assertIn(words, err["message"], f"{request!r}: {err}")
                await send(ws, {"op": "ping", "id": "p1"})
                self.assertEqual((await recv_type(ws, "pong"))["id"], "p1")
                sub = await subscribe(ws, filter={})
                self.assertEqual(sub["mode"], "snapshot")
                await read_snapshot(ws)
                await send(ws, {"op": "subscribe"})
                self.assertEqual((await recv_type(ws, "error"))["code"], "already_subscribed")
                stats = await h.stats()
                self.assertEqual(stats["bad_requests"], len(cases) + 1)
                await ws.close()
            finally:
                await h.stop()
        run(body())

    def test_filters(self):
        async def body():
            h = await Harness().start()
            try:
                everything = await h.connect()
                await subscribe(everything, since_seq=0)
                last = await h.publish(200, 9)
                all_msgs = await read_until(everything, last)
                state = apply({}, all_msgs)

                by_segment = await h.connect()
                await subscribe(by_segment, filter={"segments": [1]})
                _, _, rows = await read_snapshot(by_segment)
                self.assertEqual(set(rows), {a for a, (s, _) in state.items() if s == 1})
                by_account = await h.connect()
                await subscribe(by_account, filter={"accounts": ["acct-3", "acct-not-yet"]})
                _, _, rows = await read_snapshot(by_account)
                self.assertEqual(set(rows), {"acct-3"})

                last2 = await h.model()
                last2 = await h.publish(100, 11)
                new = await read_until(everything, last2)
                expect_seg = [m for m in new if m["type"] == "model" or 1 in (m["from"], m["to"])]
                expect_acct = [m for m in new if m["type"] == "model" or m["account"] == "acct-3"]
                got_seg = await read_until(by_segment, expect_seg[-1]["seq"])
                got_acct = await read_until(by_account, expect_acct[-1]["seq"])
                self.assertEqual(got_seg, expect_seg)
                self.assertEqual(got_acct, expect_acct)
                # Heartbeats tell a filtered subscriber how far the server is: one comes with
                # the last seq, and nothing of the filter's was sent in between.
                while True:
                    m = await recv(by_account)
                    self.assertEqual(m["type"], "heartbeat")
                    if m["seq"] == last2:
                        break
            finally:
                await h.stop()
        run(body())

    def test_a_regime_change_is_sequenced_and_switches_the_policies(self):
        """Issue 22, item 3: a regime change is a message of the stream, in seq order, to every
        subscriber whatever its filter, listing each segment's policy in the new market regime;
        the segment changes after it carry that regime's policies, and a snapshot says which
        regime is in force."""
        async def body():
            h = await Harness().start()
            try:
                everything = await h.connect()
                await subscribe(everything, since_seq=0)
                by_segment = await h.connect()
                await subscribe(by_segment, since_seq=0, filter={"segments": [2]})
                last = await h.publish(80, 10)
                seen = await read_until(everything, last)
                model = seen[0]
                self.assertEqual(model["type"], "model")
                segs = {s["id"]: s for s in model["segments"]}
                for s in segs.values():  # three policies per segment, as the harness's model has them
                    self.assertNotEqual(s["policy"], s["stressed_policy"])
                    self.assertNotEqual(s["stressed_policy"], s["extreme_policy"])
                calm = [m for m in seen if m["type"] == "segment_change"]
                self.assertTrue(calm)
                for m in calm:
                    self.assertEqual(m["regime"], "calm")
                    self.assertEqual(m["policy"], segs[m["to"]]["policy"])

                r = await h.regime("ETH", "stressed")
                self.assertEqual(r, last + 1)
                last2 = await h.publish(40, 8)
                new = await read_until(everything, last2)
                assert_gap_free(self, seen + new, 1)
                change = new[0]
                self.assertEqual(change["type"], "regime_change")
                self.assertEqual((change["seq"], change["underlying"], change["from"], change["to"]),
                                 (last + 1, "ETH", "calm", "stressed"))
                self.assertEqual((change["market_from"], change["market"]), ("calm", "stressed"))
                self.assertEqual(change["reason"], "scripted: stressed")
                self.assertEqual(change["model_version"], model["version"])
                self.assertEqual({p["segment"]: p["policy"] for p in change["policies"]},
                                 {i: s["stressed_policy"] for i, s in segs.items()})
                self.assertEqual({p["segment"]: p["label"] for p in change["policies"]},
                                 {i: s["label"] for i, s in segs.items()})
                moved = [m for m in new if m["type"] == "segment_change"]
                self.assertEqual(len(moved), 40)
                for m in moved:
                    self.assertEqual(m["regime"], "stressed")
                    self.assertEqual(m["policy"], segs[m["to"]]["stressed_policy"])

                # The filtered subscriber: its segment's changes, and the regime change.
                expect = [m for m in seen + new
                          if m["type"] != "segment_change" or 2 in (m["from"], m["to"])]
                got = await read_until(by_segment, expect[-1]["seq"])
                self.assertEqual(got, expect)
                self.assertIn("regime_change", [m["type"] for m in got])

                # A late subscriber learns the regime in force from its snapshot.
                late = await h.connect()
                await subscribe(late)
                first = await recv_type(late, "snapshot")
                self.assertEqual(first["regime"], "stressed")

                # Back to calm: the calm policies again.
                await h.regime("ETH", "calm")
                last3 = await h.publish(10)
                back = await read_until(everything, last3)
                self.assertEqual((back[0]["type"], back[0]["from"], back[0]["to"], back[0]["market"]),
                                 ("regime_change", "stressed", "calm", "calm"))
                for m in back[1:]:
                    self.assertEqual((m["regime"], m["policy"]), ("calm", segs[m["to"]]["policy"]))
                for ws in (everything, by_segment, late):
                    await ws.close()
            finally:
                await h.stop()
        run(body())

    def test_batch_mode(self):
        async def body():
            h = await Harness().start()
            try:
                ws = await h.connect()
                await send(ws, {"op": "subscribe", "since_seq": 0, "batch": True})
                frame = await recv(ws)
                self.assertIsInstance(frame, list)
                self.assertEqual(frame[0]["type"], "subscribed")
                last = await h.publish(3000, 100)
                got, frames = [], 0
                while not got or got[-1]["seq"] < last:
                    frame = await recv(ws)
                    self.assertIsInstance(frame, list)
                    frames += 1
                    got += [m for m in frame if m["type"] in ("segment_change", "model")]
                assert_gap_free(self, got, 1)
                self.assertLess(frames, len(got), "frames carry several messages")
                await ws.close()
            finally:
                await h.stop()
        run(body())

    def test_batch_frames_are_the_shared_messages_joined(self):
        """Batch frames are '[' + the messages' exact bytes joined by ',' + ']', the same bytes a
        one-message-per-frame subscriber gets; subscribers with different filters each get
        their own subsequence, gap-free, whatever the flush interval."""
        for flush_us in (0, 1000, 20000):
            with self.subTest(flush_us=flush_us):
                run(self._batch_filters(flush_us))

    async def _batch_filters(self, flush_us):
        h = await Harness("--flush-us", flush_us, "--heartbeat-ms", 50).start()
        try:
            first = await h.publish(300, 7)  # before anyone subscribes: replayed from the ring
            reference = await h.connect()
            await send(reference, {"op": "subscribe", "since_seq": 0})
            self.assertEqual((await recv(reference))["type"], "subscribed")
            filters = {"all": None, "seg": {"segments": [1]}, "acct": {"accounts": ["acct-3", "acct-5"]}}
            subs = {}
            for name, flt in filters.items():
                ws = await h.connect()
                req = {"op": "subscribe", "since_seq": 0, "batch": True}
                if flt:
                    req["filter"] = flt
                await send(ws, req)
                frame = await recv(ws)
                self.assertEqual(frame[0]["type"], "subscribed")
                subs[name] = ws
            await h.model()
            last = first
            for n, per_call in ((500, 1), (2000, 250), (50, 50)):
                last = await h.publish(n, per_call)
            # The reference stream, raw: the exact text of every message.
            raw, ref = {}, []
            while not ref or ref[-1]["seq"] < last:
                text = await reference.recv()
                m = json.loads(text)
                key = (m["type"], m["seq"], m.get("ts"))
                raw[key] = text
                if m["type"] in ("segment_change", "model"):
                    ref.append(m)
            assert_gap_free(self, ref, 1)
            expect = {
                "all": ref,
                "seg": [m for m in ref if m["type"] == "model" or 1 in (m["from"], m["to"])],
                "acct": [m for m in ref if m["type"] == "model" or m["account"] in ("acct-3", "acct-5")],
            }
            for name, ws in subs.items():
                got, frames = [], 0
                while not got or got[-1]["seq"] < expect[name][-1]["seq"]:
                    text = await ws.recv()
                    frame = json.loads(text)
                    self.assertIsInstance(frame, list)
                    frames += 1
                    keys = [(m["type"], m["seq"], m.get("ts")) for m in frame]
                    if all(k in raw for k in keys):  # heartbeats after the reference stopped reading are unknown
                        self.assertEqual(text, "[" + ",".join(raw[k] for k in keys) + "]", name)
                    got += [m for m in frame if m["type"] in ("segment_change", "model")]
                self.assertEqual(got, expect[name], name)
                if name == "all":
                    self.assertLess(frames, len(got), "frames carry several messages")
                await ws.close()
            await reference.close()
        finally:
            await h.stop()

    def test_limits(self):
        async def body():
            h = await Harness("--max-filter", 5, "--max-frame", 1024, "--max-connections", 3).start()
            try:
                ws = await h.connect()
                await send(ws, {"op": "subscribe", "filter": {"accounts": [f"a{i}" for i in range(6)]}})
                err = await recv_type(ws, "error")
                self.assertEqual(err["code"], "filter_too_large")
                self.assertIn("limit is 5", err["message"])
                await send(ws, {"op": "ping", "id": "x" * 5000})
                err = await recv_type(ws, "error")
                self.assertEqual(err["code"], "frame_too_large")
                await send(ws, {"op": "ping", "id": "still-here"})
                self.assertEqual((await recv_type(ws, "pong"))["id"], "still-here")
                others = [await h.connect(), await h.connect()]
                with self.assertRaises(websockets.InvalidStatusCode) as e:
                    await h.connect()
                self.assertEqual(e.exception.status_code, 503)
                self.assertEqual((await h.stats())["rejected_connections"], 1)
                for o in others:
                    await o.close()
                await ws.close()
            finally:
                await h.stop()
        run(body())

    def test_schemas_validate_real_output(self):
        async def body():
            schemas = {}
            for name in os.listdir(ARGS.schemas):
                with open(os.path.join(ARGS.schemas, name)) as f:
                    schemas[name[:-5]] = json.load(f)
            h = await Harness("--heartbeat-ms", 20, "--chunk", 16).start()
            samples = {}
            try:
                ws = await h.connect()
                await send(ws, "{")
                await send(ws, {"op": "ping", "id": "s"})
                await send(ws, {"op": "ping"})
                for _ in range(3):
                    m = await recv(ws)
                    samples.setdefault(m["type"], []).append(m)
                await subscribe(ws, since_seq=0)  # replay mode
                last = await h.publish(60, 7)
                for _ in range(4):
                    last = await h.model()  # born, relabelled, retired+born
                    last = await h.publish(20)
                await h.regime("BTC", "extreme")
                await h.cmd("risk")
                last = await h.publish(5)
                while True:
                    m = await recv(ws)
                    samples.setdefault(m["type"], []).append(m)
                    if m.get("seq") == last and m["type"] == "segment_change":
                        break
                samples.setdefault("heartbeat", []).append(await recv_type(ws, "heartbeat"))
                await send(ws, {"op": "unsubscribe"})
                while True:
                    m = await recv(ws)
                    samples.setdefault(m["type"], []).append(m)
                    if m["type"] == "unsubscribed":
                        break
                late = await h.connect()
                await send(late, {"op": "subscribe"})
                while "snapshot" not in samples or len(samples["snapshot"]) < samples["snapshot"][0]["chunks"]:
                    m = await recv(late)
                    samples.setdefault(m["type"], []).append(m)
            finally:
                await h.stop()
            self.assertEqual(set(samples), set(schemas), "every message type was sampled, and has a schema")
            for kind, messages in samples.items():
                for m in messages:
                    json_schema_subset.validate(m, schemas[kind])
                    if jsonschema is not None:
                        jsonschema.validate(m, schemas[kind], cls=jsonschema.Draft202012Validator)
            # The model samples covered every kind of event.
            models = samples["model"]
            for key in ("born", "retired", "relabelled"):
                self.assertTrue(any(m[key] for m in models), key)
            # And the validator does reject what it should.
            bad = dict(samples["segment_change"][0], confidence="high")
            with self.assertRaises(ValueError):
                json_schema_subset.validate(bad, schemas["segment_change"])
            bad = dict(samples["heartbeat"][0], extra=1)
            with self.assertRaises(ValueError):
                json_schema_subset.validate(bad, schemas["heartbeat"])
        run(body())

    def test_admin_server_http_layer(self):
        """The AdminServer's HTTP layer: routing, auth, percent-decoding, status codes, and that it
        serves what its handlers return. The handlers are the harness's scripted ones, so nothing
        here says anything about the pipeline's readiness, accounts or metrics: admin_api_test.py
        checks those against a running segmentd."""
        async def body():
            h = await Harness().start()
            try:
                self.assertEqual(h.http("/healthz"), (200, "ok\n"))
                # Readiness: 200 only when every check the handler reports is ok, the checks listed.
                status, text = h.http("/readyz")
                self.assertEqual(status, 503)  # the script has no model yet
                self.assertEqual({c["name"]: c["ok"] for c in json.loads(text)["checks"]},
                                 {"sources": True, "model": False})
                await h.publish(100)
                self.assertEqual(h.http("/readyz")[0], 200)
                await h.cmd("sources 0")
                self.assertEqual(h.http("/readyz")[0], 503)
                await h.cmd("sources 1")

                for path in ("/v1/segments", "/v1/accounts/acct-1"):
                    self.assertEqual(h.http(path)[0], 401)
                    self.assertEqual(h.http(path, token="nope")[0], 401)
                status, text = h.http("/v1/segments", token=TOKEN)
                self.assertEqual(status, 200)
                doc = json.loads(text)
                self.assertTrue(doc["ready"])
                self.assertEqual(len(doc["model"]["segments"]), 4)  # the script's model, encoded
                status, text = h.http("/v1/accounts/acct-1", token=OTHER_TOKEN)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(text)["account"], "acct-1")
                status, text = h.http("/v1/accounts/acct%2D1", token=TOKEN)  # percent-decoded
                self.assertEqual((status, json.loads(text)["account"]), (200, "acct-1"))
                self.assertEqual(h.http("/v1/accounts/nobody", token=TOKEN)[0], 404)  # handler: none
                self.assertEqual(h.http("/v1/accounts/%zz", token=TOKEN)[0], 400)
                # /metrics serves the handler's text as it is (the harness's scripted text).
                self.assertEqual(h.http("/metrics"),
                                 (200, "# scripted by publisher_harness\nharness_scripted_metric 1\n"))
                self.assertEqual(h.http("/nothing")[0], 404)
                self.assertEqual(h.http("/healthz", method="POST")[0], 405)
            finally:
                await h.stop()
        run(body())

    def test_tls(self):
        async def body():
            with tempfile.TemporaryDirectory() as tmp:
                cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                "-keyout", key, "-out", cert], check=True, capture_output=True)
                h = await Harness("--tls", cert, key).start()
                try:
                    h.scheme = "wss"
                    h.ssl = ssl.create_default_context(cafile=cert)
                    last = await h.publish(20)
                    ws = await h.connect()
                    await subscribe(ws)
                    seq, model, rows = await read_snapshot(ws)
                    self.assertEqual((seq, len(rows)), (last, 20))
                    with self.assertRaises(websockets.InvalidStatusCode) as e:
                        await h.connect(token="wrong")
                    self.assertEqual(e.exception.status_code, 401)
                    self.assertEqual(h.http("/v1/segments", token=TOKEN)[0], 200)
                    # Plain websocket to the TLS port gets nowhere: the server speaks only TLS there,
                    # so the plain upgrade gets no HTTP response at all (not a 101, not a 4xx).
                    with self.assertRaises(websockets.InvalidMessage) as e:
                        await websockets.connect(f"ws://127.0.0.1:{h.ws_port}/", open_timeout=None,
                                                 extra_headers={"Authorization": f"Bearer {TOKEN}"})
                    self.assertEqual(str(e.exception), "did not receive a valid HTTP response")
                    await ws.close()
                finally:
                    await h.stop()
        run(body())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--harness", required=True)
    parser.add_argument("--schemas", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v"] + [f"PublisherTest.{t}" if not t.startswith("-") else t for t in rest])
