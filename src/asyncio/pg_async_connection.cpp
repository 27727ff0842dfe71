#include "asyncio/pg_async_connection.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <system_error>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "asyncio/blocking_executor.hpp"
#include "asyncio/socket_watch.hpp"
#include "corm/core/error.hpp"

namespace corm::asyncio_detail {

namespace {

using driver::postgres::Wait;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_awaitable = asio::use_awaitable;

// How long a cancelled statement may take to wind down before the connection is given up.
constexpr std::chrono::seconds drain_limit{5};
// Of that, how long the cancel request itself may take: a TCP handshake and 16 bytes on a
// separate socket, answered by the server closing it. Longer means the network is gone.
constexpr std::chrono::seconds cancel_request_limit{2};

asio::posix::descriptor_base::wait_type to_asio(Wait w) {
  return w == Wait::read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
}

}  // namespace

PgAsyncConnection::PgAsyncConnection(asio::any_io_executor ex, std::unique_ptr<driver::postgres::PgConnection> pg)
    : ex_(ex), pg_(std::move(pg)), socket_(ex, duplicate_socket(pg_->socket())) {}

PgAsyncConnection::~PgAsyncConnection() { close(); }

void PgAsyncConnection::close() noexcept {
  unwatch(socket_);  // before PQfinish closes libpq's own descriptor
  pg_->close();
}

asio::awaitable<std::unique_ptr<AsyncDriverConnection>> PgAsyncConnection::connect(
    asio::any_io_executor ex, const Url& url, const driver::ConnectOptions& options) {
  auto pg = driver::postgres::PgConnection::start_connect(url, options);
  const bool bounded = options.connect_timeout.count() > 0;
  asio::steady_timer deadline(ex);
  if (bounded) deadline.expires_after(options.connect_timeout);
  Wait w = Wait::write;  // libpq: behave as if PQconnectPoll last said "writing"
  while (w != Wait::none) {
    // libpq may switch sockets while trying hosts and addresses, so each wait borrows the
    // current one afresh.
    BorrowedSocket sock(ex, pg->socket());
    if (bounded) {
      auto r = co_await (sock.d.async_wait(to_asio(w), use_awaitable) || deadline.async_wait(use_awaitable));
      if (r.index() == 1)
        throw ConnectError(fmt::format("could not connect to {}: timed out after {} ms (connect_timeout)", url.str(),
                                       options.connect_timeout.count()));
    } else {
      co_await sock.d.async_wait(to_asio(w), use_awaitable);
    }
    w = pg->connect_poll();
  }
  co_return std::make_unique<PgAsyncConnection>(ex, std::move(pg));
}

PgAsyncConnection::WaitState PgAsyncConnection::begin_wait() const {
  return WaitState{pg_->streams_reply(), pg_->awaits_input(), false};
}

// Right after a statement has gone out its reply is not there yet: wait for the socket first
// instead of reading it only to find nothing (a recvfrom returning EAGAIN per statement).
// On loopback a statement cost six system calls where libpq's blocking PQexec costs three.
// After a wake that found part of a large result, the rest is streaming in faster than libpq
// parses its 16 KiB reads: one more read before waiting again finds bytes (W3/W4 under strace:
// recvfrom count unchanged, epoll_wait and epoll_ctl halved). Not for batches, whose later
// replies wait on the server: there the extra read came back empty.
std::optional<asio::posix::descriptor_base::wait_type> PgAsyncConnection::next_wait(WaitState& s) {
  if (!std::exchange(s.started, true) && s.woke) return asio::posix::descriptor_base::wait_read;
  for (;;) {
    const Wait w = pg_->poll();
    if (w == Wait::none) return std::nullopt;
    if (w == Wait::read && s.streams && std::exchange(s.woke, false)) continue;
    // Asio's epoll reactor is edge-triggered, but every async_wait re-arms the descriptor with
    // EPOLL_CTL_MOD (epoll_reactor::start_op, non-speculative ops), and re-arming reports a
    // descriptor that is ready already: bytes that arrived between libpq's last read and this
    // wait still end it. (Before, a poll(2) checked the level here: one more call per wait.)
    s.woke = w == Wait::read;
    return to_asio(w);
  }
}

asio::awaitable<void> PgAsyncConnection::wait_until_done() {
  WaitState s = begin_wait();
  while (auto w = next_wait(s)) co_await socket_.async_wait(*w, use_awaitable);
}

// Runs the started operation to completion and returns what `take` makes of it. On
// cancellation (or `timeout`), the statement is cancelled on the server and the connection
// drained before the error reaches the caller. Without a timeout the wait loop runs here, not in
// wait_until_done(): each statement went through three coroutine frames (async_execute, drive,
// wait_until_done), each a heap allocation and a resumption; now it is this one.
template <class Take>
auto PgAsyncConnection::drive(std::chrono::milliseconds timeout, Take take) -> asio::awaitable<decltype(take())> {
  std::exception_ptr aborted;
  bool timed_out = false;
  try {
    if (timeout.count() > 0) {
      asio::steady_timer timer(ex_, timeout);
      auto r = co_await (wait_until_done() || timer.async_wait(use_awaitable));
      timed_out = r.index() == 1;
    } else {
      WaitState s = begin_wait();
      while (auto w = next_wait(s)) co_await socket_.async_wait(*w, use_awaitable);
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) throw;
    aborted = std::current_exception();
  }
  if (!aborted && !timed_out) co_return take();

  // The caller's cancellation already fired, and Asio would make every later co_await in this
  // coroutine throw at once; the clean-up must still run to its end.
  const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await cancel_and_drain();
  co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  if (aborted) std::rethrow_exception(aborted);
  throw QueryCanceled(fmt::format("the statement ran longer than command_timeout ({} ms) and was cancelled on the "
                                  "server; raise command_timeout or make the statement faster",
                                  timeout.count()));
}

// A cancel request runs on the blocking helper pool: libpq 15's PQcancel opens its own socket
// and then waits, without any limit, for the server to close it (forever on a black-holed
// network). So the request owns its PGcancel, reports through an atomic and touches no Asio
// object: it may outlive the connection, the coroutine that sent it and even the io_context.
std::shared_ptr<std::atomic<int>> PgAsyncConnection::send_cancel_request() {
  auto outcome = std::make_shared<std::atomic<int>>(cancel_pending);
  auto request = [outcome, handle = pg_->cancel_handle()] {
    const bool sent = driver::postgres::PgConnection::send_cancel(handle.get());
    outcome->store(sent ? cancel_sent : cancel_failed, std::memory_order_release);
  };
  asio::post(blocking_executor(), std::move(request));
  return outcome;
}

bool PgAsyncConnection::cancel() noexcept {
  try {
    (void)send_cancel_request();  // never blocks the calling (io_context) thread
    return true;
  } catch (...) {
    return false;
  }
}

std::function<void()> PgAsyncConnection::canceller() {
  return [handle = pg_->cancel_handle()] {
    asio::post(blocking_executor(), [handle] { (void)driver::postgres::PgConnection::send_cancel(handle.get()); });
  };
}

asio::awaitable<void> PgAsyncConnection::cancel_and_drain() {
  pg_->abandon_remaining_steps();
  // Waiting for the request means the server has signalled the backend before this connection
  // is used again; a request that does not complete in time means the network is gone, and so
  // is the connection. The request and the drain together take at most drain_limit.
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + drain_limit;
  const auto request_deadline = started + cancel_request_limit;
  const auto outcome = send_cancel_request();
  {
    // The request signals nothing Asio could wait on (see send_cancel_request), so poll its
    // outcome: a round trip on a healthy network, a few dozen short sleeps on a dead one.
    asio::steady_timer tick(ex_);
    std::chrono::milliseconds step{1};
    while (outcome->load(std::memory_order_acquire) == cancel_pending) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= request_deadline) break;
      tick.expires_at(std::min(request_deadline, now + step));
      step = std::min(step * 2, std::chrono::milliseconds(20));
      boost::system::error_code ec;
      auto token = asio::bind_cancellation_slot(asio::cancellation_slot(), asio::redirect_error(use_awaitable, ec));
      co_await tick.async_wait(std::move(token));
    }
  }
  if (outcome->load(std::memory_order_acquire) == cancel_pending) {
    pg_->mark_broken();
    close();  // the statement may still be running: broken, and the pool discards it
    co_return;
  }
  bool drained = false;
  try {
    asio::steady_timer limit(ex_, deadline);
    auto r = co_await (wait_until_done() || limit.async_wait(use_awaitable));
    drained = r.index() == 0;
  } catch (...) {
  }
  if (drained) {
    try {
      (void)pg_->take_result();  // the cancelled statement's outcome, no longer wanted
    } catch (...) {
    }
  } else {
    pg_->mark_broken();
    close();  // could not be cleaned: broken, and the pool discards it
  }
}

// The statement starts at the call (it only queues and copies its arguments); the returned
// awaitable is drive()'s own, so the statement costs no coroutine frame here.
asio::awaitable<std::shared_ptr<const ResultSet>> PgAsyncConnection::async_execute(std::string_view sql,
                                                                                   std::span<const Value> params,
                                                                                   std::chrono::milliseconds timeout) {
  pg_->start_execute(sql, params);
  return drive(timeout, [this] { return pg_->take_result(); });
}

asio::awaitable<std::shared_ptr<const ResultSet>> PgAsyncConnection::async_execute_read(
    std::string_view sql, std::span<const Value> params, std::chrono::milliseconds timeout) {
  pg_->start_execute(sql, params, true);
  return drive(timeout, [this] { return pg_->take_result(); });
}

asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> PgAsyncConnection::async_execute_many(
    std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds timeout) {
  pg_->start_batch(sql, rows);
  return drive(timeout, [this] { return pg_->take_batch(); });
}

// Each slice is handed over between two socket waits, while the FETCH after it is already with
// the server: the rows are turned into objects during the time a whole-result read spends
// waiting for the server to produce them.
asio::awaitable<void> PgAsyncConnection::async_execute_sliced(
    std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice, std::chrono::milliseconds timeout,
    const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) {
  pg_->start_cursor(sql, params, rows_per_slice);
  std::exception_ptr failed;
  for (;;) {
    auto slices = co_await drive(timeout, [this] { return pg_->take_slices(); });
    if (pg_->cursor_done()) {
      auto last = pg_->take_batch();  // throws the read's error
      for (auto& s : last) slices.push_back(std::move(s));
    }
    try {
      for (auto& s : slices) on_slice(std::move(s));
    } catch (...) {
      failed = std::current_exception();
    }
    if (failed || !pg_->busy()) break;
  }
  if (failed && pg_->busy()) {
    // The caller gave up on the rows: send no further FETCH, let the ones in flight finish and
    // close the cursor, so the connection is clean for its next user.
    pg_->abandon_remaining_steps();
    co_await wait_until_done();
    try {
      (void)pg_->take_batch();
    } catch (...) {
    }
  }
  if (failed) std::rethrow_exception(failed);
}

asio::awaitable<void> PgAsyncConnection::async_execute_script(std::string_view sql, std::chrono::milliseconds timeout) {
  pg_->start_script(sql);
  return drive(timeout, [this] { (void)pg_->take_result(); });
}

asio::awaitable<bool> PgAsyncConnection::async_ping() {
  if (pg_->busy() || pg_->is_broken()) co_return false;
  try {
    pg_->start_script("", false);
    asio::steady_timer limit(ex_, std::chrono::seconds(5));
    auto r = co_await (wait_until_done() || limit.async_wait(use_awaitable));
    if (r.index() == 1) {
      pg_->mark_broken();
      co_return false;
    }
    (void)pg_->take_result();
    co_return pg_->still_writable();
  } catch (const Error&) {
    co_return false;
  }
}

std::shared_ptr<const ResultSet> PgAsyncConnection::execute(std::string_view sql, std::span<const Value> params) {
  return pg_->execute(sql, params);
}

void PgAsyncConnection::execute_script(std::string_view sql) { pg_->execute_script(sql); }

}  // namespace corm::asyncio_detail
