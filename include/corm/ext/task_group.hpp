#pragma once
// TransactionalTaskGroup: several coroutines run concurrently, each with its own session and
// transaction. If every task succeeds, every transaction commits; if one fails, the
// others are cancelled and every session rolls back, and the first error propagates.
//
//   corm::ext::TransactionalTaskGroup group(engine);
//   auto charge = [&](corm::AsyncSession& s) -> asio::awaitable<void> { ... };
//   auto ship   = [&](corm::AsyncSession& s) -> asio::awaitable<void> { ... };
//   group.spawn(charge);
//   group.spawn(ship);
//   co_await group.run();
//
// Plain commit: the sessions commit one after another once all tasks are done. A failure of a
// later COMMIT cannot undo an earlier one — for an atomic commit on PostgreSQL set
// `two_phase`: every transaction is first prepared (PREPARE TRANSACTION), and only when all are
// prepared are they committed (COMMIT PREPARED). Prepared transactions survive the process:
// if it dies between two COMMIT PREPAREDs, recover_prepared_transactions() run at the next
// start-up finishes the group (commits the rest, or rolls back a group not fully prepared).
// The server needs max_prepared_transactions >= the number of tasks.
//
// SQLite allows one writing transaction at a time: there the tasks' changes are flushed at commit
// time, session after session, and a task must not flush (or query after adding objects, which
// autoflushes) or the others' writes wait for its lock until they time out.
//
// Cancellation: a task is cancelled with Asio's terminal cancellation (its next co_await of an
// I/O operation fails with operation_aborted; a statement in flight is cancelled on the server).
// Cancelling run() itself cancels every task and rolls everything back. run() must be awaited
// from the executor (strand) the tasks use. A group runs once.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "corm/asyncio/async_engine.hpp"
#include "corm/engine/engine.hpp"
#include "corm/ext/session_factory.hpp"
#include "corm/orm/async_session.hpp"

namespace corm::ext {

/// Options of a TransactionalTaskGroup.
struct TaskGroupOptions {
  /// Commit with PREPARE TRANSACTION / COMMIT PREPARED (PostgreSQL only; ConfigError elsewhere).
  bool two_phase = false;
  /// First part of every transaction id of two-phase groups: letters, digits and '_' only, at
  /// most 64 characters. Give each application its own, and recover with the same prefix.
  std::string gid_prefix = "corm";
  /// Options of the tasks' sessions when the group is made from an engine (a group made from a
  /// SessionFactory uses the factory's).
  SessionOptions session{};
  /// Test hook: called after the COMMIT PREPARED of the participant numbered `index` (0-based),
  /// e.g. to simulate the process dying between two of them.
  std::function<void(std::size_t index)> after_commit_prepared{};
};

/// A group of concurrent transactional tasks (see the header comment).
class TransactionalTaskGroup {
 public:
  /// One task: it gets its own session, in a transaction begun for it.
  using Task = std::function<boost::asio::awaitable<void>(AsyncSession&)>;

  /// Tasks on plain sessions of `engine`.
  explicit TransactionalTaskGroup(AsyncEngine engine, TaskGroupOptions options = {});
  /// Tasks whose sessions `sessions` makes (e.g. routed: each task's reads outside its writes go
  /// to the replica; its writes and the commit to the primary).
  explicit TransactionalTaskGroup(AsyncSessionFactory sessions, TaskGroupOptions options = {});
  /// Adds a task; it starts when run() is awaited.
  void spawn(Task task);
  /// Runs every task concurrently, then commits all, or rolls back all and rethrows the first
  /// failure. UsageError when run twice.
  boost::asio::awaitable<void> run();

  /// Number of tasks spawned.
  std::size_t size() const noexcept { return tasks_.size(); }

 private:
  boost::asio::awaitable<void> commit_two_phase(std::vector<std::unique_ptr<AsyncSession>>& sessions);

  AsyncSessionFactory sessions_;
  TaskGroupOptions options_;
  std::vector<Task> tasks_;
  bool ran_ = false;
};

/// What recover_prepared_transactions() did: the transaction ids it committed and rolled back.
struct RecoveryReport {
  std::vector<std::string> committed;    ///< Global transaction ids committed (every branch had prepared).
  std::vector<std::string> rolled_back;  ///< Global transaction ids rolled back.
};

/// Resolves the prepared transactions two-phase groups with this `gid_prefix` left behind in the
/// engine's database (a process died during a group's commit). A group all of whose
/// transactions are still prepared, or some of whose transactions were already committed, is
/// committed; a group that was not completely prepared is rolled back. Run it at start-up, when
/// no group with this prefix is in flight (it cannot tell an in-flight group from an abandoned
/// one). PostgreSQL only.
RecoveryReport recover_prepared_transactions(Engine engine, std::string_view gid_prefix = "corm");

namespace detail {
/// "<prefix>_<group>_<index>_<count>" — validated: only [A-Za-z0-9_].
std::string make_gid(std::string_view prefix, std::string_view group, std::size_t index, std::size_t count);
/// ConfigError unless `prefix` is 1..64 characters of [A-Za-z0-9_].
void check_gid_prefix(std::string_view prefix);
}  // namespace detail

}  // namespace corm::ext
