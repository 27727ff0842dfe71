#!/usr/bin/env bash
# Runs the tutorial's program on the server whose URL is in environment variable VAR (how the tests
# pass theirs) and checks its output, twice: the program drops and re-creates its two tables, so a
# second run must print the same.
#   run_on_server.sh EXE VAR
set -euo pipefail
exe="$1" var="$2"
url="${!var:-}"
if [ -z "$url" ]; then
  echo "environment variable $var is not set; run the tests through ./scripts/test, which starts the servers" >&2
  exit 1
fi
here="$(cd "$(dirname "$0")" && pwd)"
for run in 1 2; do
  "$here/../run_example.sh" "$exe" "$url" \
    --expect '^Stanisław Lem: Solaris \(1961\)$' \
    --expect '^statements for the listing: 2$' \
    --expect '^second unit rolled back: unique violation$' \
    --expect '^authors=2 books=4 renamed=Solaris \(1961\)$'
done
