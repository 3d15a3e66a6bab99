"""A small NATS client for the tests, written from the NATS client protocol (text over TCP: INFO,
CONNECT, PING/PONG, SUB, PUB, MSG and HMSG with NATS/1.0 headers) and the JetStream API
(request-reply on $JS.API.*, JSON). Independent of segmentd's code and of the C library it
uses, so that the tests read the stream as any consumer would.

    nc = NatsClient(port)
    info = nc.js("STREAM.INFO.SEGMENTD")                    # the JSON answer, as a dict
    msgs = nc.stream_msgs("SEGMENTD", 1, 100)               # [{"subject", "seq", "headers", "data"}]
    seqs = nc.js_publish([("segmentd.fills.0", b"...")])    # stream sequences
    nc.close()

Also NatsServer: a real nats-server with JetStream, on 127.0.0.1 and a port the OS picked,
its store in a folder of the test's; stop() and start() again keep the store.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

from harness import free_port


def find_nats_server():
    for path in (shutil.which("nats-server"), "/usr/sbin/nats-server", "/usr/bin/nats-server"):
        if path and os.access(path, os.X_OK):
            return path
    return None


class NatsServer:
    def __init__(self, work, name="nats"):
        self.binary = find_nats_server()
        self.port = free_port()
        self.store = os.path.join(work, name + "-store")
        self.log_path = os.path.join(work, name + ".log")
        self.proc = None

    def start(self, timeout=15):
        os.makedirs(self.store, exist_ok=True)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.store],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nats-server exited:\n" + open(self.log_path).read())
            try:
                NatsClient(self.port).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nats-server did not accept connections:\n" + open(self.log_path).read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"


class NatsClient:
    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        line = self._line()
        if not line.startswith(b"INFO "):
            raise OSError("not a NATS server: %r" % line[:80])
        self.info = json.loads(line[5:])
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "name": "segmentd-tests", "lang": "python", "version": "0"}
        self.sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        while True:
            line = self._line()
            if line == b"PONG":
                break
            if line.startswith(b"-ERR"):
                raise OSError(line.decode())
        # One subscription for every reply: _INBOX.<this client>.<request number>.
        self.inbox = "_INBOX." + uuid.uuid4().hex
        self.next_request = 1
        self.sock.sendall(f"SUB {self.inbox}.* 1\r\n".encode())

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise OSError("connection closed by the server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _next_message(self):
        """The next MSG or HMSG: (subject, sid, headers dict or None, payload)."""
        while True:
            line = self._line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
                continue
            if line in (b"PONG", b"+OK") or line.startswith(b"INFO "):
                continue
            if line.startswith(b"-ERR"):
                raise OSError(line.decode())
            parts = line.split()
            if parts[0] == b"MSG":
                size = int(parts[-1])
                return parts[1].decode(), parts[2].decode(), None, self._bytes(size)
            if parts[0] == b"HMSG":
                hdr_len, total = int(parts[-2]), int(parts[-1])
                raw = self._bytes(total)
                return parts[1].decode(), parts[2].decode(), parse_headers(raw[:hdr_len]), raw[hdr_len:]
            raise OSError("unexpected line from the server: %r" % line[:80])

    def requests(self, pairs):
        """Sends every (subject, payload) request at once, then collects the replies: a list of
        (headers, data) in the order of the requests."""
        first = self.next_request
        out = bytearray()
        for i, (subject, payload) in enumerate(pairs):
            out += f"PUB {subject} {self.inbox}.{first + i} {len(payload)}\r\n".encode() + payload + b"\r\n"
        self.next_request += len(pairs)
        self.sock.sendall(bytes(out))
        replies = {}
        self.sock.settimeout(self.timeout)
        while len(replies) < len(pairs):
            subject, _, headers, data = self._next_message()
            n = int(subject.rsplit(".", 1)[1])
            if first <= n < first + len(pairs):
                replies[n] = (headers, data)
        return [replies[first + i] for i in range(len(pairs))]

    def request(self, subject, payload=b""):
        return self.requests([(subject, payload)])[0]

    def js(self, api, body=None):
        _, data = self.request("$JS.API." + api, json.dumps(body).encode() if body is not None else b"")
        return json.loads(data) if data else {}

    def stream_msgs(self, stream, first, last, window=256):
        """Messages first..last of `stream` (the JetStream API's message get, `window` requests
        in flight), each as {"subject", "seq", "headers", "data"}; a deleted seq is left out."""
        out = []
        for lo in range(first, last + 1, window):
            seqs = range(lo, min(last, lo + window - 1) + 1)
            api = "$JS.API.STREAM.MSG.GET." + stream
            for _, data in self.requests([(api, json.dumps({"seq": q}).encode()) for q in seqs]):
                answer = json.loads(data)
                if "error" in answer:
                    continue
                m = answer["message"]
                headers = parse_headers(base64.b64decode(m["hdrs"])) if m.get("hdrs") else {}
                out.append({"subject": m["subject"], "seq": m["seq"], "headers": headers,
                            "data": base64.b64decode(m.get("data", ""))})
        return out


    def js_publish(self, messages, window=256):
        """Publishes every (subject, payload) to JetStream, `window` at a time, each as a request
        whose reply is the stream's acknowledgement; returns the stream sequences. Raises when
        the server refuses one."""
        seqs = []
        for lo in range(0, len(messages), window):
            for _, data in self.requests(messages[lo:lo + window]):
                answer = json.loads(data) if data else {"error": "no answer"}
                if "error" in answer:
                    raise OSError("publish refused: %r" % answer["error"])
                seqs.append(answer["seq"])
        return seqs


def parse_headers(raw):
    """NATS/1.0 headers (after the status line) as a dict of str to str."""
    lines = raw.decode().split("\r\n")
    out = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out
