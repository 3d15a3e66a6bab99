"""Helpers that the Python integration tests share: loopback ports and the Prometheus exposition.

Imported by the tests in this folder (the folder is on sys.path when a test runs as a script).
"""

import re
import socket
import urllib.request

_EXPOSITION_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_exposition(text):
    """{name: {labels-string: value}} of a Prometheus text exposition; fails on a malformed line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _EXPOSITION_LINE.match(line)
        assert m, f"not an exposition line: {line!r}"
        out.setdefault(m.group(1), {})[m.group(2) or ""] = float(m.group(3))
    return out


def scrape(port, path="/metrics", timeout=10):
    """GET http://127.0.0.1:<port><path>, parsed (no credentials: /metrics is open)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return parse_exposition(r.read().decode())


def metric_total(metrics, name, label_filter=""):
    """The sum of a metric's series whose label string contains label_filter (0 when absent)."""
    return sum(v for labels, v in metrics.get(name, {}).items() if label_filter in labels)
