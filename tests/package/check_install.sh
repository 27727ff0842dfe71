#!/usr/bin/env bash
# Installs the built corm into a temporary prefix, then configures, builds and runs a consumer
# that finds it with find_package(corm). Arguments: <corm build dir> <consumer source dir>
# [sanitizer] — a sanitizer build of corm needs the consumer built with the same runtime.
set -euo pipefail
build="$1"
consumer="$2"
flags=""
case "${3:-}" in
  address) flags="-fsanitize=address,undefined" ;;
  thread) flags="-fsanitize=thread" ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
out="$("$work/build/consumer")"
[ "$out" = "42" ] || { echo "consumer printed '$out', expected 42" >&2; exit 1; }
echo "find_package(corm) consumer built and ran"
