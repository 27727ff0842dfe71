#pragma once
// SessionStats: the statements one session sent, grouped by shape (SQL text, which binds every
// value as a parameter, so the same query with other values is one shape) with counts and total
// time — the per-request duplicate-query count that finds N+1 patterns.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corm {

/// Per-session statement statistics.
class SessionStats {
 public:
  /// One statement shape.
  struct Shape {
    /// The statement's SQL text, which identifies the shape.
    std::string sql;
    std::uint64_t count = 0;                 ///< Times executed.
    std::uint64_t lazy_count = 0;            ///< Of which by lazy loads.
    std::chrono::nanoseconds total{0};       ///< Summed execution time.
  };

  /// Records `n` executions of `sql` taking `elapsed` in total; returns how many executions of
  /// that shape lazy loads have made so far (what the N+1 detector compares with its threshold).
  std::uint64_t record(const std::shared_ptr<const std::string>& sql, std::uint64_t n, std::chrono::nanoseconds elapsed,
                       bool lazy);
  /// Every statement executed.
  std::uint64_t statements() const noexcept { return statements_; }
  /// Shapes, most executed first.
  std::vector<Shape> shapes() const;
  /// The shape of `sql`, or nullopt.
  std::optional<Shape> find(std::string_view sql) const;
  /// Forgets every recorded statement (statements() is 0 again).
  void clear();

 private:
  // A shape as recorded: the statement's shared SQL text, not a copy of it.
  struct Entry {
    std::shared_ptr<const std::string> sql;
    std::uint64_t count = 0;
    std::uint64_t lazy_count = 0;
    std::chrono::nanoseconds total{0};
    Shape shape() const { return Shape{*sql, count, lazy_count, total}; }
  };
  // A session sends a handful of shapes, and W1's sessions one each: the first is kept in place
  // and the rest scanned in a vector, so a one-statement session allocates nothing here (it was
  // a vector and a copy of the SQL text per session).
  Entry first_;
  std::vector<Entry> more_;
  std::uint64_t statements_ = 0;
};

}  // namespace corm
