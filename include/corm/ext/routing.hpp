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
//   co_await rs->commit();                                        // next reads: reader, once it has the commit
//   std::string token = rs.causal_token();                        // hand it to the client
//   { auto pin = rs.use(corm::ext::Route::writer); ... }          // explicit override
//
// The reader may lag behind the writer (asynchronous replication). Read-your-writes
// (read_your_writes.hpp, on by default) makes a read after a commit wait, bounded, for the
// replica to replay that commit, else go to the writer; a causal token carries the position to
// another session, process or request: `AsyncRoutingSession next(pair, token)`.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "corm/ext/engine_pair.hpp"
#include "corm/ext/read_your_writes.hpp"
#include "corm/ext/replication_position.hpp"
#include "corm/ext/session_kind.hpp"
#include "corm/orm/statement_router.hpp"

namespace corm::ext {

/// Which engine a statement ran on.
enum class Route { writer, reader };

/// The routing policy of a routing session, I/O-free (see the header comment): the session runs
/// the probes it asks for. One per session.
class ReadWriteRouter final : public orm::StatementRouter {
 public:
  /// Without read-your-writes: reads after a commit go to the reader unchecked.
  ReadWriteRouter() = default;
  /// With read-your-writes over the replica `replica` describes (shared by the sessions of one
  /// writer/reader pair; its policy decides). `dialect`: the engines'.
  ReadWriteRouter(Dialect dialect, std::shared_ptr<ReplicaState> replica)
      : dialect_(dialect), replica_(std::move(replica)) {}

  bool to_reader(orm::StatementRole role) override;
  void transaction_ended() noexcept override {
    wrote_ = false;
    probe_due_ = false;
  }
  std::optional<orm::RouterProbe> commit_probe() override;
  void committed(const std::optional<std::string>& answer) override;
  std::optional<orm::RouterProbe> reader_probe() override;
  bool reader_ready(const std::optional<std::string>& answer) override;

  /// The newest position this session must read at least (its own commits, and the tokens it
  /// was given) as a causal token; empty when there is none (nothing written, no token given,
  /// SQLite, or read-your-writes off). Hand it to the client; the next request passes it to
  /// require().
  std::string causal_token() const { return required_ ? required_->token() : std::string(); }
  /// From now on reads see at least the position `token` names (from causal_token(), possibly in
  /// another process): the reader answers once it has replayed it, else the writer. An empty
  /// token requires nothing. Throws CausalTokenError for a malformed token or one of another
  /// dialect, UsageError when read-your-writes is off or the engines are SQLite.
  void require(std::string_view token);
  /// require() with a position already parsed.
  void require(const ReplicationPosition& position);
  /// The position reads must see (see causal_token()).
  const std::optional<ReplicationPosition>& required_position() const noexcept { return required_; }
  /// True when read-your-writes applies (a routing session over PostgreSQL or MariaDB with the
  /// policy enabled).
  bool reads_your_writes() const noexcept;
  /// True after a commit whose position could not be read (MariaDB without a binary log, or the
  /// probe failed): reads then stay on the writer for the rest of the session.
  bool position_unknown() const noexcept { return unknown_; }
  /// Probes this session sent to the reader (waits for a position).
  std::uint64_t replica_waits() const noexcept { return waits_; }
  /// Of those probes, how many gave up (the reads then went to the writer).
  std::uint64_t replica_waits_timed_out() const noexcept { return waits_timed_out_; }

  /// Pins statements to `route` (nullopt: back to the policy). A pin to the reader applies to
  /// plain reads only: writes and locking reads can only run on the writer.
  void pin(std::optional<Route> route) noexcept { pinned_ = route; }
  /// The current pin, or nullopt when the policy decides.
  std::optional<Route> pinned() const noexcept { return pinned_; }
  /// True once the current transaction has written or taken row locks (until it ends).
  bool has_written() const noexcept { return wrote_; }
  /// Where the last statement went.
  Route last_route() const noexcept { return last_; }
  /// Statements sent to the reader so far (probes not included).
  std::uint64_t reader_statements() const noexcept { return to_reader_; }
  /// Statements sent to the writer so far (probes not included).
  std::uint64_t writer_statements() const noexcept { return to_writer_; }

 private:
  bool reader_fresh_enough();

  Dialect dialect_ = Dialect::sqlite;
  std::shared_ptr<ReplicaState> replica_;  // null: no read-your-writes
  std::optional<ReplicationPosition> required_;
  std::optional<ReplicationPosition> waited_for_;  // a wait for this position timed out
  bool unknown_ = false;
  bool probe_due_ = false;
  std::uint64_t waits_ = 0;
  std::uint64_t waits_timed_out_ = 0;
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

  /// Both engines must have the same dialect; `reader` normally points at a replica. The
  /// session knows its replica alone: sessions meant to share what is known of it (and one
  /// wait per position) are made from one BasicEnginePair instead.
  BasicRoutingSession(engine_type writer, engine_type reader, SessionOptions options = {},
                      ReadYourWrites policy = {})
      : BasicRoutingSession(BasicEnginePair<S>(std::move(writer), std::move(reader), policy), options) {}
  /// A session over `pair`, sharing what the pair knows of its replica.
  explicit BasicRoutingSession(const BasicEnginePair<S>& pair, SessionOptions options = {})
      : router_(make_router(pair)), session_(pair.writer(), options) {
    session_.set_router(pair.reader(), router_);
  }
  /// A session over `pair` whose reads see at least what `causal_token` names (require()).
  BasicRoutingSession(const BasicEnginePair<S>& pair, std::string_view causal_token, SessionOptions options = {})
      : BasicRoutingSession(pair, options) {
    router_->require(causal_token);
  }

  /// The routed session, where a session reference is needed.
  S& session() noexcept { return session_; }
  /// The routed session's members: `rs->scalars(...)`.
  S* operator->() noexcept { return &session_; }
  /// The routed session.
  S& operator*() noexcept { return session_; }
  /// The policy, to inspect where statements went.
  const ReadWriteRouter& router() const noexcept { return *router_; }
  /// Explicit override: statements go to `route` until the returned pin is destroyed. A pin to
  /// the reader skips read-your-writes: such reads may be stale.
  [[nodiscard]] RoutePin use(Route route) { return RoutePin(*router_, route); }
  /// The position this session's reads must see, as a causal token (ReadWriteRouter::causal_token).
  std::string causal_token() const { return router_->causal_token(); }
  /// Reads see at least what `token` names from now on (ReadWriteRouter::require).
  void require(std::string_view token) { router_->require(token); }

 private:
  static std::shared_ptr<ReadWriteRouter> make_router(const BasicEnginePair<S>& pair) {
    return std::make_shared<ReadWriteRouter>(pair.writer().dialect(), pair.replica());
  }

  std::shared_ptr<ReadWriteRouter> router_;
  S session_;
};

/// Read/write routing over the sync front.
using RoutingSession = BasicRoutingSession<Session>;
/// Read/write routing over the async front.
using AsyncRoutingSession = BasicRoutingSession<AsyncSession>;

}  // namespace corm::ext
