#pragma once
// SessionOptions: how a Session / AsyncSession behaves (SQLAlchemy's sessionmaker arguments).

#include <cstddef>
#include <optional>
#include <string_view>

#include "corm/core/isolation_level.hpp"

namespace corm {

/// Options for Session and AsyncSession.
struct SessionOptions {
  /// Expire every object at commit so the next access through the session reloads it. Off by
  /// default: with coroutines a reload on access would be hidden I/O (SQLAlchemy's advice).
  bool expire_on_commit = false;
  /// Flush pending changes before each query, so queries see them.
  bool autoflush = true;
  /// Read-only: add/delete are refused, nothing is flushed or dirty-checked, and commit() rolls
  /// back. For request handlers that only read.
  bool read_only = false;
  /// Isolation level of this session's transactions (the engine's when unset).
  std::optional<IsolationLevel> isolation_level{};
  /// Keys per `IN` list of a selectin load; more keys send more statements (one batch). The
  /// list is bound as ONE array parameter, so this bounds statement size, not a parameter limit.
  std::size_t in_chunk_size = 25000;
  /// Rows per FETCH of a selectin load for many parents (LoadPlan::eager_slice_min_parents) on
  /// PostgreSQL: its rows are read through a server-side cursor and each slice becomes objects
  /// while the server produces the next (e.g. 10,000 books of 1,000 authors). 0 reads them whole, in one result.
  std::size_t eager_yield_per = 1000;
  /// The N+1 detector fires when lazy loads send the same statement shape this many times.
  std::size_t n_plus_one_threshold = 10;
  /// Throw NPlusOneError instead of logging a warning when the detector fires.
  bool strict_n_plus_one = false;
  /// close() of a session whose flushed changes were never committed rolls them back and logs a
  /// warning through the engine's log sink (a destroyed session does the same); with this set,
  /// close() throws UsageError after rolling back instead.
  bool strict_close = false;
  /// Names this session's connections in the pool's diagnostics (PoolTimeout's message, leak
  /// warnings), e.g. "checkout handler"; empty: the file:line that created the session. The
  /// text must outlive the session (a string literal, typically).
  std::string_view label{};
};

}  // namespace corm
