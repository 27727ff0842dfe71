#!/usr/bin/env bash
# Runs the example migration tool as a user would, in a fresh temp folder on a SQLite file:
# init, autogenerate, upgrade, check (exit 0), offline SQL, a model/database drift that check
# reports with exit 1, downgrade base. Each step's output is shown for the test log.
#   migrate_tool_test.sh EXE
set -uo pipefail
exe="$(realpath "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export CORM_DATABASE_URL="sqlite:///$work/app.db"

fail() { echo "migrate_tool_test: $*" >&2; exit 1; }
step() {  # step EXPECTED_STATUS REGEX args...
  local want="$1" re="$2"; shift 2
  local out status
  out="$("$exe" "$@" 2>&1)"; status=$?
  printf '$ corm_migrate_tool %s\n%s\n' "$*" "$out"
  [ "$status" -eq "$want" ] || fail "'$*' exited with $status, expected $want"
  grep -Eq -- "$re" <<<"$out" || fail "'$*': no output line matches: $re"
}

step 0 '^Created versions directory migrations$' init migrations
step 0 '^  add table books$' revision -m "create library" --autogenerate
step 0 '^Running upgrade base -> [0-9a-f]{12}, create library \([0-9]+ statements\) \.\.\. done in ' upgrade head
step 0 '^OK: the database matches the models' check
step 0 '^INSERT INTO "corm_version" \("version_num"\) VALUES' upgrade --sql
python3 - "$work/app.db" <<'PY' || fail "could not alter the database"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE drift (id INT)"); c.commit()
PY
step 1 '^  drop table drift$' check
step 0 '^Downgraded to base \(1 revision\)$' downgrade base
step 0 '^base \(no revision applied\)$' current
echo "migrate_tool_test: ok"
