#pragma once
// transactional() for the async front: the overloads over AsyncSession, whose work returns an
// awaitable. What they do — propagation, read-only units, retries — is described in
// <corm/ext/transactional.hpp>:
//
//   auto place_order = [&](corm::AsyncSession& s) -> asio::awaitable<std::int64_t> { ... };
//   corm::ext::TxOptions opts;
//   opts.retry = corm::ext::RetryPolicy::on_conflict(5);
//   std::int64_t id = co_await corm::ext::transactional(engine, place_order, opts);

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/asyncio/async_engine.hpp"
#include "corm/ext/transactional.hpp"
#include "corm/orm/async_session.hpp"

namespace corm::ext {

namespace detail {

template <class F>
using async_work_result_t = typename std::invoke_result_t<F&, AsyncSession&>::value_type;

/// Runs `fn` in a transaction of a session of its own, with retries.
template <class F>
boost::asio::awaitable<async_work_result_t<F>> run_owned(AsyncSessionFactory sessions, F& fn, const TxOptions& opts) {
  using R = async_work_result_t<F>;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<AsyncSession> owned = sessions.make(owned_session_options(sessions.options(), opts));
    AsyncSession& s = *owned;
    std::exception_ptr failed;
    bool committed = false;
    std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
    try {
      // A read-only unit begins nothing up front: its reads take their own connection (a
      // replica's, when routed) instead of holding a writer connection it never uses.
      std::optional<AsyncSessionTransaction> tx;
      if (!corm::detail::SessionAccess::core(s).options().read_only) tx.emplace(co_await s.begin());
      if constexpr (std::is_void_v<R>) {
        co_await fn(s);
        result.emplace(0);
      } else {
        result.emplace(co_await fn(s));
      }
      if (tx) co_await tx->commit();
      else co_await s.rollback();  // read-only: nothing to keep
      committed = true;
      co_await s.close();
    } catch (...) {
      failed = std::current_exception();
    }
    if (!failed) {
      if constexpr (std::is_void_v<R>) co_return;
      else co_return std::move(*result);
    }
    try {
      co_await s.close();  // rolls back; throws at once when this coroutine was cancelled
    } catch (...) {
    }
    // After the commit the unit is durable: a failing close() must not run it again.
    const Error* e = committed ? nullptr : opts.retry.should_retry(failed, attempt);
    if (!e) std::rethrow_exception(failed);
    if (opts.retry.on_retry) opts.retry.on_retry(attempt, *e);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, opts.retry.backoff(attempt));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

template <class F>
boost::asio::awaitable<async_work_result_t<F>> run_nested(AsyncSession& current, F& fn) {
  using R = async_work_result_t<F>;
  auto sp = co_await current.begin_nested();
  std::exception_ptr failed;
  std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await fn(current);
      result.emplace(0);
    } else {
      result.emplace(co_await fn(current));
    }
    co_await sp.commit();
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    try {
      co_await sp.rollback();  // only the savepoint's work
    } catch (...) {
    }
    std::rethrow_exception(failed);
  }
  if constexpr (std::is_void_v<R>) co_return;
  else co_return std::move(*result);
}

}  // namespace detail

/// Runs `fn(AsyncSession&) -> awaitable<R>` in a new transaction on `engine` (see the header
/// comment). Returns what `fn` returned; rethrows what it (or the commit) threw after rolling back.
template <class F>
boost::asio::awaitable<detail::async_work_result_t<F>> transactional(AsyncEngine engine, F fn, TxOptions opts = {}) {
  co_return co_await detail::run_owned(AsyncSessionFactory(std::move(engine), opts.session), fn, opts);
}

/// Runs `fn` in a new transaction of a session `sessions` makes (routed, when it is).
template <class F>
boost::asio::awaitable<detail::async_work_result_t<F>> transactional(AsyncSessionFactory sessions, F fn,
                                                                     TxOptions opts = {}) {
  co_return co_await detail::run_owned(std::move(sessions), fn, opts);
}

/// Runs `fn` relative to `current`, the session of an enclosing transactional() call, as
/// `opts.propagation` says. `engine` makes the session of a REQUIRES_NEW call.
template <class F>
boost::asio::awaitable<detail::async_work_result_t<F>> transactional(AsyncEngine engine, AsyncSession& current, F fn,
                                                                     TxOptions opts = {}) {
  co_return co_await transactional(AsyncSessionFactory(std::move(engine), opts.session), current, std::move(fn),
                                   std::move(opts));
}

/// Runs `fn` relative to `current`; `sessions` makes the session of a REQUIRES_NEW call.
template <class F>
boost::asio::awaitable<detail::async_work_result_t<F>> transactional(AsyncSessionFactory sessions,
                                                                     AsyncSession& current, F fn,
                                                                     TxOptions opts = {}) {
  switch (opts.propagation) {
    case Propagation::required:
      detail::check_join(corm::detail::SessionAccess::core(current).options(), opts);
      co_return co_await fn(current);
    case Propagation::nested:
      co_return co_await detail::run_nested(current, fn);
    case Propagation::requires_new:
      break;
  }
  co_return co_await detail::run_owned(std::move(sessions), fn, opts);
}

}  // namespace corm::ext
