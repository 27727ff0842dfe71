#pragma once
// SessionStats: the statements one session sent, grouped by shape (SQL text, which binds every
// value as a parameter, so the same query with other values is one shape) with counts and total
// time — the per-request duplicate-query count that finds N+1 patterns.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace corm {

/// Per-session statement statistics.
class SessionStats {
 public:
  /// One statement shape.
  struct Shape {
    std::string sql;
    std::uint64_t count = 0;                 ///< Times executed.
    std::uint64_t lazy_count = 0;            ///< Of which by lazy loads.
    std::chrono::nanoseconds total{0};       ///< Summed execution time.
  };

  /// Records `n` executions of `sql` taking `elapsed` in total.
  void record(const std::string& sql, std::uint64_t n, std::chrono::nanoseconds elapsed, bool lazy);
  /// Every statement executed.
  std::uint64_t statements() const noexcept { return statements_; }
  /// Shapes, most executed first.
  std::vector<Shape> shapes() const;
  /// The shape of `sql`, or nullptr.
  const Shape* find(const std::string& sql) const;
  void clear() { shapes_.clear(); statements_ = 0; }

 private:
  // A session sends a handful of shapes, and W1's sessions one each: a scan of a vector (one
  // allocation for the SQL text) beats a hash map (node, buckets, the key and Shape::sql).
  std::vector<Shape> shapes_;
  std::uint64_t statements_ = 0;
};

}  // namespace corm
