# Throwaway PostgreSQL clusters for tests and benchmarks. Sourced, not run.
# PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` user; it lives in a
# fresh temp directory, listens only on 127.0.0.1 at a free port with a private socket directory,
# and pg_stop_all (installed as an EXIT trap by the caller) removes every cluster it started.

PG_BIN="$(pg_config --bindir 2>/dev/null || true)"
[ -x "$PG_BIN/initdb" ] || PG_BIN=/usr/lib/postgresql/15/bin
PG_CLUSTERS=()
PG_BOUNCERS=()

pg_as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# pg_start VAR [extra postgresql.conf lines...]: starts a cluster, sets VAR_DIR, VAR_PORT, VAR_URL.
pg_start() {
  local var="$1"; shift
  local dir port
  dir="$(mktemp -d /tmp/corm-pg.XXXXXX)"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  port="$(pg_free_port)"
  pg_as "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  mkdir -p "$dir/sock"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/sock"
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$dir/sock'"
    echo "max_connections = 300"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "wal_level = replica"
    echo "max_wal_senders = 4"
    echo "max_replication_slots = 4"
    echo "max_prepared_transactions = 20"
    echo "deadlock_timeout = 100ms"
    for line in "$@"; do echo "$line"; done
  } | pg_as tee -a "$dir/data/postgresql.conf" >/dev/null
  echo "host replication all 127.0.0.1/32 trust" | pg_as tee -a "$dir/data/pg_hba.conf" >/dev/null
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  PG_CLUSTERS+=("$dir")
  printf -v "${var}_DIR" '%s' "$dir"
  printf -v "${var}_PORT" '%s' "$port"
  printf -v "${var}_URL" '%s' "postgresql://postgres@127.0.0.1:$port/postgres"
}

# pg_start_standby VAR PRIMARY_VAR: a streaming hot standby of a cluster started by pg_start,
# cloned with `pg_basebackup -R` (which writes primary_conninfo and standby.signal); sets VAR_DIR,
# VAR_PORT, VAR_URL. Returns once the primary reports the standby as streaming.
# The standby streams through a physical replication slot (`-C -S`), so the primary keeps every
# WAL segment the standby has not received: when a test restarts the primary or a walsender is
# terminated, the standby reconnects (after wal_retrieve_retry_interval) and resumes where it
# stopped, instead of asking for a segment that a checkpoint has already recycled.
pg_start_standby() {
  local var="$1" primary="$2"
  local pport dir port
  pport="$(eval echo "\${${primary}_PORT}")"
  dir="$(mktemp -d /tmp/corm-pg.XXXXXX)"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  port="$(pg_free_port)"
  pg_as "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/data" -R -X stream \
      -C -S "corm_${var,,}" --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
  mkdir -p "$dir/sock"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/sock"
  {
    echo "port = $port"
    echo "unix_socket_directories = '$dir/sock'"
    echo "hot_standby = on"
    echo "wal_retrieve_retry_interval = 200ms"
  } | pg_as tee -a "$dir/data/postgresql.conf" >/dev/null
  PG_CLUSTERS+=("$dir")
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  pg_wait_streaming "$pport" "corm_${var,,}" || { tail -20 "$dir/server.log" >&2; return 1; }
  printf -v "${var}_DIR" '%s' "$dir"
  printf -v "${var}_PORT" '%s' "$port"
  printf -v "${var}_URL" '%s' "postgresql://postgres@127.0.0.1:$port/postgres"
}

# pg_wait_streaming PRIMARY_PORT SLOT: waits up to 30 s until the primary's pg_stat_replication
# shows the standby on SLOT as streaming.
pg_wait_streaming() {
  local pport="$1" slot="$2" i state
  for i in $(seq 1 300); do
    state="$(pg_as "$PG_BIN/psql" -h 127.0.0.1 -p "$pport" -U postgres -d postgres -Atqc \
        "SELECT r.state FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid
          WHERE s.slot_name = '$slot'" 2>/dev/null || true)"
    [ "$state" = "streaming" ] && return 0
    sleep 0.1
  done
  echo "pg.sh: the standby on slot $slot is not streaming after 30 s (state '${state}')" >&2
  return 1
}

# pg_start_pgbouncer VAR PRIMARY_VAR: Debian's PgBouncer in transaction pooling mode in front of a
# cluster (any database name is forwarded); sets VAR_DIR, VAR_PORT, VAR_URL. It refuses to run as
# root, so it runs as `postgres` like the clusters.
pg_start_pgbouncer() {
  local var="$1" primary="$2"
  local pport dir port i
  pport="$(eval echo "\${${primary}_PORT}")"
  dir="$(mktemp -d /tmp/corm-pgb.XXXXXX)"
  chmod 755 "$dir"
  port="$(pg_free_port)"
  echo '"postgres" ""' >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pport
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options,application_name
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
  pg_as /usr/sbin/pgbouncer -d "$dir/pgbouncer.ini" >/dev/null 2>&1 \
    || { cat "$dir/pgbouncer.log" >&2; return 1; }
  for i in $(seq 1 50); do
    pg_as "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc 'select 1' \
        >/dev/null 2>&1 && break
    sleep 0.1
  done
  PG_BOUNCERS+=("$dir")
  printf -v "${var}_DIR" '%s' "$dir"
  printf -v "${var}_PORT" '%s' "$port"
  printf -v "${var}_URL" '%s' "postgresql://postgres@127.0.0.1:$port/postgres"
}

pg_stop_all() {
  local dir
  for dir in "${PG_BOUNCERS[@]}"; do
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    rm -rf "$dir"
  done
  PG_BOUNCERS=()
  # Standbys were appended after their primaries; stopping in reverse order avoids a standby
  # logging connection errors while its primary goes away.
  local i
  for (( i=${#PG_CLUSTERS[@]}-1; i>=0; i-- )); do
    dir="${PG_CLUSTERS[$i]}"
    pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  done
  PG_CLUSTERS=()
}
