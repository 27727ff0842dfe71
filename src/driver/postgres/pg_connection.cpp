#include "driver/postgres/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "driver/postgres/pg_result.hpp"

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
  if (!url.host().empty()) kv.emplace_back("host", url.host());
  if (url.port()) kv.emplace_back("port", std::to_string(*url.port()));
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
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING: return Wait::read;
    case PGRES_POLLING_WRITING: return Wait::write;
    case PGRES_POLLING_OK: {
      if (PQsetnonblocking(conn_, 1) != 0) {
        throw ConnectError(fmt::format("could not switch the connection to {} to non-blocking mode", target_));
      }
      PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
      cancel_ = PQgetCancel(conn_);
      return Wait::none;
    }
    default: {
      ErrorDetail d;
      d.server_message = PQerrorMessage(conn_);
      while (!d.server_message.empty() && d.server_message.back() == '\n') d.server_message.pop_back();
      broken_ = true;
      throw ConnectError(fmt::format("could not connect to {}: {}", target_, d.server_message), d);
    }
  }
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

// The steps that precede a statement: DEALLOCATE for evicted cache entries, and PREPARE when
// the statement cache is on and this (SQL, parameter types) pair is not prepared yet. Sets
// op.statement_name when the statement will run prepared.
void PgConnection::add_prepare_steps(Op& op) {
  for (auto& name : to_deallocate_) op.steps.emplace_back(Step::simple, "DEALLOCATE " + name);
  to_deallocate_.clear();
  if (options_.statement_cache_size == 0) return;
  // Parameter types are part of a prepared statement, so they are part of its cache key.
  std::string key = op.sql;
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(params_.types()), sizeof(Oid) * static_cast<std::size_t>(params_.count()));
  auto it = cache_index_.find(key);
  if (it != cache_index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    op.statement_name = it->second.name;
    return;
  }
  op.statement_name = fmt::format("corm_{}", ++next_statement_);
  op.pending_cache_sql = std::move(key);
  op.steps.emplace_back(Step::prepare, op.statement_name);
}

void PgConnection::start_execute(std::string_view sql, std::span<const Value> params) {
  check_idle();
  params_.encode(params);
  Op op;
  op.sql = std::string(sql);
  add_prepare_steps(op);
  if (op.statement_name.empty()) op.steps.emplace_back(Step::exec_params, std::string());
  else op.steps.emplace_back(Step::exec_prepared, op.statement_name);
  op_ = std::move(op);
  send_step();
}

void PgConnection::start_batch(std::string_view sql, std::span<const std::vector<Value>> rows) {
  check_idle();
  // Every row is bound against the types of the first; integers go as int8 so that no later
  // row overflows a narrower type chosen for the first.
  static const std::vector<Value> no_params;
  params_.encode(rows.empty() ? std::span<const Value>(no_params) : std::span<const Value>(rows.front()), true);
  Op op;
  op.sql = std::string(sql);
  op.rows = rows;
  add_prepare_steps(op);
  op.steps.emplace_back(Step::pipeline, std::string());
  op_ = std::move(op);
  if (op_->rows.empty()) {  // nothing to send: an empty batch succeeds at once
    op_->current = op_->steps.size();
    return;
  }
  send_step();
}

std::vector<std::shared_ptr<const ResultSet>> PgConnection::take_batch() {
  if (!op_) throw UsageError("no batch result is pending on this connection");
  Op op = std::move(*op_);
  op_.reset();
  if (op.error) std::rethrow_exception(op.error);
  return std::move(op.batch);
}

bool PgConnection::send_chunk() {
  Op& op = *op_;
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && !PQenterPipelineMode(conn_)) {
    fail_lost("entering pipeline mode");
    return false;
  }
  const std::size_t end = std::min(op.rows.size(), op.next_row + batch_chunk);
  for (; op.next_row < end; ++op.next_row) {
    params_.encode(op.rows[op.next_row], true);
    const int ok = op.statement_name.empty()
                       ? PQsendQueryParams(conn_, op.sql.c_str(), params_.count(), params_.types(), params_.values(),
                                           params_.lengths(), params_.formats(), 0)
                       : PQsendQueryPrepared(conn_, op.statement_name.c_str(), params_.count(), params_.values(),
                                             params_.lengths(), params_.formats(), 0);
    if (!ok) {
      fail_lost("sending a batch");
      return false;
    }
  }
  if (!PQpipelineSync(conn_)) {
    fail_lost("sending a batch");
    return false;
  }
  op.awaiting_sync = true;
  op.flushing = true;
  return true;
}

// Reads what has arrived of the current chunk. Returns true when the whole batch is done.
bool PgConnection::read_pipeline() {
  Op& op = *op_;
  while (!PQisBusy(conn_)) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) continue;  // end of one statement's results
    switch (PQresultStatus(r)) {
      case PGRES_PIPELINE_SYNC:
        PQclear(r);
        op.awaiting_sync = false;
        if (op.next_row < op.rows.size() && !op.error && !op.abandoned) return false;  // next chunk
        PQexitPipelineMode(conn_);
        return true;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        op.batch.push_back(std::make_shared<PgResultSet>(r));
        break;
      case PGRES_PIPELINE_ABORTED:  // skipped after an earlier failure
        PQclear(r);
        break;
      default:
        if (!op.error) {
          if (PQstatus(conn_) == CONNECTION_BAD) {
            broken_ = true;
            op.error = connection_lost(conn_, op.sql, "a batch");
          } else {
            op.error = classify(r, op.sql);
          }
        }
        PQclear(r);
        break;
    }
  }
  return false;
}

void PgConnection::start_script(std::string_view sql) {
  check_idle();
  Op op;
  op.sql = std::string(sql);
  op.steps.emplace_back(Step::simple, op.sql);
  op_ = std::move(op);
  send_step();
}

void PgConnection::send_step() {
  Op& op = *op_;
  const auto& [kind, arg] = op.steps[op.current];
  int ok = 0;
  switch (kind) {
    case Step::simple: ok = PQsendQuery(conn_, arg.c_str()); break;
    case Step::prepare:
      ok = PQsendPrepare(conn_, arg.c_str(), op.sql.c_str(), params_.count(), params_.types());
      break;
    case Step::exec_prepared:
      ok = PQsendQueryPrepared(conn_, arg.c_str(), params_.count(), params_.values(), params_.lengths(),
                               params_.formats(), 0);
      break;
    case Step::exec_params:
      ok = PQsendQueryParams(conn_, op.sql.c_str(), params_.count(), params_.types(), params_.values(),
                             params_.lengths(), params_.formats(), 0);
      break;
    case Step::pipeline:
      send_chunk();
      return;
  }
  if (!ok) {
    fail_lost("sending the statement");
    return;
  }
  op.flushing = true;
}

void PgConnection::fail_lost(std::string_view during) {
  broken_ = true;
  if (op_) {
    if (op_->result) PQclear(op_->result);
    op_->result = nullptr;
    op_->error = connection_lost(conn_, op_->sql, during);
    op_->current = op_->steps.size();
  }
}

void PgConnection::abandon_remaining_steps() noexcept {
  if (!op_) return;
  op_->abandoned = true;
}

// Called when PQgetResult returned null: the current step is complete. Returns true when the
// whole operation is done.
bool PgConnection::step_finished() {
  Op& op = *op_;
  if (op.error) return true;
  if (op.steps[op.current].first == Step::prepare) cache_store(op);
  if (op.current + 1 >= op.steps.size()) return true;
  if (op.abandoned) {
    ErrorDetail d;
    d.statement = op.sql;
    op.error = std::make_exception_ptr(QueryCanceled("the statement was cancelled before it was sent", std::move(d)));
    return true;
  }
  ++op.current;
  send_step();
  return op.error != nullptr;
}

Wait PgConnection::poll() {
  if (!op_) return Wait::none;
  Op& op = *op_;
  if (op.current >= op.steps.size()) return Wait::none;
  for (;;) {
    if (op.flushing) {
      int r = PQflush(conn_);
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
    if (op.steps[op.current].first == Step::pipeline) {
      if (op.error && !op.awaiting_sync) {  // failed while sending
        op.current = op.steps.size();
        return Wait::none;
      }
      if (read_pipeline()) {
        op.current = op.steps.size();
        return Wait::none;
      }
      if (!op.awaiting_sync) {
        if (!send_chunk()) {
          op.current = op.steps.size();
          return Wait::none;
        }
        continue;  // flush the new chunk
      }
      if (PQstatus(conn_) == CONNECTION_BAD) {
        fail_lost("reading a batch");
        return Wait::none;
      }
      return Wait::read;
    }
    bool advanced = false;
    while (!PQisBusy(conn_)) {
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        if (step_finished()) {
          op.current = op.steps.size();
          return Wait::none;
        }
        advanced = true;  // next step sent: flush it, then read again
        break;
      }
      const bool final_step = op.current + 1 == op.steps.size();
      switch (PQresultStatus(r)) {
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
          if (final_step) {
            if (op.result) PQclear(op.result);  // scripts: keep the last statement's result
            op.result = r;
          } else {
            PQclear(r);
          }
          break;
        default:
          if (!op.error) {
            if (PQstatus(conn_) == CONNECTION_BAD) {
              broken_ = true;
              op.error = connection_lost(conn_, op.sql, "the statement");
            } else {
              op.error = classify(r, op.sql);
              const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
              std::string_view st = state ? state : "";
              if (st.starts_with("57P") || st.starts_with("08")) broken_ = true;
              // A cached plan invalidated by DDL, or a statement the server no longer has
              // (a pooler switched backends): forget it so the next run prepares again.
              if (op.steps[op.current].first == Step::exec_prepared && (st == "0A000" || st == "26000"))
                cache_evict_name(op.statement_name, st == "0A000");
            }
          }
          PQclear(r);
          break;
      }
    }
    if (!advanced) {
      if (PQstatus(conn_) == CONNECTION_BAD) {
        fail_lost("reading the result");
        return Wait::none;
      }
      return Wait::read;
    }
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
  return std::make_shared<PgResultSet>(op.result);
}

void PgConnection::cache_store(Op& op) {
  if (op.pending_cache_sql.empty()) return;
  lru_.push_front(op.pending_cache_sql);
  cache_index_[op.pending_cache_sql] = CacheEntry{op.statement_name, lru_.begin()};
  op.pending_cache_sql.clear();
  while (cache_index_.size() > options_.statement_cache_size) cache_evict(lru_.back(), true);
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

void PgConnection::execute_script(std::string_view sql) {
  start_script(sql);
  run_blocking();
}

bool PgConnection::ping() noexcept {
  if (op_ || is_broken()) return false;
  try {
    start_script("");
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
    return true;
  } catch (...) {
    op_.reset();
    return false;
  }
}

bool PgConnection::is_broken() const noexcept {
  return broken_ || conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD;
}

bool PgConnection::in_transaction() const noexcept {
  if (conn_ == nullptr) return false;
  auto st = PQtransactionStatus(conn_);
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

int PgConnection::backend_pid() const noexcept { return conn_ ? PQbackendPID(conn_) : 0; }

bool PgConnection::request_cancel() noexcept {
  if (cancel_ == nullptr) return false;
  char err[256];
  return PQcancel(cancel_, err, sizeof err) == 1;
}

void PgConnection::close() noexcept {
  if (op_ && op_->result) PQclear(op_->result);
  op_.reset();
  if (cancel_) {
    PQfreeCancel(cancel_);
    cancel_ = nullptr;
  }
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

}  // namespace corm::driver::postgres
