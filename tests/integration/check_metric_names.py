"""Every metric the Grafana dashboard and the alert rules query must be one segmentd exports.

usage: check_metric_names.py EXPORTED_NAMES_FILE DASHBOARD.json RULES.yml...
EXPORTED_NAMES_FILE: one series name per line (segmentd_metrics_catalog --names).
"""
import sys

from promql_names import dashboard_exprs, metric_names, rule_exprs


def main():
    names_file, dashboard, *rules = sys.argv[1:]
    exported = {l.strip() for l in open(names_file) if l.strip()}
    exprs = dashboard_exprs(dashboard)
    for r in rules:
        exprs += rule_exprs(r)
    used, missing = set(), []
    for where, expr in exprs:
        for n in sorted(metric_names(expr)):
            used.add(n)
            if n not in exported:
                missing.append(f"{where}: {n} is not exported by segmentd (expr: {expr})")
    if len(exprs) < 20 or len(used) < 20:
        print(f"check_metric_names: found only {len(exprs)} expressions using {len(used)} metrics; "
              "is the extraction broken?", file=sys.stderr)
        return 1
    for m in missing:
        print(m, file=sys.stderr)
    unused = sorted(n for n in exported if n not in used and not n.endswith(("_sum", "_count")))
    verdict = f"{len(missing)} NOT EXPORTED" if missing else "all exported"
    print(f"check_metric_names: {len(exprs)} expressions, {len(used)} metrics, {verdict}; "
          f"{len(unused)} exported series not on the dashboard or in rules")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
