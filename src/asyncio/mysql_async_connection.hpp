#pragma once
// MySQL / MariaDB on the io_context: MysqlConnection's operations run with Connector/C's
// non-blocking API (MYSQL_OPT_NONBLOCK, mysql_*_start / mysql_*_cont), the connection's socket
// waited on by Asio. No thread per query or per connection; one thread serves any number of
// connections. Cancellation and timeouts ask the server to stop the statement (KILL QUERY from a
// second, short-lived connection opened on the blocking helper pool), then finish reading the
// interrupted statement so the next user never sees a half-read result.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncio/async_driver.hpp"
#include "driver/mysql/mysql_connection.hpp"

namespace corm::asyncio_detail {

class MysqlAsyncConnection final : public AsyncDriverConnection {
 public:
  MysqlAsyncConnection(asio::any_io_executor ex, std::unique_ptr<driver::mysql::MysqlConnection> my);
  ~MysqlAsyncConnection() override;

  /// Non-blocking connect (mysql_real_connect_start/cont) bounded by options.connect_timeout,
  /// then the session setup, all on `ex`.
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
  asio::awaitable<bool> async_reset_session() override;
  bool reset_pending() const noexcept override { return my_->session_touched() && !my_->is_broken(); }

  Dialect dialect() const noexcept override { return Dialect::mysql; }
  // The blocking forms run the same operations with the blocking calls (the handle allows both
  // while no non-blocking call is in progress). The async front does not use them on its io
  // thread; they are here for what drives a driver::Connection directly.
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  void execute_script(std::string_view sql) override;
  bool ping() noexcept override { return my_->ping(); }
  bool is_broken() const noexcept override { return my_->is_broken(); }
  bool in_transaction() const noexcept override { return !deferred_.empty() || my_->in_transaction(); }
  int backend_pid() const noexcept override { return my_->backend_pid(); }
  void close() noexcept override;
  /// Sends KILL QUERY from the blocking helper pool; returns without waiting for it.
  bool cancel() noexcept override;
  bool reset_session() noexcept override { return my_->reset_session(); }
  // A BEGIN waits for the next statement and goes out just ahead of it: a transaction that
  // never runs a statement costs no round trip.
  bool defer(std::string_view sql) override;
  bool discard_deferred() noexcept override;

  driver::mysql::MysqlConnection& my() noexcept { return *my_; }

  /// Runs one step of MysqlConnection's operations as start/cont (see mysql_step.hpp).
  struct Io;
  /// The operation in progress: its timeout and whether it was interrupted.
  struct Control;

 private:
  template <class S>
  asio::awaitable<typename S::result> run_step(const S& s);
  asio::awaitable<void> interrupted();
  template <class T, class Body>
  asio::awaitable<T> guarded(std::chrono::milliseconds timeout, Body body);
  void arm_timeout();
  void give_up() noexcept;

  asio::any_io_executor ex_;
  std::unique_ptr<driver::mysql::MysqlConnection> my_;
  // Watches a duplicate of Connector/C's socket (see the .cpp); never the library's own fd.
  asio::posix::stream_descriptor socket_;
  asio::steady_timer timer_;  // the running operation's timeout, then its drain limit
  std::shared_ptr<Control> op_;  // the running operation (one at a time)
  std::vector<std::string> deferred_;
};

}  // namespace corm::asyncio_detail
