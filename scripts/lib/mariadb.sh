# Throwaway MariaDB servers for tests and benchmarks. Sourced, not run (after scripts/lib/pg.sh,
# whose pg_free_port it uses when present).
# Each server lives in a fresh temp directory (datadir from mariadb-install-db, its own socket,
# pid file and log), listens only on 127.0.0.1 at a free port, and belongs to the `mysql` user when
# the caller is root (mariadbd refuses to run as root unless told to). mariadb_stop_all (installed
# as an EXIT trap by the caller) stops every server this shell started and removes its directory.

MARIADB_SERVERS=()
# Every server has the same test user; the tests connect with it over TCP.
MARIADB_USER=corm
MARIADB_DATABASE=corm_test

mariadb_as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u mysql -- "$@"; else "$@"; fi
}

mariadb_free_port() {
  if declare -F pg_free_port >/dev/null; then pg_free_port; return; fi
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# mariadb_sql DIR SQL: runs SQL as the server's root over its private socket.
mariadb_sql() {
  local dir="$1"; shift
  mariadb --no-defaults -uroot -S "$dir/mysqld.sock" -N -B -e "$1"
}

# mariadb_start VAR [server_id]: starts a server, sets VAR_DIR, VAR_PORT, VAR_URL. The server has
# binary logging on (GTID, ROW format) so that mariadb_start_replica can follow it; the database
# $MARIADB_DATABASE and the user $MARIADB_USER (no password, every privilege) exist when it returns.
mariadb_start() {
  local var="$1" server_id="${2:-1}"
  local dir port i
  dir="$(mktemp -d /tmp/corm-mariadb.XXXXXX)"
  chmod 755 "$dir"
  mkdir -p "$dir/data"
  [ "$(id -u)" -eq 0 ] && chown -R mysql:mysql "$dir"
  port="$(mariadb_free_port)"
  cat >"$dir/my.cnf" <<CNF
[mariadbd]
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.pid
log-error=$dir/server.log
bind-address=127.0.0.1
port=$port
server-id=$server_id
log-bin=$dir/data/binlog
binlog-format=ROW
gtid-strict-mode=1
default-storage-engine=InnoDB
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
innodb-buffer-pool-size=64M
innodb-log-file-size=32M
innodb-flush-log-at-trx-commit=2
innodb-lock-wait-timeout=5
innodb-doublewrite=0
sync-binlog=0
max-connections=400
skip-name-resolve
CNF
  [ "$(id -u)" -eq 0 ] && chown mysql:mysql "$dir/my.cnf"
  mariadb_as mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; rm -rf "$dir"; return 1; }
  # A child of this shell (not daemonised), so mariadb_stop_all can kill it by pid and reap it.
  # As root, mariadbd itself drops to the mysql user (--user), so $! is the server's own pid.
  local user_opt=()
  [ "$(id -u)" -eq 0 ] && user_opt=(--user=mysql)
  mariadbd --defaults-file="$dir/my.cnf" "${user_opt[@]}" </dev/null >/dev/null 2>&1 &
  echo "$!" >"$dir/server.pid"
  MARIADB_SERVERS+=("$dir")
  for i in $(seq 1 600); do
    mariadb-admin --no-defaults -uroot -S "$dir/mysqld.sock" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb-admin --no-defaults -uroot -S "$dir/mysqld.sock" ping >/dev/null 2>&1 \
    || { echo "mariadb.sh: the server in $dir did not start within 60 s" >&2; tail -30 "$dir/server.log" >&2; return 1; }
  mariadb_sql "$dir" "
    CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CREATE USER IF NOT EXISTS '$MARIADB_USER'@'127.0.0.1';
    CREATE USER IF NOT EXISTS '$MARIADB_USER'@'localhost';
    GRANT ALL PRIVILEGES ON *.* TO '$MARIADB_USER'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO '$MARIADB_USER'@'localhost' WITH GRANT OPTION;
    CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1';
    GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
    FLUSH PRIVILEGES;" >"$dir/setup.log" 2>&1 \
    || { cat "$dir/setup.log" >&2; return 1; }
  printf -v "${var}_DIR" '%s' "$dir"
  printf -v "${var}_PORT" '%s' "$port"
  printf -v "${var}_URL" '%s' "mysql://$MARIADB_USER@127.0.0.1:$port/$MARIADB_DATABASE"
}

# mariadb_start_replica VAR PRIMARY_VAR: a second server replicating from a server started by
# mariadb_start through GTID (MASTER_USE_GTID=slave_pos). The primary's data so far is copied by
# replaying its binary log from the start, which holds everything since mariadb-install-db ran
# with logging on. Returns once the replica's IO and SQL threads both run and it has caught up.
mariadb_start_replica() {
  local var="$1" primary="$2"
  local pport pdir
  pport="$(eval echo "\${${primary}_PORT}")"
  pdir="$(eval echo "\${${primary}_DIR}")"
  mariadb_start "$var" 2 || return 1
  local dir
  dir="$(eval echo "\${${var}_DIR}")"
  # The replica created its own test user and database with its own GTIDs; start from an empty
  # binlog position instead, replaying the primary's history (CREATE ... IF NOT EXISTS is harmless).
  mariadb_sql "$dir" "
    RESET MASTER;
    SET GLOBAL gtid_slave_pos = '';
    SET GLOBAL read_only = 1;
    CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pport, MASTER_USER='repl',
      MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos;
    START SLAVE;" >"$dir/replica.log" 2>&1 || { cat "$dir/replica.log" >&2; return 1; }
  mariadb_wait_replica "$dir" "$pdir" || return 1
}

# mariadb_wait_replica DIR PRIMARY_DIR: waits up to 30 s until the replica in DIR runs both
# threads and has applied every GTID the primary had when the wait started.
mariadb_wait_replica() {
  local dir="$1" pdir="$2" i status io sql target
  target="$(mariadb_sql "$pdir" "SELECT @@gtid_binlog_pos" 2>/dev/null)"
  for i in $(seq 1 300); do
    status="$(mariadb --no-defaults -uroot -S "$dir/mysqld.sock" -e "SHOW SLAVE STATUS\G" 2>/dev/null || true)"
    io="$(sed -n 's/^ *Slave_IO_Running: //p' <<<"$status")"
    sql="$(sed -n 's/^ *Slave_SQL_Running: //p' <<<"$status")"
    if [ "$io" = "Yes" ] && [ "$sql" = "Yes" ]; then
      [ -z "$target" ] && return 0
      [ "$(mariadb_sql "$dir" "SELECT MASTER_GTID_WAIT('$target', 0.1)" 2>/dev/null)" = "0" ] && return 0
    fi
    sleep 0.1
  done
  echo "mariadb.sh: the replica in $dir is not replicating after 30 s (IO '$io', SQL '$sql')" >&2
  sed -n 's/^ *\(Last_.*Error: .\+\)$/\1/p' <<<"$status" >&2
  return 1
}

mariadb_stop_all() {
  local i dir pid
  # Replicas were appended after their primaries; stop them first so they do not log a lost
  # primary while it goes away.
  for (( i=${#MARIADB_SERVERS[@]}-1; i>=0; i-- )); do
    dir="${MARIADB_SERVERS[$i]}"
    pid="$(cat "$dir/server.pid" 2>/dev/null || true)"
    if [ -n "$pid" ]; then
      # The data is thrown away, so there is nothing for a clean shutdown to save.
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
  done
  MARIADB_SERVERS=()
}
