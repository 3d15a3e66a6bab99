#!/usr/bin/env bash
# The console's browser test as CTest runs it (tests/integration/console.cmake):
#   tests/console/run.sh SEGMENTD OUT
# puppeteer-core is installed with `npm ci` from tests/console/package-lock.json into OUT (the
# build folder, not the source tree), again only when the lock file changed; the test script runs
# from there so that node finds it. Chromium is Debian's (deploy/install-deps.sh). Screenshots of
# every view are left in OUT/run/. A missing Chromium, node or npm fails the test: CI must run it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
segmentd=$1
out=$2
mkdir -p "$out"
chromium=$(command -v chromium || true)
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "console test: $tool is not installed (deploy/install-deps.sh)" >&2; exit 1; }
done
[ -n "$chromium" ] || { echo "console test: chromium is not installed (deploy/install-deps.sh)" >&2; exit 1; }
if ! cmp -s "$here/package-lock.json" "$out/package-lock.json" || [ ! -d "$out/node_modules/puppeteer-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$out/"
  (cd "$out" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/console_test.mjs" "$out/"
exec node "$out/console_test.mjs" --segmentd "$segmentd" --chromium "$chromium" --out "$out/run"
