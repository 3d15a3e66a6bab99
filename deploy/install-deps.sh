#!/usr/bin/env bash
# Installs every build and test dependency of segmentd from Debian 12 packages, by name.
# Idempotent: when everything is installed it checks with dpkg and exits in well under a second.
# Runs as root, or through sudo when it is available.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config git ca-certificates
  # libraries
  libboost-dev libboost-program-options-dev   # Asio, Beast (header-only in 1.74), program_options
  libsimdjson-dev libabsl-dev prometheus-cpp-dev libssl-dev libtomlplusplus-dev libnats-dev
  # tests and benchmarks
  catch2 libbenchmark-dev clang libclang-rt-14-dev clang-tidy clang-format openssl
  python3 python3-numpy python3-sklearn python3-websockets python3-yaml python3-jsonschema
  prometheus nats-server
  chromium fonts-dejavu-core                   # the console's browser test (tests/console/)
)
# Node.js and npm for the console's browser test (puppeteer-core, tests/console/): Debian's
# packages when no node is installed; a node from elsewhere (with its own npm) is left alone.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts these daemons on install; segmentd's tests start their own on loopback.
for svc in prometheus nats-server; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $sudo systemctl stop "$svc" || true
    $sudo systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
echo "install-deps: done"
