#pragma once
// SessionFactory: how to make a session — plain on one engine, or routed over a writer (the
// primary) and a reader (a replica) — with its options. transactional(), scoped sessions and
// task groups take one, so a request's one session can be routed, task-scoped and transactional
// at once:
//
//   auto sessions = corm::ext::AsyncSessionFactory::routed(writer, reader);
//   corm::ext::AsyncScopedSessions scoped(sessions);
//   co_await scoped.scoped([&](auto& scope) -> asio::awaitable<void> {
//     co_await corm::ext::transactional(sessions, scope.session(), work);  // joins the scope's session
//   });
//   co_await corm::ext::transactional(sessions, work);   // a routed session of its own, committed
//
// Wherever a factory is taken, an engine will do: it converts to a factory of plain sessions.

#include <memory>
#include <optional>
#include <source_location>
#include <utility>

#include "corm/core/error.hpp"
#include "corm/ext/routing.hpp"
#include "corm/ext/session_kind.hpp"

namespace corm::ext {

/// Makes sessions of type S (see the header comment). Cheap to copy: it holds engine handles.
template <SessionType S>
class BasicSessionFactory {
 public:
  /// Engine or AsyncEngine, to match S.
  using engine_type = engine_of_t<S>;
  /// The session type this factory makes.
  using session_type = S;

  /// Plain sessions on `engine`.
  BasicSessionFactory(engine_type engine, SessionOptions options = {})  // NOLINT: implicit on purpose
      : writer_(std::move(engine)), options_(options) {}

  /// Routed sessions: reads outside a writing transaction go to `reader`, everything else to
  /// `writer` (ReadWriteRouter), with read-your-writes as `policy` says; the sessions of this
  /// factory and its copies share what is known of the reader's replication. Both engines must
  /// speak the same dialect.
  static BasicSessionFactory routed(engine_type writer, engine_type reader, SessionOptions options = {},
                                    ReadYourWrites policy = {}) {
    if (writer.dialect() != reader.dialect())
      throw ConfigError("a routed session factory needs a writer and a reader of the same dialect (got " +
                        std::string(dialect_name(writer.dialect())) + " and " +
                        std::string(dialect_name(reader.dialect())) + ")");
    return routed(BasicEnginePair<S>(std::move(writer), std::move(reader), policy), options);
  }
  /// Routed sessions over `pair`, sharing its replica state with every other user of the pair.
  static BasicSessionFactory routed(const BasicEnginePair<S>& pair, SessionOptions options = {}) {
    BasicSessionFactory f(pair.writer(), options);
    f.reader_.emplace(pair.reader());
    f.replica_ = pair.replica();
    return f;
  }

  /// A new session with the factory's options. `where` names its connections in the pool's
  /// diagnostics unless the options carry a label; leave it defaulted.
  std::unique_ptr<S> make(std::source_location where = std::source_location::current()) const {
    return make(options_, where);
  }
  /// A new session with `options` instead (same engines, same routing).
  std::unique_ptr<S> make(const SessionOptions& options,
                          std::source_location where = std::source_location::current()) const {
    auto s = std::make_unique<S>(writer_, options, where);
    if (reader_) s->set_router(*reader_, std::make_shared<ReadWriteRouter>(writer_.dialect(), replica_));
    return s;
  }

  /// The same engines with other session options.
  BasicSessionFactory with_options(SessionOptions options) const {
    BasicSessionFactory f = *this;
    f.options_ = options;
    return f;
  }

  /// The options every session this factory makes starts with.
  const SessionOptions& options() const noexcept { return options_; }
  /// True when sessions are routed over a writer and a reader.
  bool is_routed() const noexcept { return reader_.has_value(); }
  /// The engine of writes (the only engine of plain sessions).
  const engine_type& writer() const noexcept { return writer_; }
  /// The engine of routed reads, when routed.
  const std::optional<engine_type>& reader() const noexcept { return reader_; }

 private:
  engine_type writer_;
  std::optional<engine_type> reader_;
  std::shared_ptr<ReplicaState> replica_;  // routed: shared by the sessions made here
  SessionOptions options_;
};

/// Makes Session objects (the sync front).
using SessionFactory = BasicSessionFactory<Session>;
/// Makes AsyncSession objects (the async front).
using AsyncSessionFactory = BasicSessionFactory<AsyncSession>;

/// The read/write router of a session a routed factory (or a routing session) made — where its
/// statements went — or nullptr for a plain session.
template <SessionType S>
const ReadWriteRouter* read_write_router(const S& session) noexcept {
  return dynamic_cast<const ReadWriteRouter*>(session.router());
}
/// The same, to hand the session a causal token: `read_write_router(s)->require(token)`.
template <SessionType S>
ReadWriteRouter* read_write_router(S& session) noexcept {
  return dynamic_cast<ReadWriteRouter*>(session.router());
}

}  // namespace corm::ext
