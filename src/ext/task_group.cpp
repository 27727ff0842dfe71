#include "corm/ext/task_group.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "corm/core/error.hpp"
#include "corm/orm/detail/session_access.hpp"

namespace corm::ext {

namespace asio = boost::asio;

namespace detail {

namespace {
bool safe_gid_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
// PREPARE TRANSACTION, COMMIT PREPARED and ROLLBACK PREPARED take the transaction id as a string
// literal: the server accepts no bound parameter there. Every gid is therefore built here from
// [A-Za-z0-9_] only and checked again right before it is written into SQL, so the literal can
// never contain a quote or anything else that would end it.
std::string gid_literal(const std::string& gid) {
  if (gid.empty() || gid.size() > 199 || !std::all_of(gid.begin(), gid.end(), safe_gid_char))
    throw UsageError("two-phase commit: transaction id '" + gid + "' is not made of [A-Za-z0-9_] (at most 199)");
  return "'" + gid + "'";
}
std::string random_group_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (int i = 0; i < 16; ++i) s += hex[rd() % 16];
  return s;
}
}  // namespace

void check_gid_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 64 || !std::all_of(prefix.begin(), prefix.end(), safe_gid_char))
    throw ConfigError("two-phase commit: gid_prefix '" + std::string(prefix) +
                      "' must be 1 to 64 characters of letters, digits and '_'");
}

std::string make_gid(std::string_view prefix, std::string_view group, std::size_t index, std::size_t count) {
  check_gid_prefix(prefix);
  std::string gid = std::string(prefix) + "_" + std::string(group) + "_" + std::to_string(index) + "_" +
                    std::to_string(count);
  (void)gid_literal(gid);
  return gid;
}

}  // namespace detail

TransactionalTaskGroup::TransactionalTaskGroup(AsyncEngine engine, TaskGroupOptions options)
    : TransactionalTaskGroup(AsyncSessionFactory(std::move(engine), options.session), std::move(options)) {}

TransactionalTaskGroup::TransactionalTaskGroup(AsyncSessionFactory sessions, TaskGroupOptions options)
    : sessions_(std::move(sessions)), options_(std::move(options)) {
  if (options_.two_phase) {
    const Dialect d = sessions_.writer().dialect();
    if (d != Dialect::postgresql)
      throw ConfigError("TransactionalTaskGroup: two_phase needs PostgreSQL (PREPARE TRANSACTION); this engine is " +
                        std::string(dialect_name(d)));
    detail::check_gid_prefix(options_.gid_prefix);
  }
}

void TransactionalTaskGroup::spawn(Task task) {
  if (ran_) throw UsageError("TransactionalTaskGroup::spawn(): the group has already run; make a new group");
  if (!task) throw UsageError("TransactionalTaskGroup::spawn(): empty task");
  tasks_.push_back(std::move(task));
}

namespace {

// Shared by run() and the completion handlers of the tasks; all on run()'s executor.
struct GroupState {
  GroupState(const asio::any_io_executor& ex, std::size_t n)
      : signals(std::make_unique<asio::cancellation_signal[]>(n)), size(n), done(ex), remaining(n) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  void cancel_all_but(std::size_t keep) {
    for (std::size_t j = 0; j < size; ++j)
      if (j != keep) signals[j].emit(asio::cancellation_type::terminal);
  }
  std::unique_ptr<asio::cancellation_signal[]> signals;
  std::size_t size;
  asio::steady_timer done;  // never expires: cancelled to wake run()
  std::size_t remaining;
  std::exception_ptr first;
};

asio::awaitable<void> run_task(const TransactionalTaskGroup::Task& task, AsyncSession& s) {
  co_await task(s);
  // PostgreSQL: flush now, so a constraint failure is this task's failure, seen before any
  // commit. SQLite has one writer at a time: a flushed task would hold the write lock until the
  // group commits and every other writing task would wait for it in vain, so there the pending
  // changes are flushed by the commits, one session after another.
  if (corm::detail::SessionAccess::core(s).dialect() == Dialect::postgresql) co_await s.flush();
}

}  // namespace

asio::awaitable<void> TransactionalTaskGroup::run() {
  if (ran_) throw UsageError("TransactionalTaskGroup::run(): a group runs once; make a new group");
  ran_ = true;
  // Clean-up after a cancellation of run() must still be able to co_await.
  co_await asio::this_coro::throw_if_cancelled(false);
  auto ex = co_await asio::this_coro::executor;
  const std::size_t n = tasks_.size();
  std::vector<std::unique_ptr<AsyncSession>> sessions;
  sessions.reserve(n);
  for (std::size_t i = 0; i < n; ++i) sessions.push_back(sessions_.make());

  auto st = std::make_shared<GroupState>(ex, n);
  for (std::size_t i = 0; i < n; ++i) {
    auto on_done = [st, i](std::exception_ptr e) {
      if (e && !st->first) {
        st->first = e;
        st->cancel_all_but(i);  // the siblings' work would be rolled back anyway
      }
      if (--st->remaining == 0) st->done.cancel();
    };
    asio::co_spawn(ex, run_task(tasks_[i], *sessions[i]),
                   asio::bind_cancellation_slot(st->signals[i].slot(), std::move(on_done)));
  }
  bool cancelled = false;
  while (st->remaining > 0) {
    boost::system::error_code ec;
    co_await st->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (st->remaining > 0 && !cancelled &&
        (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
      cancelled = true;  // run() itself was cancelled: cancel every task, then wait for them
      st->cancel_all_but(n);
      co_await asio::this_coro::reset_cancellation_state();
    }
  }

  std::exception_ptr failed = st->first;
  if (!failed && cancelled) failed = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  if (!failed) {
    try {
      if (options_.two_phase) {
        co_await commit_two_phase(sessions);
      } else {
        for (auto& s : sessions) co_await s->commit();
      }
    } catch (...) {
      failed = std::current_exception();
    }
  }
  for (auto& s : sessions) {
    try {
      if (failed) co_await s->rollback();
      co_await s->close();
    } catch (...) {
      // The session's destructor returns its connection (after a rollback) in any case.
    }
  }
  if (failed) std::rethrow_exception(failed);
}

asio::awaitable<void> TransactionalTaskGroup::commit_two_phase(std::vector<std::unique_ptr<AsyncSession>>& sessions) {
  // Participants: the sessions with an open transaction (a task that sent nothing has nothing
  // to commit). They are prepared in order and committed in order; recovery relies on that order
  // (see recover_prepared_transactions()).
  std::vector<AsyncConnection*> parts;
  for (auto& s : sessions) {
    AsyncConnection* c = co_await s->connection();
    if (c->in_transaction()) parts.push_back(c);
  }
  const std::size_t k = parts.size();
  const std::string group = detail::random_group_id();
  std::vector<std::string> gids;
  for (std::size_t i = 0; i < k; ++i) gids.push_back(detail::make_gid(options_.gid_prefix, group, i, k));

  std::size_t prepared = 0;
  std::exception_ptr failed;
  try {
    for (; prepared < k; ++prepared) {
      co_await parts[prepared]->exec_driver_sql("PREPARE TRANSACTION " + detail::gid_literal(gids[prepared]));
      // The server's session has left the transaction; this ROLLBACK (answered with a warning)
      // brings the connection's bookkeeping to the same state.
      co_await parts[prepared]->rollback();
    }
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    for (std::size_t i = 0; i < prepared; ++i) {
      try {
        parts[i]->set_isolation_level(IsolationLevel::autocommit);  // *_PREPARED refuse a transaction block
        co_await parts[i]->exec_driver_sql("ROLLBACK PREPARED " + detail::gid_literal(gids[i]));
      } catch (...) {
        // Left prepared: recover_prepared_transactions() rolls the incomplete group back.
      }
    }
    std::rethrow_exception(failed);
  }
  for (std::size_t i = 0; i < k; ++i) {
    try {
      parts[i]->set_isolation_level(IsolationLevel::autocommit);
      co_await parts[i]->exec_driver_sql("COMMIT PREPARED " + detail::gid_literal(gids[i]));
    } catch (const Error& e) {
      throw CommitOutcomeUnknown("two-phase commit stopped after " + std::to_string(i) + " of " + std::to_string(k) +
                                     " COMMIT PREPARED (" + e.what() +
                                     "); the rest stay prepared: run recover_prepared_transactions(engine, \"" +
                                     options_.gid_prefix + "\") to commit them",
                                 e.detail());
    }
    if (options_.after_commit_prepared) options_.after_commit_prepared(i);
  }
}

RecoveryReport recover_prepared_transactions(Engine engine, std::string_view gid_prefix) {
  detail::check_gid_prefix(gid_prefix);
  if (engine.dialect() != Dialect::postgresql)
    throw ConfigError("recover_prepared_transactions(): prepared transactions exist on PostgreSQL only");
  Connection c = engine.connect();
  c.set_isolation_level(IsolationLevel::autocommit);  // COMMIT PREPARED refuses a transaction block
  const std::string head = std::string(gid_prefix) + "_";
  std::vector<Value> params{Value(std::string_view(head))};
  Result r = c.exec_driver_sql(
      "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1) ORDER BY gid",
      std::move(params));

  // gid = <prefix>_<group>_<index>_<count>
  struct Group {
    std::size_t count = 0;
    std::set<std::size_t> present;
    std::vector<std::string> gids;
  };
  std::map<std::string, Group> groups;
  for (const Row& row : r) {
    auto gid = row.get<std::string>(0);
    std::string rest = gid.substr(head.size());
    auto a = rest.find('_');
    auto b = a == std::string::npos ? a : rest.find('_', a + 1);
    if (b == std::string::npos || rest.find('_', b + 1) != std::string::npos) continue;  // not a group's gid
    try {
      Group& g = groups[rest.substr(0, a)];
      g.present.insert(std::stoull(rest.substr(a + 1, b - a - 1)));
      g.count = std::stoull(rest.substr(b + 1));
      g.gids.push_back(gid);
    } catch (const std::exception&) {
      continue;
    }
  }
  RecoveryReport report;
  for (auto& [id, g] : groups) {
    // Prepared in index order, committed in index order. Participant 0 still prepared while
    // others are missing: the group died while preparing (the missing ones were never prepared
    // and are gone) — roll back. Otherwise every participant was prepared, so the group had
    // decided to commit (or some are committed already) — commit the rest.
    const bool incomplete = g.present.count(0) != 0 && g.present.size() < g.count;
    for (const std::string& gid : g.gids) {
      c.exec_driver_sql((incomplete ? "ROLLBACK PREPARED " : "COMMIT PREPARED ") + detail::gid_literal(gid));
      (incomplete ? report.rolled_back : report.committed).push_back(gid);
    }
  }
  return report;
}

}  // namespace corm::ext
