#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build/fuzz and runs them (tests/README.md,
# "Fuzzing"):
#   - the venue adapters, SECONDS each (default 60), seeded with the venue's sample messages: the
#     repository's own fixtures in tests/fixtures/exchanges/<venue> (not their .expected.json),
#     plus the third-party samples in $SEGMENTD_SHARED_DIR/fixtures/exchanges/<venue> (default
#     ../shared) when that folder exists;
#   - the other targets (native, publisher_request, admin_http, ingest_frame, config),
#     $SEGMENTD_FUZZ_TARGET_SECONDS each (default SECONDS), seeded from tests/fuzz/corpus/<target>.
# Every target also gets the inputs that once crashed it, tests/fuzz/regressions/<name>/.
# The fuzzers run FUZZ_JOBS at a time (default: the number of cores). SEGMENTD_FUZZ_BUILD_ONLY=1
# only builds them.
# Fails when a fuzzer finds a crash, a sanitizer report or a broken invariant; the reproducer is
# left in build/fuzz/artifacts/<name>/.
#   tests/fuzz/run_fuzzers.sh [SECONDS] [VENUE|TARGET...]   (no name: every venue, the default targets)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
shift || true
target_seconds=${SEGMENTD_FUZZ_TARGET_SECONDS:-$seconds}
all_venues=(deribit binance okx bybit hyperliquid)
all_targets=(native publisher_request admin_http ingest_frame config)
venues=()
others=()
for name in "$@"; do
  if [[ " ${all_venues[*]} " == *" $name "* ]]; then
    venues+=("$name")
  elif [[ " ${all_targets[*]} " == *" $name "* ]]; then
    others+=("$name")
  else
    echo "run_fuzzers.sh: unknown venue or target '$name' (venues: ${all_venues[*]}; targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
if [ $# -eq 0 ]; then
  venues=("${all_venues[@]}")
  others=("${all_targets[@]}")
fi
# The longest input each target is given: its requests' and files' realistic sizes, a little over.
declare -A max_len=([native]=16384 [publisher_request]=4096 [admin_http]=16384 [ingest_frame]=65536 [config]=12288)
# libFuzzer's per-input leak check (-detect_leaks, on by default) scans the whole heap after every
# input that allocated more than it freed. ingest_frame's server keeps its state across inputs by
# design (interned accounts, the de-duplication window), so nearly every input qualifies and the
# scans of a growing heap took 40% of its time (508 exec/s). It is off for that target only;
# LeakSanitizer still checks the whole process at exit (ASAN_OPTIONS=detect_leaks=1).
declare -A extra_flags=([ingest_frame]=-detect_leaks=0)
build=$root/build/fuzz
shared=${SEGMENTD_SHARED_DIR:-$root/../shared}
jobs=${FUZZ_BUILD_JOBS:-2}

# -O1 -g1 rather than RelWithDebInfo's -O2 -g: a bounded run (CI) needs the build sooner more
# than it needs -O2's executions per second.
configure=(-G Ninja -S "$root" -B "$build"
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer"
  -DSEGMENTD_BUILD_FUZZ=ON -DSEGMENTD_BUILD_BENCH=OFF)
if grep -q "add_subdirectory(fuzz)" "$root/tests/CMakeLists.txt" 2>/dev/null; then
  configure+=(-DSEGMENTD_BUILD_TESTS=ON)
else
  # Not hooked into tests/ yet: include the fuzz targets right after project().
  configure+=(-DSEGMENTD_BUILD_TESTS=OFF "-DCMAKE_PROJECT_segmentd_INCLUDE=$root/tests/fuzz/CMakeLists.txt")
fi
cmake "${configure[@]}" >/dev/null
targets=()
for v in "${venues[@]}"; do targets+=("fuzz_${v}_adapter"); done
for t in "${others[@]}"; do targets+=("fuzz_${t}"); done
cmake --build "$build" --target "${targets[@]}" -j"$jobs"
# SEGMENTD_FUZZ_BUILD_ONLY=1: build the targets and stop (CI builds them ahead, beside other work).
if [ "${SEGMENTD_FUZZ_BUILD_ONLY:-0}" = 1 ]; then exit 0; fi

# The fuzzers run side by side, FUZZ_JOBS at a time (default: one per core): each is one process
# on one core, so on 2 cores the stage takes half as long. Each writes its own log; the summaries
# are printed in the order the fuzzers were listed, once all have finished.
fuzz_jobs=${FUZZ_JOBS:-$(nproc)}
names=()
# run_one NAME BINARY MAX_LEN SECONDS CORPUS: one bounded run, its exit code in $build/fuzz_NAME.rc.
run_one() {
  local name=$1 binary=$2 len=$3 secs=$4 corpus=$5 rc=0
  # shellcheck disable=SC2086  # extra_flags: zero or more words
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$binary" ${extra_flags[$name]:-} \
    -max_total_time="$secs" -max_len="$len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$name/" "$corpus" >"$build/fuzz_${name}.log" 2>&1 || rc=$?
  echo "$rc" >"$build/fuzz_${name}.rc"
}
start_one() {
  while [ "$(jobs -rp | wc -l)" -ge "$fuzz_jobs" ]; do wait -n || true; done
  names+=("$1")
  run_one "$@" &
}

for v in "${venues[@]}"; do
  corpus=$build/corpus/$v
  artifacts=$build/artifacts/$v
  mkdir -p "$corpus" "$artifacts"
  # Seeds: every sample message of the venue (copied: the fuzzer writes new inputs here). An
  # .ndjson also goes in line by line: the adapter takes one message at a time.
  find "$root/tests/fixtures/exchanges/$v" -type f \( -name '*.json' -o -name '*.ndjson' \) \
    ! -name '*.expected.json' -exec cp -n {} "$corpus/" \;
  for nd in "$root/tests/fixtures/exchanges/$v"/*.ndjson; do
    [ -f "$nd" ] || continue
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
      n=$((n + 1))
      if [ -n "$line" ]; then printf '%s' "$line" >"$corpus/$(basename "$nd" .ndjson).line$n.json"; fi
    done <"$nd"
  done
  if [ -d "$shared/fixtures/exchanges/$v" ]; then
    find "$shared/fixtures/exchanges/$v" -type f -exec cp -n {} "$corpus/" \;
  else
    echo "== $v: $shared/fixtures/exchanges/$v is absent: seeding from tests/fixtures/exchanges only"
  fi
  # Plus every input that once crashed an adapter, so that a regression shows at once.
  find "$root/tests/fuzz/regressions/$v" -type f -exec cp -n {} "$corpus/" \; 2>/dev/null || true
  echo "== fuzz_${v}_adapter for ${seconds}s ($(ls "$corpus" | wc -l) corpus files)"
  start_one "$v" "$build/fuzz/fuzz_${v}_adapter" 65536 "$seconds" "$corpus"
done

for t in "${others[@]}"; do
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  cp -n "$root/tests/fuzz/corpus/$t"/* "$corpus/"
  find "$root/tests/fuzz/regressions/$t" -type f -exec cp -n {} "$corpus/" \; 2>/dev/null || true
  echo "== fuzz_${t} for ${target_seconds}s ($(ls "$corpus" | wc -l) corpus files)"
  start_one "$t" "$build/fuzz/fuzz_${t}" "${max_len[$t]}" "$target_seconds" "$corpus"
done
wait

status=0
for name in "${names[@]}"; do
  log=$build/fuzz_${name}.log
  if [ "$(cat "$build/fuzz_${name}.rc" 2>/dev/null || echo 1)" != 0 ]; then
    echo "fuzz ${name} FAILED: see $log and $build/artifacts/$name/"
    tail -40 "$log"
    status=1
  else
    echo "fuzz ${name}: $(grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | tr '\n' ' ')"
  fi
done
exit $status
