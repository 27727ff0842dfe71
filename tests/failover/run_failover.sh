#!/usr/bin/env bash
# Runs one failover test against a throwaway primary + standby pair of its own (never the shared
# servers of scripts/test: the primary dies here). usage:
#   run_failover.sh postgres|mysql <test binary> [catch args...]
# Exports for the binary:
#   CORM_FAILOVER_URL          primary,standby host list with target_session_attrs=read-write
#   CORM_FAILOVER_STANDBY_URL  the standby alone (the new primary, checked at the end)
#   CORM_FAILOVER_KILL         command that kills the primary at once (no clean shutdown)
#   CORM_FAILOVER_PROMOTE      command that promotes the standby and returns once it takes writes
#   CORM_FAILOVER_APP_URL      (MySQL) the host list as a user without SUPER, for the read-only case
# Commits are synchronous to the standby (PostgreSQL synchronous_standby_names, MariaDB
# semi-sync AFTER_SYNC), so every commit a client saw succeed is on the standby when it is
# promoted; that is what the test checks.
set -euo pipefail
backend="$1"; shift
binary="$1"; shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/scripts/lib/pg.sh"
source "$root/scripts/lib/mariadb.sh"
work="$(mktemp -d /tmp/corm-failover.XXXXXX)"
chmod 755 "$work"
trap 'pg_stop_all; mariadb_stop_all; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

case "$backend" in
  postgres)
    pg_start FO_PRIMARY
    pg_start_standby FO_STANDBY FO_PRIMARY
    # Synchronous replication from here on (set after the clone, so the standby does not inherit
    # it and wait for a standby of its own once promoted).
    pg_as "$PG_BIN/psql" -h 127.0.0.1 -p "$FO_PRIMARY_PORT" -U postgres -d postgres -Atq \
      -c "ALTER SYSTEM SET synchronous_commit = 'on'" \
      -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" >/dev/null
    for i in $(seq 1 100); do
      state="$(pg_as "$PG_BIN/psql" -h 127.0.0.1 -p "$FO_PRIMARY_PORT" -U postgres -d postgres -Atqc \
          "SELECT sync_state FROM pg_stat_replication" 2>/dev/null || true)"
      [ "$state" = "sync" ] && break
      sleep 0.1
    done
    [ "$state" = "sync" ] || { echo "run_failover.sh: the standby did not become synchronous" >&2; exit 1; }
    export CORM_FAILOVER_URL="postgresql://postgres@127.0.0.1:$FO_PRIMARY_PORT,127.0.0.1:$FO_STANDBY_PORT/postgres?target_session_attrs=read-write&connect_timeout=5"
    export CORM_FAILOVER_STANDBY_URL="$FO_STANDBY_URL"
    # As the clusters' owner when this runs as root (pg_as).
    if [ "$(id -u)" -eq 0 ]; then as="runuser -u postgres --"; else as=""; fi
    export CORM_FAILOVER_KILL="$as $PG_BIN/pg_ctl stop -m immediate -w -D $FO_PRIMARY_DIR/data >/dev/null"
    export CORM_FAILOVER_PROMOTE="$as $PG_BIN/pg_ctl promote -w -t 30 -D $FO_STANDBY_DIR/data >/dev/null"
    ;;
  mysql)
    mariadb_start FO_PRIMARY
    mariadb_start_replica FO_STANDBY FO_PRIMARY
    # The test kills the primary: bash would report that as a killed job. mariadb_stop_all still
    # kills both by pid.
    disown -a
    # Semi-synchronous replication: a COMMIT returns once the replica has the transaction. The
    # timeout is long so the primary never falls back to asynchronous replication mid-test.
    mariadb_sql "$FO_PRIMARY_DIR" "SET GLOBAL rpl_semi_sync_master_enabled = ON;
      SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC;
      SET GLOBAL rpl_semi_sync_master_timeout = 600000" >/dev/null
    mariadb_sql "$FO_STANDBY_DIR" "SET GLOBAL rpl_semi_sync_slave_enabled = ON;
      STOP SLAVE IO_THREAD; START SLAVE IO_THREAD" >/dev/null
    for i in $(seq 1 100); do
      clients="$(mariadb_sql "$FO_PRIMARY_DIR" "SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'" | cut -f2)"
      [ "$clients" = "1" ] && break
      sleep 0.1
    done
    [ "$clients" = "1" ] || { echo "run_failover.sh: the replica did not become semi-synchronous" >&2; exit 1; }
    export CORM_FAILOVER_URL="mysql://$MARIADB_USER@127.0.0.1:$FO_PRIMARY_PORT,127.0.0.1:$FO_STANDBY_PORT/$MARIADB_DATABASE?target_session_attrs=read-write&connect_timeout=5"
    export CORM_FAILOVER_STANDBY_URL="$FO_STANDBY_URL"
    # A user without SUPER, whom read_only binds (the test user has every privilege, and
    # read_only does not apply to it): the demoted-primary case runs as this user.
    mariadb_sql "$FO_PRIMARY_DIR" "CREATE USER 'fo_app'@'127.0.0.1';
      GRANT SELECT, INSERT, UPDATE, DELETE ON \`$MARIADB_DATABASE\`.* TO 'fo_app'@'127.0.0.1'" >/dev/null
    export CORM_FAILOVER_APP_URL="mysql://fo_app@127.0.0.1:$FO_PRIMARY_PORT,127.0.0.1:$FO_STANDBY_PORT/$MARIADB_DATABASE?target_session_attrs=read-write&connect_timeout=5"
    export CORM_FAILOVER_KILL="kill -9 $(cat "$FO_PRIMARY_DIR/server.pid")"
    # Promotion: apply everything the replica received, stop replicating, accept writes.
    cat >"$work/promote.sh" <<SH
set -e
source "$root/scripts/lib/mariadb.sh"
io_pos="\$(mariadb --no-defaults -uroot -S "$FO_STANDBY_DIR/mysqld.sock" -e 'SHOW SLAVE STATUS\G' | sed -n 's/^ *Gtid_IO_Pos: //p')"
[ "\$(mariadb_sql "$FO_STANDBY_DIR" "SELECT MASTER_GTID_WAIT('\$io_pos', 30)")" = "0" ]
mariadb_sql "$FO_STANDBY_DIR" "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF" >/dev/null
SH
    export CORM_FAILOVER_PROMOTE="bash $work/promote.sh"
    ;;
  *) echo "run_failover.sh: unknown backend '$backend'" >&2; exit 2 ;;
esac

status=0
"$binary" "$@" || status=$?
exit $status
