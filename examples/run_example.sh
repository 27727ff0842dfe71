#!/usr/bin/env bash
# Runs one example program the way the tests do and checks its real output.
#   run_example.sh EXE [program args...] [--expect REGEX]...
# Every REGEX (grep -E) must match a line of the program's standard output; the program must
# exit 0. The output is always shown, so a failing check can be read in the test log.
set -uo pipefail
exe="$1"; shift
prog_args=()
expects=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--expect" ]; then expects+=("$2"); shift 2; else prog_args+=("$1"); shift; fi
done
out="$("$exe" ${prog_args[@]+"${prog_args[@]}"})"
status=$?
printf '%s\n' "$out"
if [ $status -ne 0 ]; then echo "run_example: $exe exited with $status" >&2; exit 1; fi
for re in ${expects[@]+"${expects[@]}"}; do
  if ! grep -Eq -- "$re" <<<"$out"; then
    echo "run_example: no output line matches: $re" >&2
    exit 1
  fi
done
