#pragma once
// transactional(): run a unit of work in a transaction, Spring's @Transactional for corm.
// The work is a callable taking the session to use:
//
//   auto place_order = [&](corm::Session& s) -> std::int64_t { ... };
//   corm::ext::TxOptions opts;
//   opts.retry = corm::ext::RetryPolicy::on_conflict(5);
//   std::int64_t id = corm::ext::transactional(engine, place_order, opts);
//
// The async front's overloads (AsyncSession, awaited) are in <corm/ext/async_transactional.hpp>.
// Without an enclosing transaction it opens a new session, begins, runs the work, commits (or
// rolls back on any exception, which then propagates) and closes the session. The session comes
// from an engine, or from a SessionFactory (session_factory.hpp) — routed over a writer and a
// reader, with its options — so the outermost call commits or rolls back a routed session too. Inside another
// transactional() call, pass that call's session as `current` and choose the propagation:
//   REQUIRED      join it: same session and transaction; the outermost call commits.
//   REQUIRES_NEW  suspend it: a new session on another pooled connection, committed on its own
//                 (the outer one's locks stay held meanwhile: beware of waiting on yourself).
//   NESTED        a SAVEPOINT in it: a failure rolls back only the work's own changes.
// read_only runs the work in a read-only session (no flush, no dirty checking, rolled back at the
// end; PostgreSQL also refuses writes) — and read-only calls joined with REQUIRED share one
// session, so repeated get()s of the same row are identity-map hits.
//
// Retry: a transaction that owns its session (outermost, REQUIRES_NEW) is re-run from the start
// with a fresh session when it fails with DeadlockDetected or SerializationFailure, up to
// RetryPolicy::max_attempts attempts in total, after a jittered exponential backoff. The work
// must therefore be safe to run again (no side effects outside the database). A joined or nested
// transaction is never retried on its own: the error goes to the owner, which retries the whole
// unit. CommitOutcomeUnknown is never retried (the first attempt may have committed).
// RetryPolicy::on_failover also re-runs a unit whose connection was lost before its COMMIT was
// sent (ConnectionLost, ReadOnlyServer) or that could not connect (ConnectError), for as long as
// max_total_wait allows: across a primary's failure and a standby's promotion (docs/failover.md).

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "corm/core/error.hpp"
#include "corm/ext/session_factory.hpp"
#include "corm/orm/detail/session_access.hpp"
#include "corm/orm/session.hpp"

namespace corm::ext {

/// How a transactional() call relates to an enclosing transaction (see the header comment).
enum class Propagation { required, requires_new, nested };

/// When and how often a failed transaction is re-run (see the header comment).
struct RetryPolicy {
  /// Attempts in total, the first included (1: never retry).
  int max_attempts = 1;
  /// Backoff before retry k (1-based) is uniformly random in [0, min(max_delay, base_delay·2^(k-1))].
  std::chrono::milliseconds base_delay{20};
  /// Upper bound of any one backoff.
  std::chrono::milliseconds max_delay{1000};
  /// Called before each retry with the number of the attempt that failed and its error.
  std::function<void(int attempt, const Error& error)> on_retry;
  /// Also retry ConnectionLost (ReadOnlyServer included) and ConnectError — never
  /// CommitOutcomeUnknown: the unit did not commit, so running it again is safe.
  bool retry_connection_lost = false;
  /// No retry once this long has passed since the unit's first attempt failed (0: no limit;
  /// max_attempts still applies).
  std::chrono::milliseconds max_total_wait{0};

  /// Rides out a failover: retries conflicts and lost connections (see retry_connection_lost)
  /// for up to `max_total_wait` after the first failure, with backoff from 50 ms up to 1 s.
  static RetryPolicy on_failover(std::chrono::milliseconds max_total_wait = std::chrono::seconds(30)) {
    RetryPolicy p;
    p.max_attempts = 1000;
    p.base_delay = std::chrono::milliseconds(50);
    p.max_delay = std::chrono::milliseconds(1000);
    p.retry_connection_lost = true;
    p.max_total_wait = max_total_wait;
    return p;
  }

  /// No retries.
  static RetryPolicy none() { return {}; }
  /// Retry deadlocks and serialization failures, `attempts` attempts in total.
  static RetryPolicy on_conflict(int attempts = 3) {
    RetryPolicy p;
    p.max_attempts = attempts;
    return p;
  }
  /// True for errors a re-run may fix: DeadlockDetected, SerializationFailure. Never
  /// CommitOutcomeUnknown.
  static bool is_retryable(const std::exception_ptr& error) noexcept;
  /// is_retryable(), plus ConnectionLost and ConnectError when retry_connection_lost is set.
  bool retries(const std::exception_ptr& error) const noexcept;
  /// The delay before retry number `retry` (1-based), jittered.
  std::chrono::milliseconds backoff(int retry) const;
  /// The error to retry when `error` (from attempt `attempt`) should be retried, else nullptr.
  /// UsageError when max_attempts < 1. Attempt 1 starts the max_total_wait clock, so one policy
  /// object serves one unit at a time (transactional() takes its options by value: it does).
  const Error* should_retry(const std::exception_ptr& error, int attempt) const;

  /// When the current unit's first attempt failed: set by should_retry, not an option (public
  /// so that the policy stays an aggregate for designated initializers).
  mutable std::chrono::steady_clock::time_point first_failure_at{};
};

/// Options of one transactional() call.
struct TxOptions {
  /// How the call relates to an enclosing transaction's session (when one is passed).
  Propagation propagation = Propagation::required;
  /// Runs the work in a read-only session: no flush, rolled back at the end.
  bool read_only = false;
  /// Whether and how a failed transaction that owns its session is re-run.
  RetryPolicy retry{};
  /// Isolation level of a transaction this call begins (not of one it joins).
  std::optional<IsolationLevel> isolation_level{};
  /// Options of a session this call creates on an engine (read_only and isolation_level above
  /// override). A call given a SessionFactory uses the factory's options instead.
  SessionOptions session{};
};

namespace detail {

template <class F>
using sync_work_result_t = std::invoke_result_t<F&, Session&>;

SessionOptions owned_session_options(const TxOptions& opts);
/// `base` (a factory's options) with the call's read_only and isolation_level applied.
SessionOptions owned_session_options(SessionOptions base, const TxOptions& opts);
/// UsageError when a read-write call would join a read-only transaction.
void check_join(const SessionOptions& current, const TxOptions& opts);

template <class S>
bool session_is_read_only(S& s) {
  return corm::detail::SessionAccess::core(s).options().read_only;
}

}  // namespace detail

/// Runs `fn(Session&) -> R` in a new transaction of a session `sessions` makes (routed, when it is),
/// with retries (sleeping the backoff on this thread). Returns what `fn` returned; rethrows what it
/// (or the commit) threw after rolling back.
template <class F>
detail::sync_work_result_t<F> transactional(SessionFactory sessions, F fn, TxOptions opts = {}) {
  using R = detail::sync_work_result_t<F>;
  for (int attempt = 1;; ++attempt) {
    bool committed = false;
    try {
      std::unique_ptr<Session> owned = sessions.make(detail::owned_session_options(sessions.options(), opts));
      Session& s = *owned;
      auto tx = s.begin();
      if constexpr (std::is_void_v<R>) {
        fn(s);
        tx.commit();
        committed = true;
        s.close();
        return;
      } else {
        R r = fn(s);
        tx.commit();
        committed = true;
        s.close();
        return r;
      }
    } catch (...) {  // the session's destructor has rolled back
      // After the commit the unit is durable: a failing close() must not run it again.
      if (committed) throw;
      const Error* e = opts.retry.should_retry(std::current_exception(), attempt);
      if (!e) throw;
      if (opts.retry.on_retry) opts.retry.on_retry(attempt, *e);
    }
    std::this_thread::sleep_for(opts.retry.backoff(attempt));
  }
}

/// Runs `fn(Session&) -> R` in a new transaction on `engine` (plain sessions with `opts.session`).
template <class F>
detail::sync_work_result_t<F> transactional(Engine engine, F fn, TxOptions opts = {}) {
  SessionFactory sessions(std::move(engine), opts.session);
  return transactional(std::move(sessions), std::move(fn), std::move(opts));
}

/// Runs `fn` relative to `current`, the session of an enclosing transactional() call, as
/// `opts.propagation` says; `sessions` makes the session of a REQUIRES_NEW call.
template <class F>
detail::sync_work_result_t<F> transactional(SessionFactory sessions, Session& current, F fn, TxOptions opts = {}) {
  switch (opts.propagation) {
    case Propagation::required:
      detail::check_join(corm::detail::SessionAccess::core(current).options(), opts);
      return fn(current);
    case Propagation::nested: {
      auto sp = current.begin_nested();  // destroyed active (fn threw): rolls back the savepoint only
      if constexpr (std::is_void_v<detail::sync_work_result_t<F>>) {
        fn(current);
        sp.commit();
        return;
      } else {
        auto r = fn(current);
        sp.commit();
        return r;
      }
    }
    case Propagation::requires_new:
      break;
  }
  return transactional(std::move(sessions), std::move(fn), std::move(opts));
}

/// Runs `fn` relative to `current`; `engine` makes the session of a REQUIRES_NEW call.
template <class F>
detail::sync_work_result_t<F> transactional(Engine engine, Session& current, F fn, TxOptions opts = {}) {
  SessionFactory sessions(std::move(engine), opts.session);
  return transactional(std::move(sessions), current, std::move(fn), std::move(opts));
}

}  // namespace corm::ext
