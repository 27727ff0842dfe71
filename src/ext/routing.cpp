#include "corm/ext/routing.hpp"

#include <algorithm>

namespace corm::ext {

namespace {

// Where a commit sits in the WAL, read on the writer's connection right after COMMIT. Under
// synchronous_commit on (and local / remote_*) COMMIT returned only once its record was flushed,
// so the WAL write position already covers it, and it is the tightest bound: nothing of other
// sessions' still-unflushed WAL the standby would have to wait for. Under synchronous_commit off
// the commit record may still sit in WAL buffers, before the write position: the insert position
// is the one that surely covers it. (The commit's own end LSN is not exposed to SQL.)
constexpr const char* pg_commit_position =
    "SELECT (CASE WHEN current_setting('synchronous_commit') = 'off' THEN pg_current_wal_insert_lsn() "
    "ELSE pg_current_wal_lsn() END)::text";
// @@last_gtid is this connection's own last binlogged transaction: exactly the commit (where
// @@gtid_binlog_pos would include everyone's). Empty when the connection never wrote to the
// binary log.
constexpr const char* mariadb_commit_position = "SELECT @@last_gtid";

// One statement on the standby that waits, bounded, for the replay position to reach $1: each
// recursion step sleeps (FROM pg_sleep: before the LSN is read again) and samples
// pg_last_wal_replay_lsn(), until it is far enough or $2 steps passed; the answer is the last
// sample (NULL on a server that is not a standby). PostgreSQL 15 has no built-in wait for an LSN.
constexpr const char* pg_replay_wait =
    "WITH RECURSIVE w(n, lsn) AS (SELECT 0, pg_last_wal_replay_lsn() UNION ALL "
    "SELECT w.n + 1, s.lsn FROM w, LATERAL (SELECT pg_last_wal_replay_lsn() AS lsn "
    "FROM pg_sleep(0.002 + 0 * w.n)) s WHERE w.lsn < $1::pg_lsn AND w.n < $2) "
    "SELECT lsn::text FROM w ORDER BY n DESC LIMIT 1";
constexpr int pg_poll_ms = 2;
// MASTER_GTID_WAIT returns once the replica applied the GTIDs or the timeout passed; IF() reads
// @@gtid_slave_pos after it (the answer: what the replica has applied).
constexpr const char* mariadb_replay_wait = "SELECT IF(MASTER_GTID_WAIT(?, ?) IS NULL, NULL, @@gtid_slave_pos)";

}  // namespace

bool ReadWriteRouter::reads_your_writes() const noexcept {
  return replica_ && replica_->policy().enabled && dialect_ != Dialect::sqlite;
}

bool ReadWriteRouter::to_reader(orm::StatementRole role) {
  bool reader = false;
  switch (role) {
    case orm::StatementRole::write:
      wrote_ = true;  // from now on this transaction reads its own writes on the writer
      break;
    case orm::StatementRole::read_for_write:
      wrote_ = true;  // row locks exist only on the writer; the transaction now works there
      break;
    case orm::StatementRole::read:
      // A pin to the reader is the caller accepting a stale read: no read-your-writes check.
      reader = pinned_ ? *pinned_ == Route::reader : !wrote_ && reader_fresh_enough();
      break;
  }
  last_ = reader ? Route::reader : Route::writer;
  ++(reader ? to_reader_ : to_writer_);
  return reader;
}

// False: the writer answers. True with probe_due_: the reader, once reader_ready() says so.
bool ReadWriteRouter::reader_fresh_enough() {
  if (!reads_your_writes() || (!required_ && !unknown_)) return true;
  if (unknown_) return false;
  if (replica_->has_replayed(*required_)) return true;  // the common case: no round trip
  if (waited_for_ && required_->reached_by(*waited_for_)) return false;  // one wait per position
  probe_due_ = true;
  return true;
}

std::optional<orm::RouterProbe> ReadWriteRouter::commit_probe() {
  if (!wrote_ || !reads_your_writes()) return std::nullopt;
  orm::RouterProbe p;
  p.sql = dialect_ == Dialect::postgresql ? pg_commit_position : mariadb_commit_position;
  return p;
}

void ReadWriteRouter::committed(const std::optional<std::string>& answer) {
  std::optional<ReplicationPosition> pos;
  try {
    if (answer) pos = ReplicationPosition::from_server_text(dialect_, *answer);
  } catch (const Error&) {
    pos.reset();  // unreadable: as unknown, the safe side
  }
  if (!pos) {
    unknown_ = true;
    return;
  }
  replica_->saw_commit(*pos);
  require(*pos);
}

std::optional<orm::RouterProbe> ReadWriteRouter::reader_probe() {
  if (!probe_due_) return std::nullopt;
  const std::int64_t ms = std::max<std::int64_t>(0, replica_->policy().max_wait.count());
  orm::RouterProbe p;
  p.params.emplace_back(required_->server_text());
  if (dialect_ == Dialect::postgresql) {
    p.sql = pg_replay_wait;
    p.params.emplace_back(ms / pg_poll_ms);
  } else {
    p.sql = mariadb_replay_wait;
    p.params.emplace_back(static_cast<double>(ms) / 1000.0);
  }
  return p;
}

bool ReadWriteRouter::reader_ready(const std::optional<std::string>& answer) {
  probe_due_ = false;
  std::optional<ReplicationPosition> seen;
  if (answer) seen = ReplicationPosition::from_server_text(dialect_, *answer);
  const bool reached = seen && required_ && required_->reached_by(*seen);
  replica_->saw_replay(seen, reached);
  ++waits_;
  if (reached) return true;
  ++waits_timed_out_;
  waited_for_ = required_;
  // to_reader() counted the read for the reader; it goes to the writer.
  --to_reader_;
  ++to_writer_;
  last_ = Route::writer;
  return false;
}

void ReadWriteRouter::require(std::string_view token) {
  if (token.empty()) return;  // the first request of a client has none
  if (dialect_ == Dialect::sqlite) (void)ReplicationPosition::from_token(token, dialect_);  // throws: no replicas
  if (!reads_your_writes())
    throw UsageError("require(): read-your-writes is off for this routing session (ReadYourWrites::off()), so a "
                     "causal token cannot be honoured; make the session from an engine pair with the policy on");
  if (auto pos = ReplicationPosition::from_token(token, dialect_)) require(*pos);
}

void ReadWriteRouter::require(const ReplicationPosition& position) {
  if (position.dialect() != dialect_)
    throw CausalTokenError("require(): the position is for another dialect than these engines'");
  if (required_) required_->merge(position);
  else required_ = position;
}

}  // namespace corm::ext
