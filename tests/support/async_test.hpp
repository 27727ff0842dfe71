#pragma once
// Runs a coroutine to completion on a fresh io_context (one thread) and rethrows what it threw.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <utility>

namespace corm::test {

template <class F>
void run_async(F&& f) {
  boost::asio::io_context io;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::forward<F>(f)(io.get_executor()), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
}

}  // namespace corm::test
