#include "corm/ext/transactional.hpp"

#include <algorithm>
#include <random>
#include <string>

namespace corm::ext {

bool RetryPolicy::is_retryable(const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const CommitOutcomeUnknown&) {
    return false;  // the commit may have happened: re-running could apply the work twice
  } catch (const DeadlockDetected&) {
    return true;
  } catch (const SerializationFailure&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool RetryPolicy::retries(const std::exception_ptr& error) const noexcept {
  if (is_retryable(error)) return true;
  if (!retry_connection_lost) return false;
  try {
    std::rethrow_exception(error);
  } catch (const CommitOutcomeUnknown&) {
    return false;
  } catch (const ConnectionLost&) {
    return true;  // lost before COMMIT was sent: the server rolled the transaction back
  } catch (const ConnectError&) {
    return true;  // no connection, no transaction: e.g. no primary while a standby is promoted
  } catch (...) {
    return false;
  }
}

const Error* RetryPolicy::should_retry(const std::exception_ptr& error, int attempt) const {
  if (max_attempts < 1)
    throw UsageError("RetryPolicy: max_attempts must be at least 1 (got " + std::to_string(max_attempts) + ")");
  if (max_total_wait.count() < 0)
    throw UsageError("RetryPolicy: max_total_wait must not be negative (0 means no limit)");
  const auto now = std::chrono::steady_clock::now();
  if (attempt <= 1) first_failure_at = now;
  if (attempt >= max_attempts || !retries(error)) return nullptr;
  if (max_total_wait.count() > 0 && now - first_failure_at >= max_total_wait) return nullptr;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return &e;  // the exception object lives as long as `error` does
  } catch (...) {
    return nullptr;
  }
}

std::chrono::milliseconds RetryPolicy::backoff(int retry) const {
  // Full jitter: contenders that failed together spread out instead of colliding again.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto cap = std::max(base_delay, std::chrono::milliseconds(0));
  for (int i = 1; i < retry && cap < max_delay; ++i) cap *= 2;
  cap = std::min(cap, max_delay);
  if (cap.count() <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<std::int64_t> d(0, cap.count());
  return std::chrono::milliseconds(d(rng));
}

namespace detail {

SessionOptions owned_session_options(const TxOptions& opts) { return owned_session_options(opts.session, opts); }

SessionOptions owned_session_options(SessionOptions base, const TxOptions& opts) {
  if (opts.read_only) base.read_only = true;
  if (opts.isolation_level) base.isolation_level = opts.isolation_level;
  return base;
}

void check_join(const SessionOptions& current, const TxOptions& opts) {
  if (current.read_only && !opts.read_only)
    throw UsageError("transactional(): a read-write call cannot join (REQUIRED) a read-only transaction; mark it "
                     "read_only or use Propagation::requires_new");
}

}  // namespace detail

}  // namespace corm::ext
