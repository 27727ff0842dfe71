#pragma once
// Read-your-writes for read/write routing: after a session commits on the writer, its later
// reads go to the reader (a replica) only once the replica has replayed that commit; a read
// waits for it up to ReadYourWrites::max_wait, else it is answered by the writer. Never a stale
// read after your own write (nor after a write whose causal token you were handed).
//
// ReplicaState is what one writer/reader pair knows of its replica — the furthest position it
// has seen the replica replay — shared by every routing session over the pair, so a read whose
// position the replica is already known to have replayed needs no round trip, and one wait
// serves every later read of that position.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "corm/ext/replication_position.hpp"

namespace corm::ext {

/// The read-your-writes policy of a writer/reader pair.
struct ReadYourWrites {
  /// Longest a read waits for the replica to replay the position it needs (one wait per
  /// position, in one statement on the replica: MASTER_GTID_WAIT, or a bounded poll of
  /// pg_last_wal_replay_lsn()); after it, the read goes to the writer. 0: check once, no wait.
  std::chrono::milliseconds max_wait{50};
  /// False: reads after a commit go to the reader unchecked and may be stale (corm's routing
  /// before read-your-writes), and no position is read at commit.
  bool enabled = true;

  /// Read-your-writes switched off (see `enabled`).
  static ReadYourWrites off() noexcept {
    ReadYourWrites r;
    r.enabled = false;
    return r;
  }
};

/// What a writer/reader pair knows of its replica (see the header comment). Thread-safe: the
/// sessions sharing it may run on several threads.
class ReplicaState {
 public:
  /// Counters since creation.
  struct Stats {
    std::uint64_t commits = 0;           ///< Commit positions read on the writer.
    std::uint64_t waits = 0;             ///< Probes sent to the replica (waits for a position).
    std::uint64_t waits_timed_out = 0;   ///< Of those, how many gave up: reads went to the writer.
  };

  /// Nothing known yet of the replica; reads wait as `policy` says.
  explicit ReplicaState(ReadYourWrites policy = {}) : policy_(policy) {}
  ReplicaState(const ReplicaState&) = delete;
  ReplicaState& operator=(const ReplicaState&) = delete;

  /// The pair's read-your-writes policy.
  const ReadYourWrites& policy() const noexcept { return policy_; }
  /// True when the replica is known to have replayed `p` (no I/O).
  bool has_replayed(const ReplicationPosition& p) const {
    std::lock_guard lock(mutex_);
    return replayed_ && p.reached_by(*replayed_);
  }
  /// The furthest position the replica was seen to have replayed, if any.
  std::optional<ReplicationPosition> replayed() const {
    std::lock_guard lock(mutex_);
    return replayed_;
  }
  /// The newest commit position a session over this pair read on the writer, if any.
  std::optional<ReplicationPosition> last_commit() const {
    std::lock_guard lock(mutex_);
    return last_commit_;
  }
  /// Counters since the pair was made.
  Stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  // Reported by the pair's routers.
  /// A router's probe found the replica at `p` (nullopt: unknown); `reached` is false when it gave up waiting.
  void saw_replay(const std::optional<ReplicationPosition>& p, bool reached) {
    std::lock_guard lock(mutex_);
    if (p && replayed_) replayed_->merge(*p);
    else if (p) replayed_ = p;
    ++stats_.waits;
    if (!reached) ++stats_.waits_timed_out;
  }
  /// A session over the pair committed at `p` on the writer.
  void saw_commit(const ReplicationPosition& p) {
    std::lock_guard lock(mutex_);
    if (last_commit_) last_commit_->merge(p);
    else last_commit_ = p;
    ++stats_.commits;
  }

 private:
  const ReadYourWrites policy_;
  mutable std::mutex mutex_;
  std::optional<ReplicationPosition> replayed_;
  std::optional<ReplicationPosition> last_commit_;
  Stats stats_;
};

}  // namespace corm::ext
