// The compiled-SQL cache: shape key → SQL text, LRU-bounded, one mutex (the critical section is
// a hash lookup and a list splice; values are gathered before taking it).

#include "corm/sql/compile_cache.hpp"

#include <list>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include "sql/compiler/shape_key.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql {

namespace {

struct Entry {
  std::string key;
  std::shared_ptr<const std::string> sql;
  std::chrono::steady_clock::time_point compiled_at;
};

class Cache {
 public:
  std::optional<Entry> find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      ++stats_.misses;
      return std::nullopt;
    }
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }

  Entry put(std::string key, std::string sql) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) return *it->second;  // another thread compiled it meanwhile
    lru_.push_front(Entry{std::move(key), std::make_shared<const std::string>(std::move(sql)),
                          std::chrono::steady_clock::now()});
    map_.emplace(lru_.front().key, lru_.begin());
    evict();
    return lru_.front();
  }

  CompileCacheStats stats() {
    std::lock_guard lock(mu_);
    CompileCacheStats s = stats_;
    s.size = map_.size();
    s.capacity = capacity_;
    return s;
  }
  void reset_stats() {
    std::lock_guard lock(mu_);
    stats_ = {};
  }
  void clear() {
    std::lock_guard lock(mu_);
    map_.clear();
    lru_.clear();
  }
  void set_capacity(std::size_t n) {
    std::lock_guard lock(mu_);
    capacity_ = n == 0 ? 1 : n;
    evict();
  }

 private:
  void evict() {
    while (map_.size() > capacity_) {
      map_.erase(lru_.back().key);
      lru_.pop_back();
      ++stats_.evictions;
    }
  }

  std::mutex mu_;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
  CompileCacheStats stats_;
  std::size_t capacity_ = 2048;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: statements may compile during static teardown
  return *c;
}

template <class Core, class Walk, class Write>
Compiled compile_cached(const Core& core, Dialect d, Walk walk, Write write) {
  detail::ShapeWalker w(d);
  walk(w, core);
  const bool plain_read = std::is_same_v<Core, detail::SelectCore> && w.side_effect_free;
  if (auto e = cache().find(w.key)) return Compiled{e->sql, std::move(w.params), true, e->compiled_at, plain_read};
  detail::SqlWriter sw(d);
  write(sw, core);
  // The hit path must bind exactly what the compiler numbered; a mismatch is a corm bug, and
  // checking it on every miss means every golden test checks it.
  if (!(sw.params == w.params))
    throw std::logic_error("corm internal error: the compiled-cache walk and the SQL compiler disagree on the "
                           "parameters of: " + sw.sql);
  Entry e = cache().put(std::move(w.key), std::move(sw.sql));
  return Compiled{e.sql, std::move(sw.params), false, e.compiled_at, plain_read};
}

}  // namespace

CompileCacheStats compile_cache_stats() { return cache().stats(); }
void reset_compile_cache_stats() { cache().reset_stats(); }
void clear_compile_cache() { cache().clear(); }
void set_compile_cache_capacity(std::size_t n) { cache().set_capacity(n); }

namespace detail {

Compiled compile(const SelectCore& s, Dialect d) {
  return compile_cached(s, d, [](ShapeWalker& w, const SelectCore& c) { w.select(c); },
                        [](SqlWriter& w, const SelectCore& c) { w.select(c); });
}
Compiled compile(const InsertCore& s, Dialect d) {
  return compile_cached(s, d, [](ShapeWalker& w, const InsertCore& c) { w.insert(c); },
                        [](SqlWriter& w, const InsertCore& c) { w.insert(c); });
}
Compiled compile(const UpdateCore& s, Dialect d) {
  return compile_cached(s, d, [](ShapeWalker& w, const UpdateCore& c) { w.update(c); },
                        [](SqlWriter& w, const UpdateCore& c) { w.update(c); });
}
Compiled compile(const DeleteCore& s, Dialect d) {
  return compile_cached(s, d, [](ShapeWalker& w, const DeleteCore& c) { w.delete_(c); },
                        [](SqlWriter& w, const DeleteCore& c) { w.delete_(c); });
}

}  // namespace detail
}  // namespace corm::sql
