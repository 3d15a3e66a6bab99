#!/usr/bin/env bash
# The levels of the code (docs/architecture.md, "Levels"), with no exceptions:
#   core < protocol < sim < service < tools
# A lower level never includes a higher one nor the libraries reserved to a higher one. Inside
# protocol/, a venue's folder knows no other venue (only venues/registry.* sees them all). Inside
# service/, net/ knows nothing of shards, clustering, publishing or ingest; base/ knows nothing
# of the rest of service/; shards/ and clustering/ do no I/O; and only app/ wires everything
# (nothing outside app/ includes it). Prints every offending include and fails.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0
inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]'

# folder, regex of forbidden include paths, reason
check() {
  local hits
  [ -d "$root/$1" ] || { echo "levelization: $1/ does not exist"; fail=1; return; }
  hits=$(grep -rnE "$inc($2)" "$root/$1" --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "levelization: $1/ may not include $3:"
    echo "$hits"
    fail=1
  fi
}

check core 'boost/|simdjson|prometheus/|nats|openssl/|toml|protocol/|sim/|service/|tools/' \
  'Asio, Beast, simdjson, prometheus-cpp, NATS, OpenSSL, toml or a higher level'
check protocol 'boost/|prometheus/|nats|toml|sim/|service/|tools/' \
  'Asio, Beast, prometheus-cpp, NATS, toml or a higher level'
check sim 'boost/|simdjson|prometheus/|nats|openssl/|toml|service/|tools/' \
  'Asio, Beast, simdjson, prometheus-cpp, NATS, OpenSSL, toml, service/ or tools/'
check service 'tools/' 'tools/'

# protocol/venues/<venue>/: its own folder and the shared venue code only.
for dir in "$root"/protocol/venues/*/; do
  venue=$(basename "$dir")
  others=$(cd "$root/protocol/venues" && for d in */; do [ "${d%/}" != "$venue" ] && printf '%s|' "${d%/}"; done)
  others=${others%|}
  [ -n "$others" ] && check "protocol/venues/$venue" "protocol/venues/($others)/|protocol/venues/registry\\.h" \
    'another venue or the registry of all venues'
done
# Only the registry and the code above protocol/venues/ may name a venue's folder.
hits=$(grep -rnE "${inc}protocol/venues/[a-z]+/" "$root/protocol" --include='*.h' --include='*.cpp' 2>/dev/null |
  grep -v "^$root/protocol/venues/registry\.cpp:" |
  awk -F: '{ split($1, p, "/protocol/venues/"); split(p[2], q, "/"); inc = $0; sub(/.*protocol\/venues\//, "", inc); split(inc, r, "/"); if (q[1] != r[1]) print }')
if [ -n "$hits" ]; then
  echo "levelization: inside protocol/, only venues/registry.cpp includes a venue's folder:"
  echo "$hits"
  fail=1
fi

# service/: the stages of the data flow.
check service/base 'service/(app|config|net|ingest|shards|clustering|publisher|admin|metrics|state)/' 'anything else of service/'
check service/net 'service/(app|config|ingest|shards|clustering|publisher|admin|metrics|state)/' \
  'config, ingest, shards, clustering, publisher, admin, metrics or app'
check service/shards 'service/(app|net|ingest|clustering|publisher|admin)/' 'I/O, ingest, clustering, publisher, admin or app'
check service/clustering 'service/(app|net|ingest|publisher|admin)/' 'I/O, ingest, publisher, admin or app'
for dir in "$root"/service/*/; do
  part=$(basename "$dir")
  [ "$part" = app ] && continue
  check "service/$part" 'service/app/' 'service/app/ (only app wires everything)'
done

if [ $fail -eq 0 ]; then
  echo "levelization: ok (core < protocol < sim < service < tools; venues apart; service stages)"
fi
exit $fail
