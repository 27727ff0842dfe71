#pragma once
// Reads of many coroutines sharing round trips. At READ COMMITTED a plain read
// (Compiled::plain_read) that is not inside a transaction sees the same rows on any connection,
// so sessions that have not written yet need no connection of their own to read: their reads
// are queued here, and up to pool_size dispatchers each check a connection out, send every
// queued read of one SQL shape as one libpq pipeline (execute_many), hand each reader its rows,
// and give the connection back. 64 coroutines sharing 8 connections then cost one round trip
// per batch, not per read — what threads holding one connection each cannot do.
//
// A batch that fails is retried one statement at a time on the same connection, so every reader
// gets its own rows or its own error. A reader that is cancelled stops waiting at once (it
// completes with operation_aborted); its statement still runs with its batch (it only reads),
// and no other reader is affected. A lone read (no dispatcher running) runs on the reader's own
// coroutine, exactly as before pipelining: no extra hop when there is nothing to share.

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "corm/asyncio/async_engine.hpp"
#include "corm/core/result.hpp"
#include "corm/sql/compiled.hpp"

namespace corm::asyncio_detail {

namespace asio = boost::asio;

class ReadPipeline : public std::enable_shared_from_this<ReadPipeline> {
 public:
  /// At most `dispatchers` connections are used at once (the engine passes its pool_size).
  explicit ReadPipeline(std::size_t dispatchers) : limit_(dispatchers < 1 ? 1 : dispatchers) {}

  /// Queues `statement` (a plain read) and returns its rows once a dispatcher has run it.
  asio::awaitable<Result> run(AsyncEngine engine, Compiled statement);

 private:
  struct Request {
    Compiled statement;
    std::optional<Result> rows;
    std::exception_ptr error;
    bool done = false;
    std::function<void(boost::system::error_code)> complete;  // resumes the waiting reader
  };
  using Batch = std::vector<std::shared_ptr<Request>>;

  asio::awaitable<void> dispatch(AsyncEngine engine);
  static asio::awaitable<void> run_batch(AsyncConnection& conn, Batch& batch);
  static asio::awaitable<void> run_group(AsyncConnection& conn, std::vector<Request*>& group);
  template <class Token>
  auto wait_done(std::shared_ptr<Request> r, Token&& token);
  void finish(Request& r);
  void alone_done(const AsyncEngine& engine) noexcept;

  /// Reads sent in one pipeline at most (PgConnection sends 1,000 per sync).
  static constexpr std::size_t max_batch = 256;
  /// Queued reads per running dispatcher before another connection is used.
  static constexpr std::size_t backlog_per_dispatcher = 8;

  std::mutex mu_;
  std::deque<std::shared_ptr<Request>> queue_;
  std::size_t dispatchers_ = 0;
  const std::size_t limit_;
};

}  // namespace corm::asyncio_detail
