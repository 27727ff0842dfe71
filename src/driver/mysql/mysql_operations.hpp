#pragma once
// MysqlConnection's operations, written once as coroutines over an Io (mysql_step.hpp). Included
// by the sync driver (SyncIo) and the async front (its Asio Io); nothing here knows which runs
// it. Every call that waits on the network is a step; each step is a named local, never a
// temporary inside a co_await expression (GCC 12 destroys such temporaries twice).

#include <exception>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "driver/mysql/mysql_connection.hpp"
#include "driver/mysql/mysql_params.hpp"
#include "driver/mysql/mysql_result.hpp"
#include "driver/mysql/mysql_step.hpp"

namespace corm::driver::mysql {

namespace ops_detail {

// Closes a statement the cache did not take (statement cache off). COM_STMT_CLOSE has no reply,
// so this never waits.
struct OwnedStmt {
  MYSQL_STMT* stmt;
  bool owned;
  ~OwnedStmt() {
    if (owned) mysql_stmt_close(stmt);
  }
};

struct ResultGuard {
  MYSQL_RES* res;
  ~ResultGuard() {
    if (res != nullptr) mysql_free_result(res);
  }
};

}  // namespace ops_detail

template <class Io>
typename Io::template Task<bool> MysqlConnection::run_text(Io io, std::string_view sql) {
  auto query = steps::real_query(db_, sql);
  if (co_await io(query) != 0) std::rethrow_exception(handle_error(sql, Phase::statement));
  auto store = steps::store_result(db_);
  if (MYSQL_RES* res = co_await io(store)) mysql_free_result(res);
  co_return true;
}

template <class Io>
typename Io::template Task<bool> MysqlConnection::op_setup(Io io) {
  // UTC like every corm timestamp; strict mode so bad data fails instead of being clipped; no
  // backslash escapes so string literals mean what they say in standard SQL (LIKE ... ESCAPE '\').
  std::string_view base =
      "SET SESSION time_zone = '+00:00', "
      "sql_mode = CONCAT_WS(',', @@sql_mode, 'STRICT_ALL_TABLES', 'NO_BACKSLASH_ESCAPES', "
      "'ERROR_FOR_DIVISION_BY_ZERO', 'NO_ZERO_DATE', 'NO_ZERO_IN_DATE', 'NO_ENGINE_SUBSTITUTION')";
  co_await run_text(io, base);
  if (options_.isolation_level && *options_.isolation_level != IsolationLevel::autocommit) {
    const std::string iso =
        fmt::format("SET SESSION TRANSACTION ISOLATION LEVEL {}", to_sql(*options_.isolation_level));
    co_await run_text(io, iso);
  }
  if (options_.statement_timeout.count() > 0) {
    const std::string limit =
        mariadb_ ? fmt::format("SET SESSION max_statement_time = {:.3f}", options_.statement_timeout.count() / 1000.0)
                 : fmt::format("SET SESSION max_execution_time = {}", options_.statement_timeout.count());
    co_await run_text(io, limit);
  }
  co_return true;
}

template <class Io>
typename Io::template Task<MYSQL_STMT*> MysqlConnection::prepare(Io io, std::string_view sql, bool& owned) {
  owned = false;
  if (MYSQL_STMT* cached = cache_.find(sql)) co_return cached;
  MYSQL_STMT* stmt = mysql_stmt_init(db_);
  if (stmt == nullptr) std::rethrow_exception(handle_error(sql, Phase::statement));
  // Lets store_result compute each column's longest value, so result buffers are sized once.
  my_bool update_max = 1;
  mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
  auto prep = steps::stmt_prepare(stmt, sql);
  if (co_await io(prep) != 0) {
    auto error = stmt_error(stmt, sql);
    mysql_stmt_close(stmt);
    std::rethrow_exception(error);
  }
  owned = !cache_.insert(sql, stmt);
  co_return stmt;
}

template <class Io>
typename Io::template Task<bool> MysqlConnection::settle_stmt(Io io, MYSQL_STMT* stmt, bool owned) {
  if (owned || broken_) co_return true;  // closed by the caller, or nothing left to talk to
  auto free = steps::stmt_free_result(stmt);
  (void)co_await io(free);
  auto reset = steps::stmt_reset(stmt);
  (void)co_await io(reset);
  co_return true;
}

template <class Io>
typename Io::template Task<std::shared_ptr<const ResultSet>> MysqlConnection::execute_text(Io io,
                                                                                          std::string_view sql) {
  auto query = steps::real_query(db_, sql);
  if (co_await io(query) != 0) std::rethrow_exception(handle_error(sql, phase_of(sql)));
  std::shared_ptr<const ResultSet> out;
  auto store = steps::store_result(db_);
  MYSQL_RES* res = co_await io(store);
  if (res != nullptr) {
    ops_detail::ResultGuard guard{res};
    out = read_text_result(res);
  } else if (mysql_field_count(db_) != 0) {
    std::rethrow_exception(handle_error(sql, phase_of(sql)));
  } else {
    auto empty = std::make_shared<BufferedResultSet>();
    const my_ulonglong n = mysql_affected_rows(db_);
    empty->set_affected_rows(n == static_cast<my_ulonglong>(-1) ? -1 : static_cast<std::int64_t>(n));
    out = std::move(empty);
  }
  // A CALL returns a status result after its rows; read it so the connection is ready again.
  while (mysql_more_results(db_)) {
    auto next = steps::next_result(db_);
    if (co_await io(next) > 0) std::rethrow_exception(handle_error(sql, phase_of(sql)));
    auto more = steps::store_result(db_);
    if (MYSQL_RES* extra = co_await io(more)) mysql_free_result(extra);
  }
  co_return out;
}

template <class Io>
typename Io::template Task<std::shared_ptr<const ResultSet>> MysqlConnection::op_execute(
    Io io, std::string_view sql, std::span<const Value> params) {
  require_open();
  note_session_change(sql);
  // A statement without parameters (BEGIN, SAVEPOINT, DDL, a constant SELECT) goes as text: one
  // round trip, no prepared statement to keep, and every statement kind is accepted.
  if (params.empty()) co_return co_await execute_text(io, sql);
  ParamBinds::check_count(params.size());
  bool owned = false;
  MYSQL_STMT* stmt = co_await prepare(io, sql, owned);
  ops_detail::OwnedStmt closer{stmt, owned};
  check_param_count(stmt, sql, params.size());
  ParamBinds binds(params);
  std::exception_ptr error;
  std::shared_ptr<const ResultSet> out;
  if (mysql_stmt_bind_param(stmt, binds.data()) != 0) {
    error = stmt_error(stmt, sql);
  } else {
    auto exec = steps::stmt_execute(stmt);
    if (co_await io(exec) != 0) {
      error = stmt_error(stmt, sql);
    } else if (MYSQL_RES* meta = mysql_stmt_result_metadata(stmt); meta == nullptr) {
      if (mysql_stmt_errno(stmt) != 0) error = stmt_error(stmt, sql);
      else out = affected_rows_result(stmt);
    } else {
      ops_detail::ResultGuard guard{meta};
      auto store = steps::stmt_store_result(stmt);
      if (co_await io(store) != 0) {
        error = stmt_error(stmt, sql);
      } else {
        try {
          out = read_stored_statement_result(stmt, meta);
        } catch (const StatementFailed&) {
          error = stmt_error(stmt, sql);
        }
      }
    }
  }
  if (error) {
    co_await settle_stmt(io, stmt, owned);
    std::rethrow_exception(error);
  }
  mysql_stmt_free_result(stmt);  // the stored rows: no I/O
  co_return out;
}

template <class Io>
typename Io::template Task<bool> MysqlConnection::op_sliced(
    Io io, std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice,
    const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) {
  require_open();
  note_session_change(sql);
  if (rows_per_slice == 0) rows_per_slice = 1;
  ParamBinds::check_count(params.size());
  bool owned = false;
  MYSQL_STMT* stmt = co_await prepare(io, sql, owned);
  ops_detail::OwnedStmt closer{stmt, owned};
  check_param_count(stmt, sql, params.size());
  ParamBinds binds(params);
  std::exception_ptr error;   // the statement's
  std::exception_ptr failed;  // on_slice's
  bool streaming = false;     // rows may be left on the network
  if (mysql_stmt_bind_param(stmt, binds.data()) != 0) {
    error = stmt_error(stmt, sql);
  } else {
    auto exec = steps::stmt_execute(stmt);
    if (co_await io(exec) != 0) {
      error = stmt_error(stmt, sql);
    } else if (MYSQL_RES* meta = mysql_stmt_result_metadata(stmt); meta == nullptr) {
      if (mysql_stmt_errno(stmt) != 0) error = stmt_error(stmt, sql);
    } else {
      // No mysql_stmt_store_result: each row is read off the network as it is fetched, so at most
      // one slice is held here whatever the result's size.
      ops_detail::ResultGuard guard{meta};
      streaming = true;
      std::optional<StatementRows> reader;
      try {
        reader.emplace(stmt, meta, false);
      } catch (const StatementFailed&) {
        error = stmt_error(stmt, sql);
      }
      std::shared_ptr<BufferedResultSet> slice;
      std::size_t n = 0;
      while (reader && !error && !failed) {
        if (!slice) slice = reader->make_set();
        auto fetch = steps::stmt_fetch(stmt);
        const int rc = co_await io(fetch);
        if (rc == MYSQL_NO_DATA) {
          streaming = false;
          break;
        }
        if (rc == 1) {
          error = stmt_error(stmt, sql);
          streaming = false;
          break;
        }
        try {
          reader->append(*slice);
        } catch (const StatementFailed&) {
          error = stmt_error(stmt, sql);
          break;
        }
        if (++n < rows_per_slice) continue;
        slice->set_affected_rows(static_cast<std::int64_t>(n));
        n = 0;
        try {
          on_slice(std::shared_ptr<const ResultSet>(std::move(slice)));
        } catch (...) {
          failed = std::current_exception();
        }
        slice.reset();
        io.slice_done();
      }
      if (!error && !failed && n > 0) {
        slice->set_affected_rows(static_cast<std::int64_t>(n));
        try {
          on_slice(std::shared_ptr<const ResultSet>(std::move(slice)));
        } catch (...) {
          failed = std::current_exception();
        }
      }
    }
  }
  if (error) {
    co_await settle_stmt(io, stmt, owned);
    std::rethrow_exception(error);
  }
  if (streaming && !broken_) {
    // The caller gave up on the rows: read the rest off the network, so the connection is
    // clean for its next statement.
    auto rest = steps::stmt_free_result(stmt);
    (void)co_await io(rest);
  } else if (!broken_) {
    mysql_stmt_free_result(stmt);  // nothing left unread: no I/O
  }
  if (failed) std::rethrow_exception(failed);
  co_return true;
}

template <class Io>
typename Io::template Task<bool> MysqlConnection::op_script(Io io, std::string_view sql) {
  require_open();
  note_session_change(sql);
  // Multi-statement text is allowed only for scripts, so a single execute() can never run a
  // second statement smuggled into its text.
  auto on = steps::set_server_option(db_, MYSQL_OPTION_MULTI_STATEMENTS_ON);
  if (co_await io(on) != 0) std::rethrow_exception(handle_error(sql, Phase::statement));
  std::exception_ptr error;
  auto query = steps::real_query(db_, sql);
  if (co_await io(query) != 0) {
    error = handle_error(sql, Phase::statement);
  } else {
    for (;;) {
      auto store = steps::store_result(db_);
      if (MYSQL_RES* res = co_await io(store)) {
        mysql_free_result(res);
      } else if (mysql_field_count(db_) != 0) {
        error = handle_error(sql, Phase::statement);
        break;
      }
      auto next = steps::next_result(db_);
      const int more = co_await io(next);
      if (more < 0) break;
      if (more > 0) {
        error = handle_error(sql, Phase::statement);
        break;
      }
    }
  }
  if (!broken_) {
    auto off = steps::set_server_option(db_, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
    (void)co_await io(off);
  }
  if (error) std::rethrow_exception(error);
  co_return true;
}

template <class Io>
typename Io::template Task<bool> MysqlConnection::op_ping(Io io) {
  if (db_ == nullptr || broken_) co_return false;
  auto ping = steps::ping(db_);
  if (co_await io(ping) == 0) co_return true;
  broken_ = true;
  co_return false;
}

template <class Io>
typename Io::template Task<bool> MysqlConnection::op_reset(Io io) {
  if (!session_touched_) co_return true;
  if (db_ == nullptr || broken_) co_return false;
  auto reset = steps::reset_connection(db_);
  if (co_await io(reset) != 0) co_return false;
  // The server dropped its prepared statements; Connector/C detached the handles.
  cache_.clear();
  bool ok = true;
  try {
    co_await op_setup(io);
  } catch (...) {
    ok = false;
  }
  if (ok) session_touched_ = false;
  co_return ok;
}

}  // namespace corm::driver::mysql
