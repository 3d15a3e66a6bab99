#!/usr/bin/env bash
# Fails when a C++ file differs from .clang-format's layout. Run with --fix to rewrite them.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then echo "check_format: clang-format not installed, skipped"; exit 0; fi
mapfile -t files < <(git ls-files '*.h' '*.cpp' '*.hpp' '*.cc')
if [ "${1:-}" = "--fix" ]; then "$fmt" -i "${files[@]}"; exit 0; fi
bad=0
for f in "${files[@]}"; do
  if ! "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1; then echo "check_format: $f needs clang-format"; bad=1; fi
done
[ $bad -eq 0 ] && echo "check_format: ${#files[@]} files ok"
exit $bad
