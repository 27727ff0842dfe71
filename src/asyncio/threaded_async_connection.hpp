#pragma once
// SQLite behind the async API, aiosqlite's model: one worker thread per connection runs the
// synchronous driver, fed by a queue; results complete on the awaiting coroutine's executor.
// Cancellation interrupts the running statement (sqlite3_interrupt).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "asyncio/async_driver.hpp"

namespace corm::asyncio_detail {

/// One thread running jobs in order. It may be destroyed by one of its own jobs (a job that
/// ends the last owner of its connection): it then lets its thread finish the queue alone.
class Worker {
 public:
  /// A queued job; move-only, because it carries an Asio completion handler.
  struct Job {
    virtual ~Job() = default;
    virtual void run() = 0;
  };

  Worker();
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// True on the worker's own thread.
  bool on_worker_thread() const noexcept { return thread_.get_id() == std::this_thread::get_id(); }

  /// Queues `f`; it runs on the worker thread.
  template <class F>
  void post(F f) {
    struct Impl final : Job {
      F f;
      explicit Impl(F&& fn) : f(std::move(fn)) {}
      void run() override { f(); }
    };
    enqueue(std::make_unique<Impl>(std::move(f)));
  }

 private:
  // Shared with the thread, which may outlive this object (see above).
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::unique_ptr<Job>> jobs;
    bool stop = false;
  };
  void enqueue(std::unique_ptr<Job> job);
  static void run(Queue& q);
  std::shared_ptr<Queue> queue_;
  std::thread thread_;
};

class PendingCompletions;
/// Where a connection keeps its io_context's PendingCompletions (see the .cpp) between jobs.
struct PendingCache {
  const void* context = nullptr;
  std::shared_ptr<PendingCompletions> pending;
};

class ThreadedAsyncConnection final : public AsyncDriverConnection {
 public:
  ThreadedAsyncConnection(std::unique_ptr<Worker> worker, std::unique_ptr<driver::Connection> inner);
  ~ThreadedAsyncConnection() override;

  /// Opens the connection on a new worker thread.
  static asio::awaitable<std::unique_ptr<AsyncDriverConnection>> connect(const Url& url,
                                                                         const driver::ConnectOptions& options);

  asio::awaitable<std::shared_ptr<const ResultSet>> async_execute(std::string_view sql, std::span<const Value> params,
                                                                  std::chrono::milliseconds timeout) override;
  asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> async_execute_many(
      std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds timeout) override;
  asio::awaitable<void> async_execute_script(std::string_view sql, std::chrono::milliseconds timeout) override;
  asio::awaitable<bool> async_ping() override;

  Dialect dialect() const noexcept override { return inner_ ? inner_->dialect() : Dialect::sqlite; }
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  void execute_script(std::string_view sql) override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override { return !inner_ || inner_->is_broken(); }
  bool in_transaction() const noexcept override;
  int backend_pid() const noexcept override { return inner_ ? inner_->backend_pid() : 0; }
  void close() noexcept override;
  bool cancel() noexcept override { return inner_ && inner_->cancel(); }
  // SQLite has no round trips, only thread hops: a deferred BEGIN runs in the same worker job as
  // the next statement, and a ROLLBACK sent without reply is queued ahead of the next job.
  bool defer(std::string_view sql) override;
  bool discard_deferred() noexcept override;
  // The reset runs on the worker, after whatever is queued (a ROLLBACK sent without reply): the
  // driver connection is not thread-safe, and on MySQL the reset is a round trip.
  bool reset_session() noexcept override;
  asio::awaitable<bool> async_reset_session() override;
  bool reset_pending() const noexcept override { return touched_; }
  bool send_without_reply(std::string_view sql) override;
  void reset_cancel() noexcept override {
    if (inner_) inner_->reset_cancel();
  }
  /// Interrupts the running or queued statements; a no-op once the connection is closed.
  /// SQLite only (its interrupt neither blocks nor opens a connection); empty otherwise.
  std::function<void()> canceller() override;

 private:
  // What a canceller reaches the connection through: nulled (under the mutex) when it closes.
  struct Link {
    std::mutex mu;
    ThreadedAsyncConnection* self = nullptr;
  };
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<driver::Connection> inner_;
  // Whether a statement sent since the last reset may have changed the session (the driver's own
  // scan, repeated here: the driver's flag belongs to the worker thread). A clean connection is
  // reset without a hop to the worker.
  void note(std::string_view sql) noexcept;
  bool touched_ = false;
  std::vector<std::string> deferred_;         // run on the worker before the next job
  std::shared_ptr<std::atomic<int>> unreplied_ = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<Link> link_;
  PendingCache pending_;
};

}  // namespace corm::asyncio_detail
