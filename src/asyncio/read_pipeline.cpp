#include "asyncio/read_pipeline.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "corm/core/error.hpp"

namespace corm::asyncio_detail {

// Completes when finish() has run for `r`, on the waiting coroutine's own executor, or with
// operation_aborted when the waiting coroutine is cancelled first. The handler is stored under
// the lock, so a dispatcher on another thread can never miss it, and exactly one of the two
// completes it.
template <class Token>
auto ReadPipeline::wait_done(std::shared_ptr<Request> r, Token&& token) {
  return asio::async_initiate<Token, void(boost::system::error_code)>(
      [this, r](auto handler) {
        auto ex = asio::get_associated_executor(handler);
        auto slot = asio::get_associated_cancellation_slot(handler);
        std::unique_lock lock(mu_);
        if (r->done) {
          lock.unlock();
          asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(boost::system::error_code()); });
          return;
        }
        auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
        r->complete = [h, ex, slot](boost::system::error_code ec) mutable {
          asio::post(ex, [h, ec, slot]() mutable {
            if (slot.is_connected()) slot.clear();
            std::move (*h)(ec);
          });
        };
        if (slot.is_connected())
          slot.assign([this, r](asio::cancellation_type) {
            std::function<void(boost::system::error_code)> complete;
            {
              std::lock_guard l(mu_);
              complete = std::move(r->complete);
              r->complete = nullptr;
            }
            if (complete) complete(asio::error::operation_aborted);
          });
      },
      token);
}

void ReadPipeline::finish(Request& r) {
  std::function<void(boost::system::error_code)> complete;
  {
    std::lock_guard lock(mu_);
    r.done = true;
    complete = std::move(r.complete);
    r.complete = nullptr;
  }
  if (complete) complete(boost::system::error_code());
}

asio::awaitable<Result> ReadPipeline::run(AsyncEngine engine, Compiled statement) {
  bool alone = false;
  {
    std::lock_guard lock(mu_);
    if (dispatchers_ == 0) {
      ++dispatchers_;
      alone = true;
    }
  }
  if (alone) {
    // Nobody else is reading: run it here, as a session with a connection of its own would.
    // Reads queued meanwhile go to a dispatcher when it is done (or cancelled, or failed).
    struct Handover {
      ReadPipeline& pipeline;
      const AsyncEngine& engine;
      ~Handover() { pipeline.alone_done(engine); }
    } handover{*this, engine};
    // Not `now ? std::move(*now) : co_await ...`: GCC 12 mishandles co_await in a conditional.
    std::optional<AsyncConnection> conn = engine.connect_now("pipelined read", std::source_location::current());
    if (!conn) conn.emplace(co_await engine.connect(std::string("pipelined read")));
    Result rows = co_await conn->execute(std::move(statement));
    if (!conn->close_now()) co_await conn->close();
    co_return rows;
  }
  auto r = std::make_shared<Request>();
  r->statement = std::move(statement);
  bool spawn = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(r);
    // One more connection only when the running dispatchers have a backlog: a pipeline of many
    // reads on one connection is far cheaper than one read on each of many.
    if (dispatchers_ == 0 || (dispatchers_ < limit_ && queue_.size() > backlog_per_dispatcher * dispatchers_)) {
      ++dispatchers_;
      spawn = true;
    }
  }
  // The dispatcher is a coroutine of its own, so cancelling this reader never cancels a batch
  // that carries other readers' statements.
  if (spawn) asio::co_spawn(engine.get_executor(), dispatch(engine), asio::detached);
  boost::system::error_code ec;
  co_await wait_done(r, asio::redirect_error(asio::use_awaitable, ec));
  // Cancelled while queued or in flight: the statement still runs with its batch (it only
  // reads); nothing else notices.
  if (ec) throw boost::system::system_error(ec);
  if (r->error) std::rethrow_exception(r->error);
  if (!r->rows) throw ConnectionLost("corm: a pipelined read ended without its result; run it again");
  co_return std::move(*r->rows);
}

void ReadPipeline::alone_done(const AsyncEngine& engine) noexcept {
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) {
      --dispatchers_;
      return;
    }
  }
  // The reads that queued behind this one: this slot becomes their dispatcher.
  asio::co_spawn(engine.get_executor(), dispatch(engine), asio::detached);
}

asio::awaitable<void> ReadPipeline::dispatch(AsyncEngine engine) {
  auto self = shared_from_this();
  for (;;) {
    Batch batch;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        --dispatchers_;
        co_return;
      }
      const std::size_t n = std::min(queue_.size(), max_batch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::exception_ptr failed;
    std::optional<AsyncConnection> conn;
    try {
      conn.emplace(co_await engine.connect(std::string("pipelined reads")));
    } catch (...) {
      failed = std::current_exception();
    }
    if (conn) {
      co_await run_batch(*conn, batch);
      // Back to the pool after every batch: writers waiting for a connection are served in
      // turn, not after the readers stop coming.
      try {
        co_await conn->close();
      } catch (...) {  // a broken connection is discarded by the pool; the readers have their rows
      }
    }
    for (auto& r : batch) {
      if (failed && !r->rows && !r->error) r->error = failed;
      finish(*r);
    }
  }
}

// Groups the batch by statement shape (SQL text and parameter types): one execute_many each.
asio::awaitable<void> ReadPipeline::run_batch(AsyncConnection& conn, Batch& batch) {
  std::map<std::tuple<std::string_view, std::vector<std::size_t>>, std::vector<Request*>> groups;
  for (auto& r : batch) {
    std::vector<std::size_t> types;
    types.reserve(r->statement.params.size());
    for (const Value& v : r->statement.params) types.push_back(v.storage().index());
    groups[{std::string_view(*r->statement.sql), std::move(types)}].push_back(r.get());
  }
  for (auto& [shape, group] : groups) co_await run_group(conn, group);
}

asio::awaitable<void> ReadPipeline::run_group(AsyncConnection& conn, std::vector<Request*>& group) {
  std::exception_ptr failed;
  bool retry = false;
  if (group.size() > 1) {
    std::vector<std::vector<Value>> rows;
    rows.reserve(group.size());
    for (Request* r : group) rows.push_back(r->statement.params);
    try {
      std::vector<Result> results = co_await conn.execute_many(*group.front()->statement.sql, std::move(rows));
      for (std::size_t i = 0; i < group.size(); ++i) group[i]->rows = std::move(results[i]);
    } catch (const ConnectionLost&) {
      failed = std::current_exception();
    } catch (const QueryCanceled&) {
      failed = std::current_exception();
    } catch (const Error&) {
      retry = true;  // one statement failed: rerun each alone, so each reader gets its own outcome
    } catch (...) {
      failed = std::current_exception();
    }
    // execute_many began a transaction (its BEGIN travelled with the batch): end it without
    // waiting for the reply.
    try {
      co_await conn.rollback();
    } catch (...) {
      if (!failed && !retry) failed = std::current_exception();
    }
    if (!retry) {
      if (failed)
        for (Request* r : group) r->error = failed;
      co_return;
    }
  }
  for (Request* r : group) {
    try {
      r->rows = co_await conn.execute(r->statement);
    } catch (...) {
      r->error = std::current_exception();
    }
  }
}

}  // namespace corm::asyncio_detail
