#pragma once
// One libmariadb call that may wait on the network, in both of Connector/C's forms: the blocking
// call, and the non-blocking pair mysql_*_start / mysql_*_cont (MYSQL_OPT_NONBLOCK). The driver's
// operations (MysqlConnection::op_*) are written once, as coroutines that co_await steps through
// an "Io": SyncIo runs each step blocking (the sync front), the async front's Io runs it as
// start/cont with the socket waited on by Asio. Calls that never wait (binding, reading a stored
// result, COM_STMT_CLOSE, which has no reply) are made directly.

#include <mysql.h>

#include <coroutine>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

namespace corm::driver::mysql {

/// A call: `blocking()` returns its result; `start(&r)` and `cont(&r, ready)` return 0 once `r`
/// holds it, or the MYSQL_WAIT_* mask to wait for.
template <class R, class Blocking, class Start, class Cont>
struct Step {
  using result = R;
  Blocking blocking;
  Start start;
  Cont cont;
};

template <class R, class B, class S, class C>
Step<R, B, S, C> make_step(B b, S s, C c) {
  return Step<R, B, S, C>{std::move(b), std::move(s), std::move(c)};
}

namespace steps {

inline auto real_query(MYSQL* db, std::string_view q) {
  return make_step<int>([=] { return mysql_real_query(db, q.data(), q.size()); },
                        [=](int* r) { return mysql_real_query_start(r, db, q.data(), q.size()); },
                        [=](int* r, int s) { return mysql_real_query_cont(r, db, s); });
}
inline auto store_result(MYSQL* db) {
  return make_step<MYSQL_RES*>([=] { return mysql_store_result(db); },
                               [=](MYSQL_RES** r) { return mysql_store_result_start(r, db); },
                               [=](MYSQL_RES** r, int s) { return mysql_store_result_cont(r, db, s); });
}
inline auto next_result(MYSQL* db) {
  return make_step<int>([=] { return mysql_next_result(db); }, [=](int* r) { return mysql_next_result_start(r, db); },
                        [=](int* r, int s) { return mysql_next_result_cont(r, db, s); });
}
inline auto set_server_option(MYSQL* db, enum_mysql_set_option o) {
  return make_step<int>([=] { return mysql_set_server_option(db, o); },
                        [=](int* r) { return mysql_set_server_option_start(r, db, o); },
                        [=](int* r, int s) { return mysql_set_server_option_cont(r, db, s); });
}
inline auto ping(MYSQL* db) {
  return make_step<int>([=] { return mysql_ping(db); }, [=](int* r) { return mysql_ping_start(r, db); },
                        [=](int* r, int s) { return mysql_ping_cont(r, db, s); });
}
inline auto reset_connection(MYSQL* db) {
  return make_step<int>([=] { return mysql_reset_connection(db); },
                        [=](int* r) { return mysql_reset_connection_start(r, db); },
                        [=](int* r, int s) { return mysql_reset_connection_cont(r, db, s); });
}
inline auto stmt_prepare(MYSQL_STMT* st, std::string_view q) {
  return make_step<int>([=] { return mysql_stmt_prepare(st, q.data(), q.size()); },
                        [=](int* r) { return mysql_stmt_prepare_start(r, st, q.data(), q.size()); },
                        [=](int* r, int s) { return mysql_stmt_prepare_cont(r, st, s); });
}
inline auto stmt_execute(MYSQL_STMT* st) {
  return make_step<int>([=] { return mysql_stmt_execute(st); }, [=](int* r) { return mysql_stmt_execute_start(r, st); },
                        [=](int* r, int s) { return mysql_stmt_execute_cont(r, st, s); });
}
inline auto stmt_store_result(MYSQL_STMT* st) {
  return make_step<int>([=] { return mysql_stmt_store_result(st); },
                        [=](int* r) { return mysql_stmt_store_result_start(r, st); },
                        [=](int* r, int s) { return mysql_stmt_store_result_cont(r, st, s); });
}
/// Reads one row of an unbuffered result from the network (a stored result needs no step).
inline auto stmt_fetch(MYSQL_STMT* st) {
  return make_step<int>([=] { return mysql_stmt_fetch(st); }, [=](int* r) { return mysql_stmt_fetch_start(r, st); },
                        [=](int* r, int s) { return mysql_stmt_fetch_cont(r, st, s); });
}
inline auto stmt_reset(MYSQL_STMT* st) {
  return make_step<my_bool>([=] { return mysql_stmt_reset(st); },
                            [=](my_bool* r) { return mysql_stmt_reset_start(r, st); },
                            [=](my_bool* r, int s) { return mysql_stmt_reset_cont(r, st, s); });
}
/// Discards what is left of an unbuffered result (reads it off the network).
inline auto stmt_free_result(MYSQL_STMT* st) {
  return make_step<my_bool>([=] { return mysql_stmt_free_result(st); },
                            [=](my_bool* r) { return mysql_stmt_free_result_start(r, st); },
                            [=](my_bool* r, int s) { return mysql_stmt_free_result_cont(r, st, s); });
}

}  // namespace steps

/// The coroutine type of the blocking front: it runs to its end as it is called (every step it
/// awaits has completed already), and awaiting it inside another yields its result.
template <class T>
class SyncTask {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    SyncTask get_return_object() { return SyncTask(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(T v) { value.emplace(std::move(v)); }
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  explicit SyncTask(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  SyncTask(SyncTask&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  SyncTask& operator=(SyncTask&&) = delete;
  ~SyncTask() {
    if (h_) std::exchange(h_, {}).destroy();
  }

  /// The result, or the exception the operation ended with.
  T get() {
    auto& p = h_.promise();
    if (p.error) std::rethrow_exception(p.error);
    return std::move(*p.value);
  }

  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() { return get(); }

 private:
  std::coroutine_handle<promise_type> h_;
};

/// Runs each step with the blocking call.
struct SyncIo {
  template <class T>
  using Task = SyncTask<T>;

  template <class R>
  struct Ready {
    R value;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    R await_resume() const noexcept { return value; }
  };
  template <class S>
  Ready<typename S::result> operator()(const S& s) const {
    return Ready<typename S::result>{s.blocking()};
  }
  /// A slice of a streamed read was handed over (the async front restarts its timeout here).
  void slice_done() const noexcept {}
};

}  // namespace corm::driver::mysql
