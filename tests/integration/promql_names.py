"""Metric names in PromQL expressions, and the expressions of the deploy/ files.

Used by prometheus_scrape_test.py. Not a PromQL parser: it removes
what cannot be a metric name (strings, label matchers, grouping label lists, range and offset
durations, numbers) and keeps the identifiers of segmentd's namespaces.
"""
import json
import re

import yaml

# Metric namespaces segmentd exports; other identifiers (up, functions, keywords) are not ours.
NAMESPACES = ("segmentd_", "process_")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr):
    e = _STRING.sub('""', expr)
    e = _MATCHERS.sub(" ", e)
    e = _GROUPING.sub(" ", e)
    e = _RANGE.sub(" ", e)
    return {t for t in _IDENT.findall(e) if t.startswith(NAMESPACES)}


def grafana_to_promql(expr):
    """A dashboard expression with Grafana's variables replaced by values Prometheus accepts."""
    return (expr.replace("$__rate_interval", "1m").replace("$__interval", "1m")
            .replace("$__range", "1h").replace("$instance", ".*").replace("${instance}", ".*"))


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((f'panel "{p.get("title")}"', t["expr"]))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            out.append((f'annotation "{a.get("name")}"', a["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"label_values\((.*),\s*\w+\)$", q or "")
        if m:
            out.append((f'variable "{v.get("name")}"', m.group(1)))
    return out


def rule_exprs(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    out = []
    for g in doc.get("groups", []):
        for r in g.get("rules", []):
            out.append((f'rule "{r.get("alert") or r.get("record")}"', r["expr"]))
    return out
