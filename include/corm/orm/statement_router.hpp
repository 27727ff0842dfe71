#pragma once
// StatementRouter: the session's extension hook for read/write routing. A session given a router
// and a second ("reader") engine asks the router, before each statement, whether it may run on
// the reader; everything else runs on the session's own engine. The policy itself (reads outside
// a writing transaction go to a replica) lives above the fronts, in corm/ext/routing.hpp; the
// session only reports what each statement does and when its transaction ends.

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "corm/core/value.hpp"

#include "corm/sql/statement/select.hpp"

namespace corm::orm {

/// What a statement a session sends does, as far as routing cares.
enum class StatementRole {
  read,            ///< A plain query or relationship load.
  read_for_write,  ///< A read a write depends on: FOR UPDATE, loads before a cascade delete.
  write,           ///< A flush, or a hand-written statement (execute() of anything but a select).
};

/// A statement a router asks the session to run for it (read-your-writes: where a commit sits in
/// the replication stream, whether the replica has replayed it). SQL in the dialect's own
/// placeholder syntax; the session hands back the first column of the first row as text.
struct RouterProbe {
  std::string sql;            ///< The statement, in the dialect's placeholder syntax.
  std::vector<Value> params;  ///< Its bound values.
};

/// Chooses the connection of each statement of a session (see the header comment). Called from
/// the thread / coroutine using the session, so it needs no locking of its own.
class StatementRouter {
 public:
  virtual ~StatementRouter() = default;
  /// True to run a statement of `role` on the session's reader engine.
  virtual bool to_reader(StatementRole role) = 0;
  /// The session's transaction ended (commit, rollback, close).
  virtual void transaction_ended() noexcept = 0;

  // Probes (optional; the defaults ask for none). The session runs them, the router decides.

  /// Asked right after the session's transaction committed, before transaction_ended(): a
  /// statement to run on the writer's connection, outside any transaction. Its answer goes to
  /// committed().
  virtual std::optional<RouterProbe> commit_probe() { return std::nullopt; }
  /// The commit probe's answer (nullopt: SQL NULL).
  virtual void committed(const std::optional<std::string>& /*answer*/) {}
  /// Asked after to_reader() sent a read to the reader: a statement to run on the reader's
  /// connection first, in a transaction of its own that holds no snapshot yet. Its answer goes
  /// to reader_ready().
  virtual std::optional<RouterProbe> reader_probe() { return std::nullopt; }
  /// The reader probe's answer; false sends the read to the writer instead.
  virtual bool reader_ready(const std::optional<std::string>& /*answer*/) { return true; }
};

namespace detail {
template <class S>
struct is_select : std::false_type {};
template <class R>
struct is_select<Select<R>> : std::true_type {};
}  // namespace detail

/// The role of a statement given to Session::execute: a select reads (FOR UPDATE: for a write);
/// anything else may write (text() included — it could be an UPDATE).
template <class S>
StatementRole statement_role(const S& stmt) {
  if constexpr (detail::is_select<S>::value)
    return stmt.core().for_update.enabled ? StatementRole::read_for_write : StatementRole::read;
  else
    return StatementRole::write;
}

}  // namespace corm::orm
