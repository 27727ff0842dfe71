#pragma once
// Prepared statements kept per SQLite connection, least recently used evicted first. Preparing is
// a large share of a short query's cost; the ORM repeats the same SQL text constantly.

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3_stmt;

namespace corm::driver::sqlite {

/// Owns its statements: eviction, clear() and destruction finalize them. Not thread-safe (one
/// per connection).
class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}
  ~StatementCache() { clear(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  /// The cached statement for `sql`, marked most recently used; nullptr on a miss.
  sqlite3_stmt* find(std::string_view sql);
  /// Adds `stmt` (taking ownership), evicting the least recently used beyond capacity. With
  /// capacity 0 the statement is not kept and the caller still owns it: returns false.
  bool insert(std::string_view sql, sqlite3_stmt* stmt);
  /// Finalizes every statement.
  void clear() noexcept;

  std::size_t size() const noexcept { return lru_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct Entry {
    std::string sql;
    sqlite3_stmt* stmt;
  };
  std::size_t capacity_;
  std::list<Entry> lru_;  // front = most recently used; list nodes keep `sql` at a stable address
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace corm::driver::sqlite
