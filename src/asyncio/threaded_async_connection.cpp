#include "asyncio/threaded_async_connection.hpp"

#include <future>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "driver/session_state.hpp"

namespace corm::asyncio_detail {

Worker::Worker() : queue_(std::make_shared<Queue>()), thread_([q = queue_] { run(*q); }) {}

Worker::~Worker() {
  {
    std::lock_guard lock(queue_->mu);
    queue_->stop = true;
  }
  queue_->cv.notify_one();
  if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();  // it drains the queue, then ends
  else thread_.join();
}

void Worker::enqueue(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(queue_->mu);
    queue_->jobs.push_back(std::move(job));
  }
  queue_->cv.notify_one();
}

void Worker::run(Queue& q) {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(q.mu);
      q.cv.wait(lock, [&] { return q.stop || !q.jobs.empty(); });
      if (q.jobs.empty()) return;  // stop requested and nothing left to do
      job = std::move(q.jobs.front());
      q.jobs.pop_front();
    }
    job->run();
  }
}

// The completion handlers waiting for worker threads, per io_context. A worker must never post
// to an io_context that is gone, nor destroy a handler itself (that destroys the awaiting
// coroutine's frame — and with it, possibly, this very connection and its worker — on the
// worker thread). So the handlers wait here: a worker takes its handler back and posts it under
// the registry's lock, and the io_context's shutdown (its destruction) destroys the handlers
// still waiting on its own thread, as Asio does with every other pending handler.
class PendingCompletions {
 public:
  struct Handler {
    virtual ~Handler() = default;
  };

  /// Holds `h` until take_and_post(); 0 (and `h` left alone) once shut down.
  std::uint64_t add(std::unique_ptr<Handler>& h) {
    std::lock_guard lock(mu_);
    if (shut_down_) return 0;
    const std::uint64_t ticket = ++next_;
    waiting_.emplace(ticket, std::move(h));
    return ticket;
  }
  /// Calls `post(handler)` under the lock, so that the io_context cannot shut down meanwhile;
  /// nothing when its shutdown destroyed the handler already.
  template <class Post>
  void take_and_post(std::uint64_t ticket, Post&& post) {
    std::lock_guard lock(mu_);
    auto it = waiting_.find(ticket);
    if (it == waiting_.end()) return;
    std::unique_ptr<Handler> h = std::move(it->second);
    waiting_.erase(it);
    post(std::move(h));
  }
  void shut_down() noexcept {
    std::unordered_map<std::uint64_t, std::unique_ptr<Handler>> doomed;
    {
      std::lock_guard lock(mu_);
      shut_down_ = true;
      doomed.swap(waiting_);
    }
    // Destroyed outside the lock: a coroutine frame going away may close connections.
  }

 private:
  std::mutex mu_;
  bool shut_down_ = false;
  std::uint64_t next_ = 0;
  std::unordered_map<std::uint64_t, std::unique_ptr<Handler>> waiting_;
};

namespace {

/// One PendingCompletions per execution context; it outlives the context for the workers'
/// sake, and is emptied by the context's shutdown.
class PendingCompletionsService : public asio::execution_context::service {
 public:
  using key_type = PendingCompletionsService;
  static inline asio::execution_context::id id;
  explicit PendingCompletionsService(asio::execution_context& ctx)
      : asio::execution_context::service(ctx), pending_(std::make_shared<PendingCompletions>()) {}
  void shutdown() override { pending_->shut_down(); }
  const std::shared_ptr<PendingCompletions>& pending() const noexcept { return pending_; }

 private:
  std::shared_ptr<PendingCompletions> pending_;
};

// Runs `f` on `worker` and completes on the awaiting coroutine's executor. Cancelling the
// awaiting coroutine interrupts the statement through `target->cancel()`; the job still runs to
// its end, so the connection is never used by two threads at once. `timeout` > 0 interrupts it
// the same way from a timer on the awaiting coroutine's executor (SQLite has no server to ask)
// and raises QueryCanceled naming command_timeout. `cache` keeps the io_context's
// PendingCompletions between calls (a service lookup takes the context's registry lock).
template <class R, class F>
asio::awaitable<R> on_worker(Worker& worker, driver::Connection* target, std::chrono::milliseconds timeout,
                             PendingCache& cache, F f) {
  // One cancellation record per job: a cancel reaches the driver only while this job runs,
  // stops it before it starts when it is still queued, and never outlives it.
  struct JobState {
    std::mutex mu;
    bool cancelled = false;
    bool running = false;
    bool finished = false;
    bool timed_out = false;
  };
  auto state = std::make_shared<JobState>();
  auto init = [&worker, &cache, target, timeout, state, f = std::move(f)](auto handler) mutable {
    using H = decltype(handler);
    struct Waiting final : PendingCompletions::Handler {
      explicit Waiting(H&& h) : handler(std::move(h)) {}
      H handler;
      // Lives with the handler, so it is destroyed on an io thread, never after its io_context.
      std::optional<asio::steady_timer> timer;
    };
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected() && target != nullptr)
      slot.assign([target, state](asio::cancellation_type) {
        std::lock_guard lock(state->mu);
        state->cancelled = true;
        if (state->running) target->cancel();
      });
    auto ex = asio::get_associated_executor(handler);
    auto& ctx = asio::query(ex, asio::execution::context);
    if (cache.context != &ctx) {
      cache.pending = asio::use_service<PendingCompletionsService>(ctx).pending();
      cache.context = &ctx;
    }
    std::shared_ptr<PendingCompletions> pending = cache.pending;
    auto waiting = std::make_unique<Waiting>(std::move(handler));
    if (timeout.count() > 0 && target != nullptr) {
      waiting->timer.emplace(ex, timeout);
      // A weak reference: the job's record must not be kept by a timer nobody waits for.
      waiting->timer->async_wait([weak = std::weak_ptr<JobState>(state), target](const boost::system::error_code& ec) {
        auto st = weak.lock();
        if (ec || !st) return;
        std::lock_guard lock(st->mu);
        if (st->finished) return;
        st->timed_out = true;
        st->cancelled = true;
        if (st->running) target->cancel();
      });
    }
    std::unique_ptr<PendingCompletions::Handler> held = std::move(waiting);
    const std::uint64_t ticket = pending->add(held);
    if (ticket == 0) return;  // the io_context is shutting down: `held` goes the way of its handlers
    worker.post([f = std::move(f), pending = std::move(pending), ticket, ex, state, target, timeout]() mutable {
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
      {
        std::lock_guard lock(state->mu);
        state->finished = true;
        if (error && state->timed_out)
          error = std::make_exception_ptr(QueryCanceled(fmt::format(
              "the statement ran longer than command_timeout ({} ms) and was interrupted; raise command_timeout or "
              "make the statement faster",
              timeout.count())));
      }
      // Everything moves to the io thread: the worker keeps no reference to the error or the
      // result once the completion is posted (its copy would be released here, racing the
      // caller's use of it as far as a sanitizer can tell).
      pending->take_and_post(ticket, [&](std::unique_ptr<PendingCompletions::Handler> h) {
        asio::post(ex, [h = std::move(h), error = std::move(error), result = std::move(result)]() mutable {
          auto& w = static_cast<Waiting&>(*h);
          if (w.timer) w.timer->cancel();
          auto s = asio::get_associated_cancellation_slot(w.handler);
          if (s.is_connected()) s.clear();
          std::move(w.handler)(error, std::move(result));
        });
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
      std::move(init), asio::use_awaitable);
}

}  // namespace

ThreadedAsyncConnection::ThreadedAsyncConnection(std::unique_ptr<Worker> worker,
                                                 std::unique_ptr<driver::Connection> inner)
    : worker_(std::move(worker)), inner_(std::move(inner)), link_(std::make_shared<Link>()) {
  link_->self = this;
}

std::function<void()> ThreadedAsyncConnection::canceller() {
  if (dialect() != Dialect::sqlite) return {};
  return [link = link_] {
    std::lock_guard lock(link->mu);
    ThreadedAsyncConnection* self = link->self;
    if (self == nullptr || !self->inner_ || !self->worker_) return;
    auto* c = self->inner_.get();
    (void)c->cancel();
    // The cancel flag also stops a statement that has not started; what is queued now is what
    // was meant, so a job queued behind them clears it for the connection's next user.
    self->worker_->post([c] { c->reset_cancel(); });
  };
}

ThreadedAsyncConnection::~ThreadedAsyncConnection() { close(); }

asio::awaitable<std::unique_ptr<AsyncDriverConnection>> ThreadedAsyncConnection::connect(
    const Url& url, const driver::ConnectOptions& options) {
  auto worker = std::make_unique<Worker>();
  // Callables are named locals, not temporaries inside the co_await expression: GCC 12 destroys
  // such temporaries twice (invalid free).
  auto open = [url, options] { return driver::connect(url, options); };
  PendingCache cache;
  auto inner = co_await on_worker<std::unique_ptr<driver::Connection>>(*worker, nullptr, {}, cache, std::move(open));
  co_return std::make_unique<ThreadedAsyncConnection>(std::move(worker), std::move(inner));
}

asio::awaitable<std::shared_ptr<const ResultSet>> ThreadedAsyncConnection::async_execute(
    std::string_view sql, std::span<const Value> params, std::chrono::milliseconds timeout) {
  note(sql);
  auto* c = inner_.get();
  auto job = [c, sql, params, pre = std::exchange(deferred_, {})] {
    for (const auto& d : pre) c->execute_script(d);
    return c->execute(sql, params);
  };
  co_return co_await on_worker<std::shared_ptr<const ResultSet>>(*worker_, c, timeout, pending_, std::move(job));
}

asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> ThreadedAsyncConnection::async_execute_many(
    std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds timeout) {
  // One hop to the worker for the whole batch: SQLite has no round trips to save, only
  // thread switches.
  note(sql);
  auto* c = inner_.get();
  auto job = [c, sql, rows, pre = std::exchange(deferred_, {})] {
    for (const auto& d : pre) c->execute_script(d);
    std::vector<std::shared_ptr<const ResultSet>> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(c->execute(sql, row));
    return out;
  };
  co_return co_await on_worker<std::vector<std::shared_ptr<const ResultSet>>>(*worker_, c, timeout, pending_, std::move(job));
}

asio::awaitable<void> ThreadedAsyncConnection::async_execute_script(std::string_view sql,
                                                                    std::chrono::milliseconds timeout) {
  note(sql);
  auto* c = inner_.get();
  auto job = [c, sql, pre = std::exchange(deferred_, {})] {
    for (const auto& d : pre) c->execute_script(d);
    c->execute_script(sql);
    return true;
  };
  co_await on_worker<bool>(*worker_, c, timeout, pending_, std::move(job));
}

asio::awaitable<bool> ThreadedAsyncConnection::async_ping() {
  auto* c = inner_.get();
  auto job = [c] { return c->ping(); };
  co_return co_await on_worker<bool>(*worker_, c, {}, pending_, std::move(job));
}

std::shared_ptr<const ResultSet> ThreadedAsyncConnection::execute(std::string_view sql, std::span<const Value> params) {
  note(sql);
  for (const auto& d : std::exchange(deferred_, {})) inner_->execute_script(d);
  return inner_->execute(sql, params);
}

void ThreadedAsyncConnection::execute_script(std::string_view sql) {
  note(sql);
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

void ThreadedAsyncConnection::note(std::string_view sql) noexcept {
  if (touched_ || !inner_) return;
  touched_ = inner_->dialect() == Dialect::mysql ? driver::session_state::mysql_changes_session(sql)
                                                 : driver::session_state::sqlite_changes_session(sql);
}

asio::awaitable<bool> ThreadedAsyncConnection::async_reset_session() {
  if (!inner_) co_return false;
  if (!touched_) co_return true;
  auto* c = inner_.get();
  auto job = [c] { return c->reset_session(); };
  const bool ok = co_await on_worker<bool>(*worker_, nullptr, {}, pending_, std::move(job));
  touched_ = !ok;
  co_return ok;
}

// Where the pool's check-in cannot await (a connection dropped without close()): the worker
// runs the reset in turn and this thread waits for it. The wait is short (SQLite: no I/O at all;
// MySQL: one round trip) and happens only after a statement that changed the session.
bool ThreadedAsyncConnection::reset_session() noexcept {
  if (!inner_) return false;
  if (!touched_) return true;
  bool ok = false;
  if (worker_->on_worker_thread()) {
    ok = inner_->reset_session();
  } else {
    try {
      auto done = std::make_shared<std::promise<bool>>();
      auto result = done->get_future();
      worker_->post([c = inner_.get(), done] { done->set_value(c->reset_session()); });
      ok = result.get();
    } catch (...) {
      ok = false;
    }
  }
  touched_ = !ok;
  return ok;
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
  {
    std::lock_guard lock(link_->mu);
    link_->self = nullptr;
  }
  // Close on the worker thread, after anything still queued, then stop the thread.
  // Whatever still runs or waits is abandoned (a connection is closed when it is idle, or when
  // the coroutine that used it is gone): interrupt it rather than wait for it below.
  if (inner_->dialect() == Dialect::sqlite) (void)inner_->cancel();
  // The last job owns the driver connection: when this runs on the worker thread itself (a job
  // destroyed the coroutine that owned this connection), the worker cannot join and finishes
  // the queue after this object is gone.
  worker_->post([inner = std::move(inner_)]() mutable {
    inner->close();
    inner.reset();
  });
  worker_.reset();  // joins (unless on its own thread): the queue drains first
}

}  // namespace corm::asyncio_detail
