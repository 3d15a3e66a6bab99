#!/usr/bin/env python3
"""Times a segmentd restart: from exec to the first GET /v1/segments that answers "ready": true
with the model restored from the checkpoint (bench/README.md, "Checkpoints").

  bench/restart_ready.py --segmentd build/release/segmentd --config live.toml --admin 127.0.0.1:18866

The config must name the checkpoint directory to restore from, an admin port with
allow_anonymous = true, and a source that keeps the process up (an idle kind = "ingest"
source). Prints the seconds to ready and the restore time of segmentd's "checkpoint restored"
log line; the process is then stopped with SIGTERM (it writes a checkpoint on the way out).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segmentd", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--admin", required=True, help="host:port of the admin API in that config")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    url = f"http://{args.admin}/v1/segments"
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    env = dict(os.environ)
    env.setdefault("SEGMENTD_TEST_INGEST_TOKEN", "unused-token")
    t0 = time.monotonic()
    proc = subprocess.Popen([args.segmentd, "run", "--config", args.config], stdout=subprocess.DEVNULL,
                            stderr=log, env=env)
    ready = None
    while proc.poll() is None and time.monotonic() - t0 < args.timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if json.loads(r.read()).get("ready"):
                    ready = time.monotonic() - t0
                    break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    if proc.poll() is None:
        proc.terminate()
    proc.wait()
    log.seek(0)
    restored = [line for line in log if "checkpoint restored" in line]
    os.unlink(log.name)
    if ready is None:
        print(f"not ready within {args.timeout:.0f} s (exit {proc.returncode})")
        return 1
    restore = restored[0].rsplit("seconds=", 1)[1].strip() if restored else "no 'checkpoint restored' line"
    print(f"ready {ready:.2f} s after exec; restore {restore} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
