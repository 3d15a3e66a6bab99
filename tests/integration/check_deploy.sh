#!/usr/bin/env bash
# Static checks of deploy/ (run by ctest as integration/deploy_check):
#   - promtool: alert rules, their unit tests, the scrape config (the exposition, and that every
#     metric the dashboard and the rules query is exported and set, are checked against a running
#     segmentd by prometheus_scrape_test.py)
#   - dashboard and provisioning files parse; the systemd unit verifies; the container config
#     loads; the files the Dockerfile copies exist
# usage: check_deploy.sh SOURCE_DIR SEGMENTD_BINARY
# Exits 77 (ctest: skipped) only when promtool is missing; deploy/install-deps.sh installs it.
set -euo pipefail

src=$1
segmentd=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail=0
step() { echo "--- $*"; }
bad() { echo "FAIL: $*" >&2; fail=1; }

if ! command -v promtool >/dev/null 2>&1; then
  echo "SKIP: promtool not found (Debian package 'prometheus'; deploy/install-deps.sh installs it)"
  exit 77
fi

step "alert rules: promtool check rules, promtool test rules"
promtool check rules "$src/deploy/prometheus/rules/segmentd.rules.yml" || bad "promtool check rules"
(cd "$src/deploy/prometheus/rules" && promtool test rules segmentd.rules.test.yml) || bad "promtool test rules"

step "scrape config: promtool check config"
(cd "$src/deploy/prometheus" && promtool check config --syntax-only prometheus.yml) || bad "promtool check config"

step "dashboard rows"
/usr/bin/python3 - "$src/deploy/grafana/dashboards/segmentd.json" <<'PY' || bad "dashboard rows"
import json, sys
d = json.load(open(sys.argv[1]))
rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
want = ["Ingest", "Latency", "Segments", "Churn and quality", "Publisher", "Segment risk", "Process"]
assert rows == want, f"rows {rows} != {want}"
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "duplicate panel ids"
print(f"{len(d['panels'])} panels in rows {rows}")
PY

step "provisioning and compose files parse"
/usr/bin/python3 - "$src/deploy" <<'PY' || bad "yaml"
import glob, sys, yaml
base = sys.argv[1]
for f in glob.glob(base + "/grafana/provisioning/*/*.yml") + [base + "/docker-compose.yml"]:
    doc = yaml.safe_load(open(f))
    assert doc, f
compose = yaml.safe_load(open(base + "/docker-compose.yml"))
assert set(compose["services"]) >= {"segmentd", "prometheus", "grafana", "nats"}, compose["services"].keys()
for name, svc in compose["services"].items():
    for p in svc.get("ports", []):
        assert str(p).startswith("127.0.0.1:"), f"{name} publishes {p} beyond loopback"
print("ok")
PY

step "Dockerfile copies files that exist"
for f in deploy/install-deps.sh deploy/segmentd.docker.toml config/default.toml; do
  grep -q "$f" "$src/deploy/Dockerfile" || bad "Dockerfile does not use $f"
  [ -f "$src/$f" ] || bad "Dockerfile needs $f, which does not exist"
done

step "only probes see prometheus-cpp (STYLE.md 9)"
offenders=$(grep -rlE '#include +[<"]prometheus/' "$src/core" "$src/protocol" "$src/service" "$src/tools" 2>/dev/null \
  | grep -vE '/service/metrics/[a-z_]+\.(h|cpp)$' || true)
[ -z "$offenders" ] || bad "prometheus-cpp included outside service/metrics/: $offenders"

step "container config loads"
if [ -x "$segmentd" ]; then
  "$segmentd" check-config --config "$src/deploy/segmentd.docker.toml" || bad "deploy/segmentd.docker.toml"
else
  bad "segmentd binary $segmentd not built"
fi

step "systemd unit verifies"
if command -v systemd-analyze >/dev/null 2>&1; then
  # The unit names the installed path; verify against the built binary instead.
  sed "s#/usr/local/bin/segmentd#$segmentd#g" "$src/deploy/systemd/segmentd.service" > "$work/segmentd.service"
  systemd-analyze verify "$work/segmentd.service" || bad "systemd-analyze verify"
  for k in NoNewPrivileges=yes ProtectSystem=strict CapabilityBoundingSet= DynamicUser=yes PrivateTmp=yes; do
    grep -qx "$k" "$src/deploy/systemd/segmentd.service" || bad "unit lacks $k"
  done
else
  echo "(systemd-analyze not installed: unit syntax not verified)"
fi

exit $fail
