#include "asyncio/mysql_async_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "asyncio/blocking_executor.hpp"
#include "asyncio/socket_watch.hpp"
#include "corm/core/error.hpp"
#include "driver/mysql/mysql_operations.hpp"

namespace corm::asyncio_detail {

namespace {

using namespace asio::experimental::awaitable_operators;
using driver::mysql::MysqlConnection;
using wait_type = asio::posix::descriptor_base::wait_type;
constexpr auto use_awaitable = asio::use_awaitable;

// How long an interrupted statement may take to wind down once the server was asked to stop
// it; longer, and the connection is given up.
constexpr std::chrono::seconds drain_limit{5};
// Of that, how long the KILL QUERY request may take: a connect, a login and one statement on a
// second connection. Longer means the network (or the server) is gone.
constexpr std::chrono::seconds kill_request_limit{2};

enum : int { kill_pending, kill_sent, kill_failed };

// KILL QUERY from a second connection, on the blocking helper pool: Connector/C opens that
// connection with blocking calls. The request owns copies of what it needs and reports through
// an atomic, so it may outlive the connection, the coroutine that sent it and the io_context.
std::shared_ptr<std::atomic<int>> send_kill(const driver::mysql::Target& target, unsigned long thread_id) {
  auto outcome = std::make_shared<std::atomic<int>>(kill_pending);
  auto request = [outcome, target, thread_id] {
    const bool sent = driver::mysql::kill_query(target, thread_id);
    outcome->store(sent ? kill_sent : kill_failed, std::memory_order_release);
  };
  asio::post(blocking_executor(), std::move(request));
  return outcome;
}

std::exception_ptr timed_out_error(std::chrono::milliseconds timeout) {
  return std::make_exception_ptr(QueryCanceled(fmt::format(
      "the statement ran longer than command_timeout ({} ms) and was cancelled on the server; raise "
      "command_timeout or make the statement faster",
      timeout.count())));
}

}  // namespace

struct MysqlAsyncConnection::Control {
  std::chrono::milliseconds timeout{0};
  bool timed_out = false;      // the timeout fired
  bool cancelled = false;      // the caller's cancellation arrived
  bool kill_requested = false;  // KILL QUERY went out (or could not)
  bool drain_expired = false;  // the interrupted statement did not wind down in time
  bool done = false;           // ended: a timer that fired meanwhile must not touch the next one
};

struct MysqlAsyncConnection::Io {
  template <class T>
  using Task = asio::awaitable<T>;

  MysqlAsyncConnection* self;

  template <class S>
  asio::awaitable<typename S::result> operator()(const S& s) const {
    return self->run_step(s);
  }
  void slice_done() const { self->arm_timeout(); }
};

MysqlAsyncConnection::MysqlAsyncConnection(asio::any_io_executor ex, std::unique_ptr<MysqlConnection> my)
    : ex_(ex), my_(std::move(my)), socket_(ex, duplicate_socket(mysql_get_socket(my_->handle()))), timer_(ex) {}

MysqlAsyncConnection::~MysqlAsyncConnection() { close(); }

void MysqlAsyncConnection::close() noexcept {
  unwatch(socket_);  // before mysql_close closes the library's own descriptor
  my_->close();
}

asio::awaitable<std::unique_ptr<AsyncDriverConnection>> MysqlAsyncConnection::connect(
    asio::any_io_executor ex, const Url& url, const driver::ConnectOptions& options) {
  driver::mysql::validate(url, options);
  driver::mysql::Target target = driver::mysql::target_for(url, options);
  // Owns the handle until the connection does (a connect that fails or is cancelled closes it).
  struct Handle {
    MYSQL* db;
    ~Handle() {
      if (db != nullptr) mysql_close(db);
    }
  } handle{driver::mysql::init_handle(target, true)};
  MYSQL* db = handle.db;
  const driver::mysql::ConnectArgs a = driver::mysql::connect_args(target);
  const bool bounded = options.connect_timeout.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  MYSQL* connected = nullptr;
  int status = mysql_real_connect_start(&connected, db, a.host, a.user, a.password, a.database, a.port,
                                        a.unix_socket, a.flags);
  while (status != 0) {
    const bool write = (status & MYSQL_WAIT_WRITE) != 0;
    const wait_type type = write ? wait_type::wait_write : wait_type::wait_read;
    // Connector/C's own timeouts (MYSQL_OPT_CONNECT_TIMEOUT) come as MYSQL_WAIT_TIMEOUT; the
    // whole connect is bounded by connect_timeout as on PostgreSQL.
    auto limit = std::chrono::steady_clock::time_point::max();
    if ((status & MYSQL_WAIT_TIMEOUT) != 0)
      limit = std::chrono::steady_clock::now() + std::chrono::milliseconds(mysql_get_timeout_value_ms(db));
    if (bounded) limit = std::min(limit, deadline);
    int ready = write ? MYSQL_WAIT_WRITE : MYSQL_WAIT_READ;
    // The library may switch sockets while trying addresses, so each wait borrows the current one.
    BorrowedSocket sock(ex, mysql_get_socket(db));
    if (limit != std::chrono::steady_clock::time_point::max()) {
      asio::steady_timer timer(ex, limit);
      auto r = co_await (sock.d.async_wait(type, use_awaitable) || timer.async_wait(use_awaitable));
      if (r.index() == 1) {
        if (bounded && std::chrono::steady_clock::now() >= deadline)
          throw ConnectError(fmt::format("could not connect to {}: timed out after {} ms (connect_timeout)",
                                         target.describe(), options.connect_timeout.count()));
        ready = MYSQL_WAIT_TIMEOUT;
      }
    } else {
      co_await sock.d.async_wait(type, use_awaitable);
    }
    status = mysql_real_connect_cont(&connected, db, ready);
  }
  if (connected == nullptr) {
    handle.db = nullptr;
    driver::mysql::fail_connect(db, target);
  }
  handle.db = nullptr;
  auto my = std::make_unique<MysqlConnection>(db, std::move(target), options);
  auto conn = std::make_unique<MysqlAsyncConnection>(ex, std::move(my));
  auto setup = [c = conn.get()](Io io) { return c->my_->op_setup(io); };
  co_await conn->guarded<bool>(std::chrono::milliseconds(0), std::move(setup));
  co_return std::unique_ptr<AsyncDriverConnection>(std::move(conn));
}

// One step as start/cont: wait for what the library asks for, tell it what is ready. The only
// way out before the step completes is a closed connection: an interruption (the caller's
// cancellation, the timeout) asks the server to stop the statement and goes on waiting, so the
// library is never left in the middle of a call.
template <class S>
asio::awaitable<typename S::result> MysqlAsyncConnection::run_step(const S& s) {
  typename S::result r{};
  int status = s.start(&r);
  while (status != 0) {
    const bool write = (status & MYSQL_WAIT_WRITE) != 0;
    boost::system::error_code ec;
    co_await socket_.async_wait(write ? wait_type::wait_write : wait_type::wait_read,
                                asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (!socket_.is_open() || my_->handle() == nullptr)
        throw ConnectionLost("this MySQL connection was closed while a statement ran on it");
      if (ec == asio::error::operation_aborted) {
        if (op_) co_await interrupted();
        continue;
      }
      give_up();  // the reactor cannot watch the socket: let the library find the connection gone
    }
    status = s.cont(&r, write ? MYSQL_WAIT_WRITE : MYSQL_WAIT_READ);
  }
  co_return r;
}

// The socket wait was cancelled: by the caller, by the timeout, or by the drain limit.
asio::awaitable<void> MysqlAsyncConnection::interrupted() {
  std::shared_ptr<Control> op = op_;
  if (!op->timed_out && !op->drain_expired) op->cancelled = true;
  if (op->kill_requested) {
    if (op->drain_expired) give_up();
    co_return;  // the statement is being stopped already: keep reading it
  }
  op->kill_requested = true;
  timer_.cancel();
  // Waiting for the request's answer means the server has flagged the statement before this
  // connection goes on: a KILL QUERY landing later would stop its next statement.
  const auto outcome = send_kill(my_->target(), my_->thread_id());
  const auto request_deadline = std::chrono::steady_clock::now() + kill_request_limit;
  {
    // The request signals nothing Asio could wait on (see send_kill), so poll its outcome: a
    // round trip on a healthy network, a few dozen short sleeps on a dead one. These waits
    // ignore the caller's cancellation, which has been acted on.
    asio::steady_timer tick(ex_);
    std::chrono::milliseconds step{1};
    while (outcome->load(std::memory_order_acquire) == kill_pending) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= request_deadline) break;
      tick.expires_at(std::min(request_deadline, now + step));
      step = std::min(step * 2, std::chrono::milliseconds(20));
      boost::system::error_code ec;
      auto token = asio::bind_cancellation_slot(asio::cancellation_slot(), asio::redirect_error(use_awaitable, ec));
      co_await tick.async_wait(std::move(token));
    }
  }
  if (outcome->load(std::memory_order_acquire) != kill_sent) {
    give_up();  // the statement cannot be stopped: the connection cannot be cleaned
    co_return;
  }
  timer_.expires_after(drain_limit);
  timer_.async_wait([this, weak = std::weak_ptr<Control>(op)](const boost::system::error_code& ec) {
    auto c = weak.lock();
    if (ec || !c || c->done) return;
    c->drain_expired = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
}

// The connection cannot be cleaned: shut its socket down, so the step in progress ends with a
// lost connection (the driver marks it broken, and the pool discards it).
void MysqlAsyncConnection::give_up() noexcept {
  my_->mark_broken();
  if (MYSQL* db = my_->handle()) ::shutdown(static_cast<int>(mysql_get_socket(db)), SHUT_RDWR);
}

void MysqlAsyncConnection::arm_timeout() {
  if (!op_ || op_->timeout.count() <= 0 || op_->kill_requested) return;
  timer_.expires_after(op_->timeout);
  timer_.async_wait([this, weak = std::weak_ptr<Control>(op_)](const boost::system::error_code& ec) {
    auto c = weak.lock();
    if (ec || !c || c->done || c->kill_requested) return;
    c->timed_out = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
}

// Runs one operation: the deferred BEGIN first, then `body(io)`. An interruption ends it with
// operation_aborted (the caller's cancellation) or QueryCanceled (the timeout) once the
// statement has been stopped and read to its end; the caller's cancellation does not cut the
// operation short meanwhile.
template <class T, class Body>
asio::awaitable<T> MysqlAsyncConnection::guarded(std::chrono::milliseconds timeout, Body body) {
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none)
    throw boost::system::system_error(asio::error::operation_aborted, "the statement was cancelled before it started");
  const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  op_ = std::make_shared<Control>();
  op_->timeout = timeout;
  // Ends the operation however the frame ends (the io_context may destroy it mid-wait).
  struct End {
    explicit End(MysqlAsyncConnection* s) : self(s) {}
    End(const End&) = delete;
    End& operator=(const End&) = delete;
    MysqlAsyncConnection* self;
    ~End() {
      if (self->op_) self->op_->done = true;
      self->op_.reset();
      self->timer_.cancel();
    }
  };
  std::optional<End> end;
  end.emplace(this);
  std::shared_ptr<Control> op = op_;
  arm_timeout();
  Io io{this};
  std::span<const Value> no_params;
  std::exception_ptr error;
  T out{};
  try {
    while (!deferred_.empty()) {
      const std::string begin = std::move(deferred_.front());
      deferred_.erase(deferred_.begin());
      co_await my_->op_execute(io, begin, no_params);
    }
    out = co_await body(io);
  } catch (...) {
    error = std::current_exception();
  }
  end.reset();
  co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  if (op->timed_out) std::rethrow_exception(timed_out_error(timeout));
  if (op->cancelled) throw boost::system::system_error(asio::error::operation_aborted);
  if (error) std::rethrow_exception(error);
  co_return out;
}

asio::awaitable<std::shared_ptr<const ResultSet>> MysqlAsyncConnection::async_execute(
    std::string_view sql, std::span<const Value> params, std::chrono::milliseconds timeout) {
  return guarded<std::shared_ptr<const ResultSet>>(
      timeout, [this, sql, params](Io io) { return my_->op_execute(io, sql, params); });
}

namespace {

// The statement once per parameter row, one round trip each (Connector/C 3.3 sends no array
// binds to MariaDB through this API path).
asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> execute_each(MysqlConnection& my,
                                                                            MysqlAsyncConnection::Io io,
                                                                            std::string_view sql,
                                                                            std::span<const std::vector<Value>> rows) {
  std::vector<std::shared_ptr<const ResultSet>> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    std::span<const Value> params(row);
    out.push_back(co_await my.op_execute(io, sql, params));
  }
  co_return out;
}

}  // namespace

asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> MysqlAsyncConnection::async_execute_many(
    std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds timeout) {
  return guarded<std::vector<std::shared_ptr<const ResultSet>>>(
      timeout, [this, sql, rows](Io io) { return execute_each(*my_, io, sql, rows); });
}

asio::awaitable<void> MysqlAsyncConnection::async_execute_sliced(
    std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice, std::chrono::milliseconds timeout,
    const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) {
  auto body = [this, sql, params, rows_per_slice, &on_slice](Io io) {
    return my_->op_sliced(io, sql, params, rows_per_slice, on_slice);
  };
  co_await guarded<bool>(timeout, std::move(body));
}

asio::awaitable<void> MysqlAsyncConnection::async_execute_script(std::string_view sql,
                                                                 std::chrono::milliseconds timeout) {
  auto body = [this, sql](Io io) { return my_->op_script(io, sql); };
  co_await guarded<bool>(timeout, std::move(body));
}

asio::awaitable<bool> MysqlAsyncConnection::async_ping() {
  if (my_->is_broken()) co_return false;
  bool alive = false;
  try {
    // Bounded like PostgreSQL's: a ping that does not come back means the network is gone.
    auto body = [this](Io io) { return my_->op_ping(io); };
    alive = co_await guarded<bool>(std::chrono::seconds(5), std::move(body));
  } catch (const Error&) {
    alive = false;
  }
  if (!alive) my_->mark_broken();
  co_return alive;
}

asio::awaitable<bool> MysqlAsyncConnection::async_reset_session() {
  if (my_->is_broken()) co_return false;
  if (!my_->session_touched()) co_return true;
  bool ok = false;
  try {
    auto body = [this](Io io) { return my_->op_reset(io); };
    ok = co_await guarded<bool>(std::chrono::milliseconds(0), std::move(body));
  } catch (...) {
    ok = false;
  }
  co_return ok;
}

std::shared_ptr<const ResultSet> MysqlAsyncConnection::execute(std::string_view sql, std::span<const Value> params) {
  for (const auto& d : std::exchange(deferred_, {})) (void)my_->execute(d, {});
  return my_->execute(sql, params);
}

void MysqlAsyncConnection::execute_script(std::string_view sql) {
  for (const auto& d : std::exchange(deferred_, {})) (void)my_->execute(d, {});
  my_->execute_script(sql);
}

bool MysqlAsyncConnection::cancel() noexcept {
  try {
    (void)send_kill(my_->target(), my_->thread_id());  // never blocks the calling (io) thread
    return true;
  } catch (...) {
    return false;
  }
}

bool MysqlAsyncConnection::defer(std::string_view sql) {
  if (my_->is_broken()) return false;
  deferred_.emplace_back(sql);
  return true;
}

bool MysqlAsyncConnection::discard_deferred() noexcept {
  const bool had = !deferred_.empty();
  deferred_.clear();
  return had;
}

}  // namespace corm::asyncio_detail
