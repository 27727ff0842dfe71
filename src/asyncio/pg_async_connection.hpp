#pragma once
// PostgreSQL on the io_context: PgConnection's state machines driven by waiting on libpq's
// socket with Asio. No thread per query or per connection; one thread serves any number of
// connections. Cancellation and timeouts ask the server to cancel, then drain the connection
// so the next user never sees a half-read result.

#include <atomic>
#include <memory>
#include <optional>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "asyncio/async_driver.hpp"
#include "driver/postgres/pg_connection.hpp"

namespace corm::asyncio_detail {

class PgAsyncConnection final : public AsyncDriverConnection {
 public:
  PgAsyncConnection(asio::any_io_executor ex, std::unique_ptr<driver::postgres::PgConnection> pg);
  ~PgAsyncConnection() override;

  /// Non-blocking connect bounded by options.connect_timeout.
  static asio::awaitable<std::unique_ptr<AsyncDriverConnection>> connect(asio::any_io_executor ex, const Url& url,
                                                                         const driver::ConnectOptions& options);

  asio::awaitable<std::shared_ptr<const ResultSet>> async_execute(std::string_view sql, std::span<const Value> params,
                                                                  std::chrono::milliseconds timeout) override;
  asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> async_execute_many(
      std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds timeout) override;
  asio::awaitable<void> async_execute_sliced(
      std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice,
      std::chrono::milliseconds timeout, const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) override;
  asio::awaitable<void> async_execute_script(std::string_view sql, std::chrono::milliseconds timeout) override;
  asio::awaitable<bool> async_ping() override;

  Dialect dialect() const noexcept override { return Dialect::postgresql; }
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  asio::awaitable<std::shared_ptr<const ResultSet>> async_execute_read(std::string_view sql,
                                                                       std::span<const Value> params,
                                                                       std::chrono::milliseconds timeout) override;
  bool reads_precede_begin() const noexcept override { return pg_->default_read_committed(); }
  std::shared_ptr<const ResultSet> execute_read(std::string_view sql, std::span<const Value> params) override {
    return pg_->execute_read(sql, params);
  }
  void execute_script(std::string_view sql) override;
  bool ping() noexcept override { return pg_->ping(); }
  bool is_broken() const noexcept override { return pg_->is_broken(); }
  bool in_transaction() const noexcept override { return pg_->in_transaction(); }
  int backend_pid() const noexcept override { return pg_->backend_pid(); }
  void close() noexcept override;
  /// Sends a cancel request from the blocking helper pool; returns without waiting for it.
  bool cancel() noexcept override;
  /// A cancel request through the connection's own PGcancel, which outlives the connection.
  std::function<void()> canceller() override;
  bool defer(std::string_view sql) override { return pg_->defer(sql); }
  bool discard_deferred() noexcept override { return pg_->discard_deferred(); }
  bool send_without_reply(std::string_view sql) override { return pg_->send_without_reply(sql); }
  bool reset_session() noexcept override { return pg_->reset_session(); }

  driver::postgres::PgConnection& pg() noexcept { return *pg_; }

 private:
  /// Where a running operation stands between two socket waits.
  struct WaitState {
    bool streams;  ///< a large reply is streaming in: read once more before waiting
    bool woke;     ///< the last wait was for input
    bool started;  ///< the first wait was decided
  };
  WaitState begin_wait() const;
  /// The next socket wait the running operation needs, or nothing once it is done. A plain
  /// function, so that drive() waits inline instead of through a coroutine of its own.
  std::optional<asio::posix::descriptor_base::wait_type> next_wait(WaitState& s);
  template <class Take>
  auto drive(std::chrono::milliseconds timeout, Take take) -> asio::awaitable<decltype(take())>;
  asio::awaitable<void> wait_until_done();
  asio::awaitable<void> cancel_and_drain();
  enum : int { cancel_pending, cancel_sent, cancel_failed };
  /// Starts a cancel request on the blocking helper pool; its outcome is one of the above.
  std::shared_ptr<std::atomic<int>> send_cancel_request();

  asio::any_io_executor ex_;
  std::unique_ptr<driver::postgres::PgConnection> pg_;
  asio::posix::stream_descriptor socket_;
};

}  // namespace corm::asyncio_detail
