#!/usr/bin/env bash
# Runs the real segmentd (built-in simulator source, small population) with its admin API, and so
# /metrics, on 127.0.0.1:PORT. For the Prometheus scrape test: segmentd_on_port.sh SEGMENTD PORT
# The simulator runs in real time (sim_speedup = 1), so fills carry wall-clock receive times and
# the end-to-end latency histogram is fed as in a venue deployment.
set -euo pipefail
segmentd=$1
port=$2
cfg=$(mktemp /tmp/segmentd-scrape-XXXXXX.toml)
state=$(mktemp -d /tmp/segmentd-scrape-state-XXXXXX)
trap 'rm -rf "$cfg" "$state"' EXIT
cat > "$cfg" <<TOML
[admin]
port = $port
allow_anonymous = true
[publisher]
port = 0
allow_anonymous = true
[clusterer]
min_accounts = 100
[run]
summary_interval = 0
sim_accounts = 300
sim_rate = 3000
sim_speedup = 1
[checkpoint]
dir = "$state"
interval = "2s"
TOML
# exec would lose the trap; run in the foreground and forward the stop signal.
"$segmentd" run --config "$cfg" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; rm -rf "$cfg" "$state"' TERM INT EXIT
wait $child
