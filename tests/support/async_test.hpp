#pragma once
// Runs a test's coroutines. By default one thread runs the io_context; CORM_TEST_IO_THREADS=N
// (the TSan run sets 4) runs it on N threads, so the library's cross-thread paths (the pool's
// strand and mutex, SQLite worker threads, socket readiness) really run in parallel. The test's
// own coroutines share one strand, as a service's per-request code would: test bookkeeping needs
// no locks, while everything below the public API is exercised from several threads.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <cstdlib>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace corm::test {

/// Threads that run a test's io_context: CORM_TEST_IO_THREADS, default 1.
inline int io_threads() {
  const char* v = std::getenv("CORM_TEST_IO_THREADS");
  const int n = v != nullptr ? std::atoi(v) : 1;
  return n >= 1 ? n : 1;
}

/// Runs `io` on io_threads() threads until it has no work left, then makes it runnable again.
inline void run_io(boost::asio::io_context& io) {
  io.restart();
  const int n = io_threads();
  std::vector<std::thread> extra;
  extra.reserve(static_cast<std::size_t>(n - 1));
  for (int i = 1; i < n; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : extra) t.join();
}

/// Runs the coroutine `f(executor)` to completion and rethrows what it threw. `executor` is a
/// strand; sub-coroutines spawned on it share it.
template <class F>
void run_async(F&& f) {
  boost::asio::io_context io;
  auto strand = boost::asio::make_strand(io);
  std::exception_ptr error;
  boost::asio::co_spawn(strand, std::forward<F>(f)(boost::asio::any_io_executor(strand)),
                        [&](std::exception_ptr e) { error = e; });
  run_io(io);
  if (error) std::rethrow_exception(error);
}

}  // namespace corm::test
