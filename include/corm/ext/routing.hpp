#pragma once
// Read/write split: a writer engine (the primary) and a reader engine (a
// replica) behind one session. Reads outside a writing transaction go to the reader; flushes,
// locking reads (with_for_update) and every later read of a transaction that has written or
// locked go to the writer, so a transaction always reads its own writes. An explicit override
// pins statements to one side.
//
//   corm::ext::AsyncRoutingSession rs(writer, reader);
//   auto books = co_await rs->scalars(corm::select<Book>());      // reader
//   books[0]->title = "New";  co_await rs->flush();                // writer (and later reads too)
//   co_await rs->commit();                                        // next reads: reader again
//   { auto pin = rs.use(corm::ext::Route::writer); ... }          // reads that must be fresh
//
// The reader may lag behind the writer (asynchronous replication): after a commit, a read sent to
// the reader may not see it yet. Pin the writer where that matters.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "corm/ext/session_kind.hpp"
#include "corm/orm/statement_router.hpp"

namespace corm::ext {

/// Which engine a statement ran on.
enum class Route { writer, reader };

/// The routing policy of a routing session, I/O-free (see the header comment). One per session.
class ReadWriteRouter final : public orm::StatementRouter {
 public:
  bool to_reader(orm::StatementRole role) override;
  void transaction_ended() noexcept override { wrote_ = false; }

  /// Pins statements to `route` (nullopt: back to the policy). A pin to the reader applies to
  /// plain reads only: writes and locking reads can only run on the writer.
  void pin(std::optional<Route> route) noexcept { pinned_ = route; }
  /// The current pin, or nullopt when the policy decides.
  std::optional<Route> pinned() const noexcept { return pinned_; }
  /// True once the current transaction has written or taken row locks (until it ends).
  bool has_written() const noexcept { return wrote_; }
  /// Where the last statement went.
  Route last_route() const noexcept { return last_; }
  /// Statements sent to the reader so far.
  std::uint64_t reader_statements() const noexcept { return to_reader_; }
  /// Statements sent to the writer so far.
  std::uint64_t writer_statements() const noexcept { return to_writer_; }

 private:
  bool wrote_ = false;
  std::optional<Route> pinned_;
  Route last_ = Route::writer;
  std::uint64_t to_reader_ = 0;
  std::uint64_t to_writer_ = 0;
};

/// Restores the previous pin when destroyed (what BasicRoutingSession::use returns).
class RoutePin {
 public:
  /// Pins `r` to `route`; the destructor restores the pin `r` had before.
  RoutePin(ReadWriteRouter& r, Route route) : router_(&r), previous_(r.pinned()) { r.pin(route); }
  RoutePin(const RoutePin&) = delete;
  RoutePin& operator=(const RoutePin&) = delete;
  ~RoutePin() { router_->pin(previous_); }

 private:
  ReadWriteRouter* router_;
  std::optional<Route> previous_;
};

/// A Session or AsyncSession over a writer and a reader engine (see the header comment). Use it
/// like the session itself: `rs->scalars(...)`, `rs->commit()`, or `rs.session()` where a
/// session reference is needed (repositories, transactional()).
template <SessionType S>
class BasicRoutingSession {
 public:
  /// Engine or AsyncEngine, to match S.
  using engine_type = engine_of_t<S>;

  /// Both engines must have the same dialect; `reader` normally points at a replica.
  BasicRoutingSession(engine_type writer, engine_type reader, SessionOptions options = {})
      : router_(std::make_shared<ReadWriteRouter>()), session_(std::move(writer), options) {
    session_.set_router(std::move(reader), router_);
  }

  /// The routed session, where a session reference is needed.
  S& session() noexcept { return session_; }
  /// The routed session's members: `rs->scalars(...)`.
  S* operator->() noexcept { return &session_; }
  /// The routed session.
  S& operator*() noexcept { return session_; }
  /// The policy, to inspect where statements went.
  const ReadWriteRouter& router() const noexcept { return *router_; }
  /// Explicit override: statements go to `route` until the returned pin is destroyed.
  [[nodiscard]] RoutePin use(Route route) { return RoutePin(*router_, route); }

 private:
  std::shared_ptr<ReadWriteRouter> router_;
  S session_;
};

/// Read/write routing over the sync front.
using RoutingSession = BasicRoutingSession<Session>;
/// Read/write routing over the async front.
using AsyncRoutingSession = BasicRoutingSession<AsyncSession>;

}  // namespace corm::ext
