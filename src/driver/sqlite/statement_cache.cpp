#include "driver/sqlite/statement_cache.hpp"

#include <sqlite3.h>

namespace corm::driver::sqlite {

sqlite3_stmt* StatementCache::find(std::string_view sql) {
  const auto it = index_.find(sql);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->stmt;
}

bool StatementCache::insert(std::string_view sql, sqlite3_stmt* stmt) {
  if (capacity_ == 0) return false;
  if (lru_.size() >= capacity_) {
    Entry& victim = lru_.back();
    index_.erase(victim.sql);
    sqlite3_finalize(victim.stmt);
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::string(sql), stmt});
  index_.emplace(lru_.front().sql, lru_.begin());
  return true;
}

void StatementCache::clear() noexcept {
  index_.clear();
  for (auto& e : lru_) sqlite3_finalize(e.stmt);
  lru_.clear();
}

}  // namespace corm::driver::sqlite
