#include "driver/postgres/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "driver/postgres/pg_result.hpp"
#include "driver/session_state.hpp"

namespace corm::driver::postgres {

namespace {

void ignore_notice(void*, const char*) {}

// libpq's `options` value is split on spaces; a backslash keeps a space inside one argument.
std::string escape_option(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == ' ' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string isolation_setting(IsolationLevel level) {
  switch (level) {
    case IsolationLevel::read_uncommitted: return "read uncommitted";
    case IsolationLevel::read_committed: return "read committed";
    case IsolationLevel::repeatable_read: return "repeatable read";
    case IsolationLevel::serializable: return "serializable";
    case IsolationLevel::autocommit: break;
  }
  return {};
}

const std::set<std::string>& libpq_keywords() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> k;
    PQconninfoOption* opts = PQconndefaults();
    for (PQconninfoOption* o = opts; o && o->keyword; ++o) k.insert(o->keyword);
    PQconninfoFree(opts);
    return k;
  }();
  return keys;
}

}  // namespace

void validate(const Url& url, const ConnectOptions& options) {
  const auto& keys = libpq_keywords();
  for (const auto& [k, v] : url.query()) {
    if (keys.count(k) == 0) {
      std::string list;
      for (const char* known : {"sslmode", "application_name", "connect_timeout", "options", "host",
                                "target_session_attrs", "keepalives", "sslrootcert"}) {
        if (!list.empty()) list += ", ";
        list += known;
      }
      throw ConfigError(fmt::format("unknown PostgreSQL connection option '{}' in URL {}; libpq accepts "
                                    "keywords such as {}",
                                    k, url.str(), list));
    }
  }
  if (options.connect_timeout.count() < 0) throw ConfigError("connect_timeout must not be negative");
  if (options.statement_timeout.count() < 0) throw ConfigError("statement_timeout must not be negative");
}

PgConnection::PgConnection(PGconn* conn, const ConnectOptions& options, std::string target)
    : conn_(conn), options_(options), target_(std::move(target)) {}

PgConnection::~PgConnection() { close(); }

std::unique_ptr<PgConnection> PgConnection::start_connect(const Url& url, const ConnectOptions& options) {
  std::vector<std::pair<std::string, std::string>> kv;
  if (url.hosts().size() > 1) {
    // libpq's own multi-host form: it tries the hosts in order and, with
    // target_session_attrs=read-write, skips a standby (docs/failover.md). An empty port entry
    // means the default port.
    std::string hosts, ports;
    for (const auto& h : url.hosts()) {
      if (!hosts.empty()) {
        hosts += ',';
        ports += ',';
      }
      hosts += h.host;
      if (h.port) ports += std::to_string(*h.port);
    }
    kv.emplace_back("host", std::move(hosts));
    kv.emplace_back("port", std::move(ports));
  } else {
    if (!url.host().empty()) kv.emplace_back("host", url.host());
    if (url.port()) kv.emplace_back("port", std::to_string(*url.port()));
  }
  if (!url.username().empty()) kv.emplace_back("user", url.username());
  if (url.has_password()) kv.emplace_back("password", url.password());
  if (!url.database().empty()) kv.emplace_back("dbname", url.database());
  std::string server_options;
  for (const auto& [k, v] : url.query()) {
    if (k == "options") server_options = v;
    else kv.emplace_back(k, v);
  }
  if (!options.application_name.empty()) kv.emplace_back("application_name", options.application_name);
  kv.emplace_back("client_encoding", "UTF8");
  // Session settings travel in the startup packet: no extra round trip per connection.
  auto add_setting = [&](std::string_view name, std::string_view value) {
    if (!server_options.empty()) server_options += ' ';
    server_options += fmt::format("-c {}={}", name, escape_option(value));
  };
  add_setting("TimeZone", "UTC");
  if (options.statement_timeout.count() > 0)
    add_setting("statement_timeout", std::to_string(options.statement_timeout.count()));
  if (options.isolation_level && *options.isolation_level != IsolationLevel::autocommit)
    add_setting("default_transaction_isolation", isolation_setting(*options.isolation_level));
  kv.emplace_back("options", server_options);

  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kv) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectStartParams(keys.data(), values.data(), 0);
  if (conn == nullptr) throw ConnectError("could not allocate a PostgreSQL connection (out of memory)");
  std::unique_ptr<PgConnection> c(new PgConnection(conn, options, url.str()));
  if (auto it = url.query().find("target_session_attrs"); it != url.query().end())
    c->wants_read_write_ = it->second == "read-write" || it->second == "primary";
  if (PQstatus(conn) == CONNECTION_BAD) {
    ErrorDetail d;
    d.server_message = PQerrorMessage(conn);
    throw ConnectError(fmt::format("could not connect to {}: {}", c->target_, d.server_message), d);
  }
  return c;
}

std::unique_ptr<PgConnection> PgConnection::connect_blocking(const Url& url, const ConnectOptions& options) {
  auto c = start_connect(url, options);
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.connect_timeout.count() > 0) deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  Wait w = Wait::write;  // libpq: behave as if PQconnectPoll last said "writing"
  while (w != Wait::none) {
    if (!c->wait_blocking(w, deadline)) {
      throw ConnectError(fmt::format("could not connect to {}: timed out after {} ms (connect_timeout)",
                                     c->target_, options.connect_timeout.count()));
    }
    w = c->connect_poll();
  }
  return c;
}

Wait PgConnection::connect_poll() {
  if (probing_) return probe_poll();
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING: return Wait::read;
    case PGRES_POLLING_WRITING: return Wait::write;
    case PGRES_POLLING_OK: {
      if (PQsetnonblocking(conn_, 1) != 0) {
        throw ConnectError(fmt::format("could not switch the connection to {} to non-blocking mode", target_));
      }
      PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
      if (PGcancel* cancel = PQgetCancel(conn_)) cancel_.reset(cancel, PQfreeCancel);
      // Whether plain reads may run ahead of a deferred BEGIN depends on the isolation a bare
      // BEGIN gets, which the server's configuration (or the engine's startup option) decides.
      // The server does not report it, so ask once, as the last step of connecting.
      if (!PQsendQuery(conn_, "SHOW default_transaction_isolation")) throw connect_failed();
      probing_ = true;
      return probe_poll();
    }
    default:
      throw connect_failed();
  }
}

ConnectError PgConnection::connect_failed() {
  ErrorDetail d;
  d.server_message = PQerrorMessage(conn_);
  while (!d.server_message.empty() && d.server_message.back() == '\n') d.server_message.pop_back();
  broken_ = true;
  return ConnectError(fmt::format("could not connect to {}: {}", target_, d.server_message), d);
}

Wait PgConnection::probe_poll() {
  const int flushed = PQflush(conn_);
  if (flushed < 0) throw connect_failed();
  if (flushed == 1) return Wait::write;
  if (!PQconsumeInput(conn_)) throw connect_failed();
  while (!PQisBusy(conn_)) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      probing_ = false;
      return Wait::none;
    }
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      // PostgreSQL runs READ UNCOMMITTED as READ COMMITTED.
      const std::string_view level = PQgetvalue(r, 0, 0);
      default_read_committed_ = level == "read committed" || level == "read uncommitted";
    }
    PQclear(r);
  }
  return Wait::read;
}

bool PgConnection::wait_blocking(Wait w, std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (w == Wait::none) return true;
  pollfd p{};
  p.fd = PQsocket(conn_);
  p.events = w == Wait::read ? POLLIN : POLLOUT;
  for (;;) {
    int timeout = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      timeout = static_cast<int>(std::min<std::int64_t>(left.count() + 1, 1 << 30));
    }
    int r = ::poll(&p, 1, timeout);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // let libpq report the socket error
  }
}

void PgConnection::check_idle() const {
  if (is_broken()) throw ConnectionLost(fmt::format("the connection to {} is closed or was lost; return it to the pool", target_));
  if (op_) throw UsageError("another statement is still in progress on this connection; a connection runs one statement at a time");
}

bool PgConnection::enter_pipeline() {
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) return true;
  if (PQenterPipelineMode(conn_)) return true;
  fail_lost("entering pipeline mode");
  return false;
}

// A parameterless command through the extended protocol (the simple protocol is not allowed in
// a pipeline).
bool PgConnection::send_command(const std::string& sql, bool ours) {
  if (!PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)) {
    fail_lost("sending a statement");
    return false;
  }
  expect_.push_back({Expect::discard, ours});
  return true;
}

bool PgConnection::send_sync(bool ours) {
  if (!PQpipelineSync(conn_)) {
    fail_lost("sending a statement");
    return false;
  }
  expect_.push_back({Expect::sync, ours});
  return true;
}

// Deferred commands (BEGIN; not ahead of a plain read at READ COMMITTED) and DEALLOCATEs of
// evicted cache entries.
bool PgConnection::send_queued(const Op& op) {
  if (!op.read_ahead) {
    for (auto& d : deferred_)
      if (!send_command(d, true)) return false;
    deferred_.clear();
  }
  // An aborted transaction refuses DEALLOCATE: keep the names until it has ended.
  if (PQtransactionStatus(conn_) == PQTRANS_INERROR) return true;
  for (auto& name : to_deallocate_) {
    if (!send_command("DEALLOCATE " + name, false)) return false;
    expect_.back().what = Expect::deallocate;
    deallocating_.push_back(std::move(name));
  }
  to_deallocate_.clear();
  return true;
}

// What precedes a statement in its pipeline: deferred commands (BEGIN), DEALLOCATE for evicted
// cache entries, and PREPARE when the statement cache is on and this (SQL, parameter types)
// pair is not prepared yet. Sets op.statement_name when the statement will run prepared.
bool PgConnection::send_prefix(Op& op) {
  if (!send_queued(op)) return false;
  if (options_.statement_cache_size == 0) return true;
  // Parameter types are part of a prepared statement, so they are part of its cache key.
  // Built in a buffer the connection keeps: a cache hit (nearly every statement) allocates nothing.
  std::string& key = cache_key_;
  key.assign(op.sql);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(params_.types()), sizeof(Oid) * static_cast<std::size_t>(params_.count()));
  auto it = cache_index_.find(key);
  if (it != cache_index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    op.statement_name = it->second.name;
    op.result_format = it->second.binary_results ? 1 : 0;
    return true;
  }
  op.statement_name = fmt::format("corm_{}", ++next_statement_);
  op.described_key = key;
  op.pending_cache_sql = key;
  // The DESCRIBE rides in the same round trip; its column types decide whether later runs of
  // the statement ask for binary results (this first run reads text).
  if (!PQsendPrepare(conn_, op.statement_name.c_str(), op.sql.c_str(), params_.count(), params_.types()) ||
      !PQsendDescribePrepared(conn_, op.statement_name.c_str())) {
    fail_lost("preparing the statement");
    return false;
  }
  expect_.push_back({Expect::prepare, true});
  expect_.push_back({Expect::describe, true});
  return true;
}

void PgConnection::start_execute(std::string_view sql, std::span<const Value> params, bool read_ahead) {
  check_idle();
  params_.encode(params);
  op_.emplace();
  Op& op = *op_;
  op.sql.swap(spare_sql_);  // the previous statement's buffer: no allocation for the text
  op.sql.assign(sql);
  op.read_ahead = read_ahead && default_read_committed_;
  if (!session_touched_) session_touched_ = session_state::pg_changes_session(sql);
  if (!enter_pipeline() || !send_prefix(op) || !send_exec(op, Expect::result) || !send_sync(true)) return;
  op.flushing = true;
}

// The statement itself with the values in params_: prepared when the cache named it, else
// with its SQL text.
bool PgConnection::send_exec(Op& op, Expect::What what) {
  const int ok = op.statement_name.empty()
                     ? PQsendQueryParams(conn_, op.sql.c_str(), params_.count(), params_.types(), params_.values(),
                                         params_.lengths(), params_.formats(), 0)
                     : PQsendQueryPrepared(conn_, op.statement_name.c_str(), params_.count(), params_.values(),
                                           params_.lengths(), params_.formats(), op.result_format);
  if (!ok) {
    fail_lost(what == Expect::row ? "sending a batch" : "sending the statement");
    return false;
  }
  expect_.push_back({what, true});
  return true;
}

void PgConnection::start_batch(std::string_view sql, std::span<const std::vector<Value>> rows) {
  check_idle();
  // Every row is bound against the types of the first; integers go as int8 so that no later
  // row overflows a narrower type chosen for the first.
  static const std::vector<Value> no_params;
  params_.encode(rows.empty() ? std::span<const Value>(no_params) : std::span<const Value>(rows.front()), true);
  op_.emplace();
  Op& op = *op_;
  op.kind = Kind::batch;
  op.sql = std::string(sql);
  if (!session_touched_) session_touched_ = session_state::pg_changes_session(sql);
  op.rows = rows;
  if (rows.empty()) {  // nothing to send: an empty batch succeeds at once
    op.done = true;
    return;
  }
  if (!enter_pipeline() || !send_prefix(op)) return;
  send_chunk();
}

std::vector<std::shared_ptr<const ResultSet>> PgConnection::take_batch() {
  if (!op_) throw UsageError("no batch result is pending on this connection");
  Op op = std::move(*op_);
  op_.reset();
  if (op.result) PQclear(op.result);
  if (op.error) std::rethrow_exception(op.error);
  return std::move(op.batch);
}

bool PgConnection::send_chunk() {
  Op& op = *op_;
  const std::size_t end = std::min(op.rows.size(), op.next_row + batch_chunk);
  for (; op.next_row < end; ++op.next_row) {
    params_.encode(op.rows[op.next_row], true);
    if (!send_exec(op, Expect::row)) return false;
  }
  if (!send_sync(true)) return false;
  op.flushing = true;
  return true;
}

void PgConnection::start_cursor(std::string_view sql, std::span<const Value> params, std::size_t rows_per_fetch) {
  check_idle();
  if (rows_per_fetch == 0) throw UsageError("a cursor read needs at least one row per fetch (yield_per > 0)");
  params_.encode(params);
  op_.emplace();
  Op& op = *op_;
  op.kind = Kind::cursor;
  op.sql.assign(sql);
  op.fetch_rows = std::min(rows_per_fetch, max_fetch_rows);
  // A cursor lives in a transaction: the caller's (also one whose BEGIN is still queued), or
  // one of its own around the read.
  op.own_transaction = !in_transaction();
  op.cursor = fmt::format("corm_cursor_{}", ++next_cursor_);
  op.fetch_sql = fmt::format("FETCH {} FROM {}", op.fetch_rows, op.cursor);
  const std::string declare = fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", op.cursor, op.sql);
  if (!enter_pipeline() || !send_queued(op)) return;
  if (op.own_transaction && !send_command("BEGIN", true)) return;
  // The DESCRIBE of the cursor tells which columns have binary readers, so the FETCHes can ask
  // for binary rows; they go out once it is answered.
  if (!PQsendQueryParams(conn_, declare.c_str(), params_.count(), params_.types(), params_.values(), params_.lengths(),
                         params_.formats(), 0) ||
      !PQsendDescribePortal(conn_, op.cursor.c_str())) {
    fail_lost("declaring the cursor");
    return;
  }
  expect_.push_back({Expect::discard, true});
  expect_.push_back({Expect::portal, true});
  if (!send_sync(true)) return;
  op.flushing = true;
}

bool PgConnection::send_fetch(Op& op) {
  if (!PQsendQueryParams(conn_, op.fetch_sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, op.result_format)) {
    fail_lost("fetching from the cursor");
    return false;
  }
  expect_.push_back({Expect::row, true});
  if (!send_sync(true)) return false;
  ++op.fetches;
  op.flushing = true;
  return true;
}

// A sync of the cursor read was read: the DECLARE, one FETCH or the closing step is complete.
void PgConnection::cursor_synced(Op& op) {
  switch (op.step) {
    case CursorStep::declaring:
      if (op.error || op.abandoned) return end_cursor(op);
      op.step = CursorStep::fetching;
      // Two in flight: while the caller reads one slice the server is producing the next.
      for (int i = 0; i < 2; ++i)
        if (!send_fetch(op)) return;
      return;
    case CursorStep::fetching:
      --op.fetches;
      if (op.last_rows < op.fetch_rows) op.exhausted = true;
      if (!op.exhausted && !op.error && !op.abandoned) {
        send_fetch(op);
        return;
      }
      if (op.fetches == 0) end_cursor(op);
      return;
    case CursorStep::closing:
      // A cancel request meant for a FETCH can land on the CLOSE instead; the COMMIT behind it
      // then did not run, and the read's own transaction must still end.
      if (op.error && op.own_transaction && !op.rolled_back) {
        op.rolled_back = true;
        if (send_command("ROLLBACK", true) && send_sync(true)) op.flushing = true;
        return;
      }
      op.done = true;
      return;
  }
}

// Closes the cursor and ends the read's own transaction. After an error a transaction of the
// caller's stays failed (the caller rolls it back), and its cursor with it.
void PgConnection::end_cursor(Op& op) {
  op.step = CursorStep::closing;
  if (op.error) {
    if (!op.own_transaction) {
      op.done = true;
      return;
    }
    op.rolled_back = true;
    if (!send_command("ROLLBACK", true)) return;
  } else {
    if (!send_command("CLOSE " + op.cursor, true)) return;
    if (op.own_transaction && !send_command("COMMIT", true)) return;
  }
  if (!send_sync(true)) return;
  op.flushing = true;
}

std::vector<std::shared_ptr<const ResultSet>> PgConnection::take_slices() {
  std::vector<std::shared_ptr<const ResultSet>> out;
  if (op_) out.swap(op_->batch);
  return out;
}

void PgConnection::record_error(Op& op, PGresult* r, Expect::What what) {
  if (op.error) return;
  if (PQstatus(conn_) == CONNECTION_BAD) {
    broken_ = true;
    op.error = connection_lost(conn_, op.sql, op.kind == Kind::batch ? "a batch" : "the statement");
    return;
  }
  op.error = classify(r, op.sql, options_.hide_parameters);
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  std::string_view st = state ? state : "";
  if (st.starts_with("57P") || st.starts_with("08")) {
    broken_ = true;
    // A server shutting down may say so (57P01) while COMMIT is in flight, before or after
    // it committed: the outcome is as unknown as when the socket just closes.
    std::string_view s = op.sql;
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
    if (s.size() >= 6 && (s.substr(0, 6) == "COMMIT" || s.substr(0, 6) == "commit"))
      op.error = connection_lost(conn_, op.sql, "COMMIT");
  } else if (st == "25006" && wants_read_write_ && server_read_only()) {
    // Not the caller's read-only transaction: the server itself turned read-only under a
    // connection opened for writing (a fenced or demoted primary). Nothing here can write any
    // more, so the connection goes, and a re-run reaches the current primary.
    broken_ = true;
    ErrorDetail d;
    d.sqlstate = std::string(st);
    d.statement = op.sql;
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    d.server_message = primary ? primary : "";
    op.error = std::make_exception_ptr(ReadOnlyServer(
        fmt::format("the server behind {} is read-only now (no longer the primary); the connection is "
                    "discarded and the transaction did not commit — run it again (RetryPolicy::on_failover)",
                    target_),
        std::move(d)));
  }
  // A cached plan invalidated by DDL, or a statement the server no longer has (a pooler
  // switched backends): forget it so the next run prepares again.
  if ((what == Expect::result || what == Expect::row) && !op.statement_name.empty() &&
      (st == "0A000" || st == "26000"))
    cache_evict_name(op.statement_name, st == "0A000");
}

// Reads what has arrived. Returns true when a sync of the current operation was read (the
// operation, or one chunk of a batch, is complete); false when more input is needed or only
// results of earlier commands were pending.
bool PgConnection::read_pipeline() {
  int nulls = 0;
  while (!expect_.empty()) {
    if (PQisBusy(conn_)) return false;
    PGresult* r = PQgetResult(conn_);
    const Expect e = expect_.front();
    if (e.what == Expect::sync) {
      if (r == nullptr) {  // nothing more has arrived yet
        if (++nulls > 1) return false;
        continue;
      }
      const bool is_sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (!is_sync) {  // out of step with the server: nothing read later can be trusted
        fail_lost("reading a pipeline");
        return true;
      }
      expect_.pop_front();
      if (e.ours) return true;
      continue;
    }
    if (r == nullptr) {  // this statement's results are complete
      expect_.pop_front();
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    const bool ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY;
    if (e.what == Expect::deallocate) {
      // Refused by an aborted transaction (or skipped with its pipeline): the statement is still
      // prepared, so the DEALLOCATE goes again with the next statement. Any other failure means
      // the server does not have it (a pooler switched backends): nothing to retry.
      const char* state = ok ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
      if (status == PGRES_PIPELINE_ABORTED || (state != nullptr && std::string_view(state) == "25P02"))
        to_deallocate_.push_back(std::move(deallocating_.front()));
      // The statement behind it in this pipeline is skipped by the server: it fails with this
      // error rather than with no result at all.
      if (!ok && status != PGRES_PIPELINE_ABORTED && op_) record_error(*op_, r, e.what);
      deallocating_.pop_front();
    }
    if (!e.ours || !op_) {
      if (!ok && status != PGRES_PIPELINE_ABORTED && PQstatus(conn_) == CONNECTION_BAD) broken_ = true;
      PQclear(r);
      continue;
    }
    Op& op = *op_;
    if (ok) {
      switch (e.what) {
        case Expect::prepare: cache_store(op); PQclear(r); break;
        case Expect::describe: cache_described(op, r); PQclear(r); break;
        case Expect::result:
          if (op.result) PQclear(op.result);
          op.result = r;
          break;
        case Expect::portal: {
          bool binary = true;
          for (int i = 0, n = PQnfields(r); i < n && binary; ++i)
            binary = detail::pg_binary_kind(PQftype(r, i)) != detail::PgBinaryKind::none;
          op.result_format = binary ? 1 : 0;
          PQclear(r);
          break;
        }
        case Expect::row:
          op.last_rows = static_cast<std::size_t>(PQntuples(r));
          // A cursor's slices are rows for the caller: an empty FETCH (the end) is not one, and
          // an abandoned read has nobody to take them.
          if (op.kind == Kind::cursor && (op.abandoned || op.last_rows == 0)) PQclear(r);
          else op.batch.push_back(std::make_shared<PgResultSet>(r));
          break;
        default: PQclear(r); break;
      }
    } else {
      if (status != PGRES_PIPELINE_ABORTED) record_error(op, r, e.what);
      PQclear(r);
    }
  }
  return false;
}

void PgConnection::start_script(std::string_view sql, bool with_deferred) {
  check_idle();
  op_.emplace();
  Op& op = *op_;
  op.kind = Kind::script;
  op.sql = std::string(sql);
  // A script may hold several statements, so any SET in it counts.
  if (!session_touched_)
    session_touched_ = session_state::pg_changes_session(sql) || session_state::mentions_any(sql, {"set "});
  if (with_deferred && !deferred_.empty()) {
    for (auto& d : deferred_) op.script += d + "; ";
    deferred_.clear();
  }
  op.script += op.sql;
  if (expect_.empty()) send_script(op);
  // Otherwise poll() first reads what earlier commands still owe; pipeline mode can only be
  // left once nothing is pending.
}

void PgConnection::send_script(Op& op) {
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && !PQexitPipelineMode(conn_)) {
    fail_lost("leaving pipeline mode");
    return;
  }
  if (!PQsendQuery(conn_, op.script.c_str())) {
    fail_lost("sending the statement");
    return;
  }
  op.script_sent = true;
  op.flushing = true;
}

bool PgConnection::defer(std::string_view sql) {
  if (is_broken()) return false;
  deferred_.emplace_back(sql);
  return true;
}

bool PgConnection::discard_deferred() noexcept {
  const bool had = !deferred_.empty();
  deferred_.clear();
  return had;
}

bool PgConnection::reset_session() noexcept {
  if (!session_touched_) return true;
  if (is_broken() || op_) return false;
  // What DISCARD ALL does, less DEALLOCATE ALL (the statement cache stays valid) and less the
  // need to stand outside a transaction block. Sent without waiting, like the closing ROLLBACK:
  // the replies are read ahead of the next user's first statement.
  try {
    if (!enter_pipeline()) return false;
    for (const char* command : {"RESET ALL", "SELECT pg_advisory_unlock_all()", "UNLISTEN *", "CLOSE ALL",
                                "DISCARD TEMP", "DISCARD SEQUENCES"})
      if (!send_command(command, false)) return false;
    if (!send_sync(false)) return false;
    for (;;) {
      const int r = PQflush(conn_);
      if (r == 0) break;
      if (r < 0 || !wait_blocking(Wait::write, std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
        fail_lost("resetting the session");
        return false;
      }
    }
  } catch (...) {
    return false;
  }
  session_touched_ = false;
  return true;
}

bool PgConnection::send_without_reply(std::string_view sql) {
  if (is_broken() || op_) return false;
  deferred_.clear();  // a command queued for "the next statement" has no statement to go with
  if (!enter_pipeline() || !send_command(std::string(sql), false) || !send_sync(false)) return false;
  // A few bytes into an idle socket: this practically never waits, but the command must reach
  // the server now (it is what releases the transaction's locks), not with the next operation.
  for (;;) {
    const int r = PQflush(conn_);
    if (r == 0) return true;
    if (r < 0 || !wait_blocking(Wait::write, std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
      fail_lost("sending a statement");
      return false;
    }
  }
}

void PgConnection::fail_lost(std::string_view during) {
  broken_ = true;
  expect_.clear();
  deallocating_.clear();
  deferred_.clear();
  if (op_) {
    if (op_->result) PQclear(op_->result);
    op_->result = nullptr;
    if (!op_->error) op_->error = connection_lost(conn_, op_->sql, during);
    op_->done = true;
  }
}

void PgConnection::abandon_remaining_steps() noexcept {
  if (!op_) return;
  op_->abandoned = true;
}

// Scripts: drain what earlier pipelined commands owe, leave pipeline mode, then run the text
// with the simple query protocol.
Wait PgConnection::poll_script(Op& op) {
  for (;;) {
    if (op.flushing) {
      const int r = PQflush(conn_);
      if (r < 0) {
        fail_lost("sending the statement");
        return Wait::none;
      }
      if (r == 1) return Wait::write;
      op.flushing = false;
    }
    if (!PQconsumeInput(conn_)) {
      fail_lost("reading the result");
      return Wait::none;
    }
    if (!op.script_sent) {
      read_pipeline();
      if (op.done) return Wait::none;
      if (expect_.empty()) {
        send_script(op);
        if (op.done) return Wait::none;
        continue;
      }
    } else {
      while (!PQisBusy(conn_)) {
        PGresult* r = PQgetResult(conn_);
        if (r == nullptr) {
          op.done = true;
          return Wait::none;
        }
        switch (PQresultStatus(r)) {
          case PGRES_TUPLES_OK:
          case PGRES_COMMAND_OK:
          case PGRES_EMPTY_QUERY:
            if (op.result) PQclear(op.result);  // keep the last statement's result
            op.result = r;
            break;
          default:
            record_error(op, r, Expect::discard);
            PQclear(r);
            break;
        }
      }
    }
    if (PQstatus(conn_) == CONNECTION_BAD) {
      fail_lost("reading the result");
      return Wait::none;
    }
    return Wait::read;
  }
}

bool PgConnection::awaits_input() {
  if (!op_ || op_->done || op_->kind == Kind::script) return false;
  Op& op = *op_;
  if (op.flushing) {
    if (PQflush(conn_) != 0) return false;  // more to send, or an error poll() reports
    op.flushing = false;
  }
  return PQisBusy(conn_) == 1;  // parses what is buffered already; reads nothing
}

Wait PgConnection::poll() {
  if (!op_) return Wait::none;
  Op& op = *op_;
  if (op.done) return Wait::none;
  if (op.kind == Kind::script) return poll_script(op);
  for (;;) {
    if (op.flushing) {
      const int r = PQflush(conn_);
      if (r < 0) {
        fail_lost("sending the statement");
        return Wait::none;
      }
      if (r == 1) return Wait::write;
      op.flushing = false;
    }
    if (!PQconsumeInput(conn_)) {
      fail_lost("reading the result");
      return Wait::none;
    }
    if (op.kind == Kind::cursor && !op.batch.empty() && !op.abandoned) return Wait::none;  // a slice to hand over
    if (read_pipeline()) {
      if (op.done) return Wait::none;  // lost while reading
      if (op.kind == Kind::cursor) {
        cursor_synced(op);
        if (op.done) return Wait::none;
        continue;  // flush what it sent, hand over the slice
      }
      const bool more = op.kind == Kind::batch && op.next_row < op.rows.size();
      if (more && !op.error && !op.abandoned) {
        if (!send_chunk()) return Wait::none;
        continue;  // flush the new chunk
      }
      if (more && op.abandoned && !op.error) {
        ErrorDetail d;
        d.statement = op.sql;
        op.error = std::make_exception_ptr(
            QueryCanceled("the batch was cancelled before all of its rows were sent", std::move(d)));
      }
      op.done = true;
      return Wait::none;
    }
    if (op.done) return Wait::none;
    if (PQstatus(conn_) == CONNECTION_BAD) {
      fail_lost("reading the result");
      return Wait::none;
    }
    return Wait::read;
  }
}

std::shared_ptr<const ResultSet> PgConnection::take_result() {
  if (!op_) throw UsageError("no statement result is pending on this connection");
  Op op = std::move(*op_);
  op_.reset();
  if (op.error) {
    if (op.result) PQclear(op.result);
    std::rethrow_exception(op.error);
  }
  if (op.result == nullptr) {
    // A step that produced no result at all (cannot happen for valid statements); report it.
    ErrorDetail d;
    d.statement = op.sql;
    throw DatabaseError("the server returned no result for the statement", std::move(d));
  }
  spare_sql_ = std::move(op.sql);
  return std::make_shared<PgResultSet>(op.result);
}

void PgConnection::cache_store(Op& op) {
  if (op.pending_cache_sql.empty()) return;
  lru_.push_front(op.pending_cache_sql);
  cache_index_[op.pending_cache_sql] = CacheEntry{op.statement_name, lru_.begin()};
  op.pending_cache_sql.clear();
  while (cache_index_.size() > options_.statement_cache_size) cache_evict(lru_.back(), true);
}

void PgConnection::cache_described(const Op& op, const PGresult* description) {
  auto it = cache_index_.find(op.described_key);
  if (it == cache_index_.end()) return;
  bool binary = true;
  for (int i = 0, n = PQnfields(description); i < n && binary; ++i)
    binary = detail::pg_binary_kind(PQftype(description, i)) != detail::PgBinaryKind::none;
  it->second.binary_results = binary;
}

void PgConnection::cache_evict_name(const std::string& name, bool deallocate) {
  for (const auto& key : lru_) {
    auto it = cache_index_.find(key);
    if (it != cache_index_.end() && it->second.name == name) {
      cache_evict(key, deallocate);
      return;
    }
  }
}

void PgConnection::cache_evict(const std::string& key, bool deallocate) {
  auto it = cache_index_.find(key);
  if (it == cache_index_.end()) return;
  if (deallocate) to_deallocate_.push_back(it->second.name);
  lru_.erase(it->second.pos);
  cache_index_.erase(it);
}

std::shared_ptr<const ResultSet> PgConnection::run_blocking() {
  for (;;) {
    Wait w = poll();
    if (w == Wait::none) break;
    wait_blocking(w, std::nullopt);
  }
  return take_result();
}

std::shared_ptr<const ResultSet> PgConnection::execute(std::string_view sql, std::span<const Value> params) {
  start_execute(sql, params);
  return run_blocking();
}

std::shared_ptr<const ResultSet> PgConnection::execute_read(std::string_view sql, std::span<const Value> params) {
  start_execute(sql, params, true);
  return run_blocking();
}

void PgConnection::execute_sliced(std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice,
                                  const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) {
  start_cursor(sql, params, rows_per_slice);
  std::exception_ptr failed;
  while (!failed && busy()) {
    const Wait w = poll();
    if (w != Wait::none) {
      wait_blocking(w, std::nullopt);
      continue;
    }
    auto slices = take_slices();
    if (cursor_done()) {
      auto last = take_batch();  // throws the read's error
      for (auto& s : last) slices.push_back(std::move(s));
    }
    try {
      for (auto& s : slices) on_slice(std::move(s));
    } catch (...) {
      failed = std::current_exception();
    }
  }
  if (failed && busy()) {
    // The caller gave up on the rows: no further FETCH; the ones in flight finish and the cursor
    // is closed, so the connection is clean for its next statement.
    abandon_remaining_steps();
    try {
      (void)run_blocking();
    } catch (...) {
    }
  }
  if (failed) std::rethrow_exception(failed);
}

void PgConnection::execute_script(std::string_view sql) {
  start_script(sql);
  run_blocking();
}

bool PgConnection::ping() noexcept {
  if (op_ || is_broken()) return false;
  try {
    start_script("", false);
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (options_.connect_timeout.count() > 0) deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
    for (;;) {
      Wait w = poll();
      if (w == Wait::none) break;
      if (!wait_blocking(w, deadline)) {
        broken_ = true;
        op_.reset();
        return false;
      }
    }
    take_result();
    return still_writable();
  } catch (...) {
    op_.reset();
    return false;
  }
}

bool PgConnection::still_writable() noexcept {
  if (!wants_read_write_ || !server_read_only()) return true;
  broken_ = true;  // asked for a primary and no longer connected to one (pool_pre_ping drops it)
  return false;
}

bool PgConnection::server_read_only() const noexcept {
  // Both are reported by the server (GUC_REPORT, PostgreSQL 14+) whenever they change.
  for (const char* name : {"default_transaction_read_only", "in_hot_standby"}) {
    const char* v = PQparameterStatus(conn_, name);
    if (v != nullptr && std::string_view(v) == "on") return true;
  }
  return false;
}

bool PgConnection::is_broken() const noexcept {
  return broken_ || conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD;
}

bool PgConnection::in_transaction() const noexcept {
  if (conn_ == nullptr) return false;
  if (!deferred_.empty()) return true;  // a BEGIN waiting for the next statement
  auto st = PQtransactionStatus(conn_);
  // Busy with no operation of ours means only a ROLLBACK sent without reply is in flight, and it
  // ends whatever transaction there was.
  if (st == PQTRANS_ACTIVE) return op_.has_value();
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR;
}

int PgConnection::backend_pid() const noexcept { return conn_ ? PQbackendPID(conn_) : 0; }

bool PgConnection::request_cancel() noexcept { return send_cancel(cancel_.get()); }

bool PgConnection::send_cancel(PGcancel* handle) noexcept {
  if (handle == nullptr) return false;
  char err[256];
  return PQcancel(handle, err, sizeof err) == 1;
}

void PgConnection::close() noexcept {
  if (op_ && op_->result) PQclear(op_->result);
  op_.reset();
  expect_.clear();
  deallocating_.clear();
  deferred_.clear();
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

}  // namespace corm::driver::postgres
