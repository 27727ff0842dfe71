#include "corm/orm/session_stats.hpp"

#include <algorithm>

namespace corm {

std::uint64_t SessionStats::record(const std::shared_ptr<const std::string>& sql, std::uint64_t n,
                                   std::chrono::nanoseconds elapsed, bool lazy) {
  // Statements from the compiled cache share their text, so the pointer nearly always decides.
  auto same = [&](const Entry& e) { return e.sql == sql || *e.sql == *sql; };
  Entry* e = nullptr;
  if (!first_.sql) {
    first_.sql = sql;
    e = &first_;
  } else if (same(first_)) {
    e = &first_;
  } else {
    auto it = std::find_if(more_.begin(), more_.end(), same);
    e = it != more_.end() ? &*it : &more_.emplace_back(Entry{sql, 0, 0, {}});
  }
  e->count += n;
  if (lazy) e->lazy_count += n;
  e->total += elapsed;
  statements_ += n;
  return e->lazy_count;
}

std::vector<SessionStats::Shape> SessionStats::shapes() const {
  std::vector<Shape> out;
  if (!first_.sql) return out;
  out.reserve(1 + more_.size());
  out.push_back(first_.shape());
  for (const Entry& e : more_) out.push_back(e.shape());
  std::sort(out.begin(), out.end(), [](const Shape& a, const Shape& b) {
    return a.count != b.count ? a.count > b.count : a.sql < b.sql;
  });
  return out;
}

std::optional<SessionStats::Shape> SessionStats::find(std::string_view sql) const {
  if (first_.sql && *first_.sql == sql) return first_.shape();
  for (const Entry& e : more_)
    if (*e.sql == sql) return e.shape();
  return std::nullopt;
}

void SessionStats::clear() {
  first_ = Entry{};
  more_.clear();
  statements_ = 0;
}

}  // namespace corm
