#!/usr/bin/env bash
# The tutorial's path, as a new user takes it: install the built corm into a temporary prefix,
# configure examples/tutorial as a project of its own with find_package(corm), build it, run it on
# a SQLite file and check its last line.
#   check_tutorial_package.sh <corm build dir> <tutorial source dir> [sanitizer]
set -euo pipefail
build="$1"
tutorial="$2"
flags=""
case "${3:-}" in
  address) flags="-fsanitize=address,undefined" ;;
  thread) flags="-fsanitize=thread" ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$tutorial" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
out="$("$work/build/tutorial" "sqlite:///$work/tutorial.db")"
printf '%s\n' "$out"
grep -q '^authors=2 books=4 renamed=Solaris (1961)$' <<<"$out" || {
  echo "the installed tutorial did not print its last line" >&2
  exit 1
}
echo "the tutorial built against the installed corm and ran"
