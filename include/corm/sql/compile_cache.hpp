#pragma once
// The process-wide compiled-SQL cache. Statements are keyed by SHAPE — their structure and the
// dialect, not their values (nor the length of an in_ list, which binds as one parameter) — so
// a query built per request with other values compiles once. A hit walks the statement only to
// collect its parameter values; the SQL text is shared, not rebuilt or copied.
// Thread-safe; bounded (least recently used shapes are evicted past the capacity).

#include <cstddef>
#include <cstdint>

namespace corm::sql {

/// Counters of the compiled-SQL cache since start (or the last reset_compile_cache_stats()).
struct CompileCacheStats {
  /// Compiles whose shape was cached: the SQL text was reused, not built.
  std::uint64_t hits = 0;
  /// Compiles whose shape was not cached: the SQL was built and cached.
  std::uint64_t misses = 0;
  /// Shapes dropped to stay within the capacity (clear_compile_cache() counts none).
  std::uint64_t evictions = 0;
  std::size_t size = 0;       ///< Shapes currently cached.
  std::size_t capacity = 0;   ///< Maximum number of shapes kept.
};

/// A snapshot of the counters (cheap; safe from any thread).
CompileCacheStats compile_cache_stats();
/// Zeroes hits/misses/evictions (tests measure deltas with this).
void reset_compile_cache_stats();
/// Drops every cached shape (the next compile of each shape is a miss).
void clear_compile_cache();
/// Sets the maximum number of cached shapes (default 2048); evicts down to it now.
/// 0 counts as 1.
void set_compile_cache_capacity(std::size_t n);

}  // namespace corm::sql
