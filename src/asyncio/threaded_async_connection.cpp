#include "asyncio/threaded_async_connection.hpp"

#include <mutex>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/core/error.hpp"

namespace corm::asyncio_detail {

Worker::Worker() : thread_([this] { run(); }) {}

Worker::~Worker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Worker::enqueue(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Worker::run() {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stop requested and nothing left to do
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job->run();
  }
}

namespace {

// Runs `f` on `worker` and completes on the awaiting coroutine's executor. Cancelling the
// awaiting coroutine interrupts the statement through `target->cancel()`; the job still runs to
// its end, so the connection is never used by two threads at once.
template <class R, class F>
asio::awaitable<R> on_worker(Worker& worker, driver::Connection* target, F f) {
  // One cancellation record per job: a cancel reaches the driver only while this job runs,
  // stops it before it starts when it is still queued, and never outlives it.
  struct JobState {
    std::mutex mu;
    bool cancelled = false;
    bool running = false;
  };
  auto state = std::make_shared<JobState>();
  auto init = [&worker, target, state, f = std::move(f)](auto handler) mutable {
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected() && target != nullptr)
      slot.assign([target, state](asio::cancellation_type) {
        std::lock_guard lock(state->mu);
        state->cancelled = true;
        if (state->running) target->cancel();
      });
    auto ex = asio::get_associated_executor(handler);
    worker.post([f = std::move(f), handler = std::move(handler), ex, state, target]() mutable {
      std::exception_ptr error;
      R result{};
      try {
        {
          std::lock_guard lock(state->mu);
          if (state->cancelled) throw QueryCanceled("the statement was cancelled before it started");
          state->running = true;
        }
        try {
          result = f();
        } catch (...) {
          error = std::current_exception();
        }
        std::lock_guard lock(state->mu);
        state->running = false;
        if (target != nullptr) target->reset_cancel();
      } catch (...) {
        error = std::current_exception();
      }
      // Everything moves to the io thread: the worker keeps no reference to the error or the
      // result once the completion is posted (its copy would be released here, racing the
      // caller's use of it as far as a sanitizer can tell).
      asio::post(ex, [handler = std::move(handler), error = std::move(error), result = std::move(result)]() mutable {
        auto s = asio::get_associated_cancellation_slot(handler);
        if (s.is_connected()) s.clear();
        std::move(handler)(error, std::move(result));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
      std::move(init), asio::use_awaitable);
}

}  // namespace

ThreadedAsyncConnection::ThreadedAsyncConnection(std::unique_ptr<Worker> worker,
                                                 std::unique_ptr<driver::Connection> inner)
    : worker_(std::move(worker)), inner_(std::move(inner)) {}

ThreadedAsyncConnection::~ThreadedAsyncConnection() { close(); }

asio::awaitable<std::unique_ptr<AsyncDriverConnection>> ThreadedAsyncConnection::connect(
    const Url& url, const driver::ConnectOptions& options) {
  auto worker = std::make_unique<Worker>();
  // Callables are named locals, not temporaries inside the co_await expression: GCC 12 destroys
  // such temporaries twice (invalid free).
  auto open = [url, options] { return driver::connect(url, options); };
  auto inner = co_await on_worker<std::unique_ptr<driver::Connection>>(*worker, nullptr, std::move(open));
  co_return std::make_unique<ThreadedAsyncConnection>(std::move(worker), std::move(inner));
}

asio::awaitable<std::shared_ptr<const ResultSet>> ThreadedAsyncConnection::async_execute(
    std::string_view sql, std::span<const Value> params, std::chrono::milliseconds /*timeout*/) {
  // SQLite enforces time limits itself (statement_timeout, via its progress handler).
  auto* c = inner_.get();
  auto job = [c, sql, params, pre = std::exchange(deferred_, {})] {
    for (const auto& d : pre) c->execute_script(d);
    return c->execute(sql, params);
  };
  co_return co_await on_worker<std::shared_ptr<const ResultSet>>(*worker_, c, std::move(job));
}

asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> ThreadedAsyncConnection::async_execute_many(
    std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds /*timeout*/) {
  // One hop to the worker for the whole batch: SQLite has no round trips to save, only
  // thread switches.
  auto* c = inner_.get();
  auto job = [c, sql, rows, pre = std::exchange(deferred_, {})] {
    for (const auto& d : pre) c->execute_script(d);
    std::vector<std::shared_ptr<const ResultSet>> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(c->execute(sql, row));
    return out;
  };
  co_return co_await on_worker<std::vector<std::shared_ptr<const ResultSet>>>(*worker_, c, std::move(job));
}

asio::awaitable<void> ThreadedAsyncConnection::async_execute_script(std::string_view sql,
                                                                    std::chrono::milliseconds /*timeout*/) {
  auto* c = inner_.get();
  auto job = [c, sql, pre = std::exchange(deferred_, {})] {
    for (const auto& d : pre) c->execute_script(d);
    c->execute_script(sql);
    return true;
  };
  co_await on_worker<bool>(*worker_, c, std::move(job));
}

asio::awaitable<bool> ThreadedAsyncConnection::async_ping() {
  auto* c = inner_.get();
  auto job = [c] { return c->ping(); };
  co_return co_await on_worker<bool>(*worker_, c, std::move(job));
}

std::shared_ptr<const ResultSet> ThreadedAsyncConnection::execute(std::string_view sql, std::span<const Value> params) {
  for (const auto& d : std::exchange(deferred_, {})) inner_->execute_script(d);
  return inner_->execute(sql, params);
}

void ThreadedAsyncConnection::execute_script(std::string_view sql) {
  for (const auto& d : std::exchange(deferred_, {})) inner_->execute_script(d);
  inner_->execute_script(sql);
}

bool ThreadedAsyncConnection::defer(std::string_view sql) {
  if (!inner_) return false;
  deferred_.emplace_back(sql);
  return true;
}

bool ThreadedAsyncConnection::discard_deferred() noexcept {
  const bool had = !deferred_.empty();
  deferred_.clear();
  return had;
}

bool ThreadedAsyncConnection::send_without_reply(std::string_view sql) {
  if (!inner_ || inner_->is_broken()) return false;
  deferred_.clear();
  auto* c = inner_.get();
  auto pending = unreplied_;
  pending->fetch_add(1, std::memory_order_relaxed);
  // Jobs run in order, so the next statement finds the transaction ended. A failure here can
  // only mean the transaction was already gone (e.g. interrupted), which is what was wanted.
  worker_->post([c, pending, text = std::string(sql)] {
    try {
      c->execute_script(text);
    } catch (...) {
    }
    pending->fetch_sub(1, std::memory_order_release);
  });
  return true;
}

bool ThreadedAsyncConnection::in_transaction() const noexcept {
  if (!inner_) return false;
  if (!deferred_.empty()) return true;  // a BEGIN waiting for the next statement
  // A queued ROLLBACK ends whatever transaction there was; reading the driver's state while the
  // worker runs it would race.
  if (unreplied_->load(std::memory_order_acquire) > 0) return false;
  return inner_->in_transaction();
}

bool ThreadedAsyncConnection::ping() noexcept { return inner_->ping(); }

void ThreadedAsyncConnection::close() noexcept {
  if (!inner_) return;
  // Close on the worker thread, after anything still queued, then stop the thread.
  auto* c = inner_.get();
  worker_->post([c] { c->close(); });
  worker_.reset();  // joins: the queue drains first
  inner_.reset();
}

}  // namespace corm::asyncio_detail
