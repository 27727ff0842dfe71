#pragma once
// BasicEnginePair: a writer engine (the primary), a reader engine (its replica) and what is known
// of the replica (ReplicaState: how far it has replayed, under which read-your-writes policy).
// Make one per writer/reader pair, next to the engines, and every routing session from it:
// they then share that knowledge, so a read whose position the replica is already known to have
// replayed costs no round trip, and one wait for a position serves every session.
//
//   corm::ext::AsyncEnginePair pair(writer, reader, {.max_wait = std::chrono::milliseconds(100)});
//   corm::ext::AsyncRoutingSession rs(pair, token_from_the_request);

#include <memory>
#include <string>
#include <utility>

#include "corm/core/error.hpp"
#include "corm/ext/read_your_writes.hpp"
#include "corm/ext/session_kind.hpp"

namespace corm::ext {

/// A writer and a reader engine and the state of the reader's replication (see the header
/// comment). Copies share that state.
template <SessionType S>
class BasicEnginePair {
 public:
  /// Engine or AsyncEngine, to match S.
  using engine_type = engine_of_t<S>;

  /// Throws ConfigError when the engines' dialects differ.
  BasicEnginePair(engine_type writer, engine_type reader, ReadYourWrites policy = {})
      : writer_(std::move(writer)), reader_(std::move(reader)), replica_(std::make_shared<ReplicaState>(policy)) {
    if (writer_.dialect() != reader_.dialect())
      throw ConfigError("an engine pair needs a writer and a reader of the same dialect (got " +
                        std::string(dialect_name(writer_.dialect())) + " and " +
                        std::string(dialect_name(reader_.dialect())) + ")");
  }

  /// The engine of the primary: writes, locking reads, commits.
  const engine_type& writer() const noexcept { return writer_; }
  /// The engine of the replica: plain reads once they cannot be stale.
  const engine_type& reader() const noexcept { return reader_; }
  /// What the pair knows of its replica (shared with every session made from the pair).
  const std::shared_ptr<ReplicaState>& replica() const noexcept { return replica_; }
  /// How long a read may wait for the replica (see ReadYourWrites).
  const ReadYourWrites& policy() const noexcept { return replica_->policy(); }

 private:
  engine_type writer_;
  engine_type reader_;
  std::shared_ptr<ReplicaState> replica_;
};

/// A writer/reader pair for the sync front.
using EnginePair = BasicEnginePair<Session>;
/// A writer/reader pair for the async front.
using AsyncEnginePair = BasicEnginePair<AsyncSession>;

}  // namespace corm::ext
