#!/usr/bin/env bash
# Levels (DESIGN.md §2): core < protocol < service. A lower level never includes a higher one
# nor the libraries reserved to it. Prints every offending include and fails.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0
check() {  # folder, regex of forbidden includes, reason
  local hits
  # service/main.cpp is the composition root of the binary: it alone may include tools/ (the
  # embedded default runs the simulator in-process).
  hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$root/$1" --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cc' 2>/dev/null | grep -v "^$root/service/main.cpp:")
  if [ -n "$hits" ]; then
    echo "levelization: $1/ may not include $3:"
    echo "$hits"
    fail=1
  fi
}
check core 'boost/|simdjson|prometheus/|nats|openssl/|toml|protocol/|service/|tools/' 'Asio, Beast, simdjson, prometheus-cpp, NATS, OpenSSL, toml or a higher level'
check protocol 'boost/|prometheus/|nats|toml|service/|tools/' 'Asio, Beast, prometheus-cpp, NATS, toml or a higher level'
check service 'tools/' 'tools/'
if [ $fail -eq 0 ]; then echo "levelization: ok (core < protocol < service)"; fi
exit $fail
