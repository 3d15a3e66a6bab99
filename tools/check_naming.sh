#!/usr/bin/env bash
# Runs clang-tidy's naming checks (.clang-tidy: readability-identifier-naming) over every C++
# source of the product and the tools (core, protocol, sim, service, tools), and fails on any
# finding. Uses the compile commands of a configured build (default build/release), with the
# precompiled-header flags removed: GCC's .gch files are not readable by clang.
#   tools/check_naming.sh [BUILD_DIR] [FILE...]     (no FILE: the whole tree)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [ -z "$tidy" ]; then echo "check_naming: clang-tidy not installed" >&2; exit 1; fi
if [ ! -f "$build/compile_commands.json" ]; then
  echo "check_naming: $build/compile_commands.json not found (configure the build first)" >&2
  exit 1
fi
db="$build/naming"
mkdir -p "$db"
python3 - "$build/compile_commands.json" "$db/compile_commands.json" <<'EOF'
import json, re, shlex, sys
entries = json.load(open(sys.argv[1]))
for e in entries:
    args = shlex.split(e["command"]) if "command" in e else e["arguments"]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-include" :
            skip = True  # the precompiled header that follows
            continue
        if a == "-Winvalid-pch" or re.match(r"-include.*cmake_pch", a):
            continue
        out.append(a)
    e.pop("command", None)
    e["arguments"] = out
json.dump(entries, open(sys.argv[2], "w"))
EOF
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'core/*.cpp' 'protocol/*.cpp' 'sim/*.cpp' 'service/*.cpp' 'tools/*.cpp')
fi
log="$db/findings.txt"
: > "$log"
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 8 "$tidy" -p "$db" --quiet --checks='-*,readability-identifier-naming' \
    --warnings-as-errors='readability-identifier-naming' >> "$log" 2>/dev/null || true
findings=$(grep -E 'warning:|error:' "$log" | sort -u || true)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "check_naming: $(echo "$findings" | wc -l) naming findings (.clang-tidy says the convention)"
  exit 1
fi
echo "check_naming: ${#files[@]} files ok"
