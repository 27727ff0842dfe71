#include "corm/orm/session_stats.hpp"

#include <algorithm>

namespace corm {

void SessionStats::record(const std::string& sql, std::uint64_t n, std::chrono::nanoseconds elapsed, bool lazy) {
  Shape& s = shapes_[sql];
  if (s.sql.empty()) s.sql = sql;
  s.count += n;
  if (lazy) s.lazy_count += n;
  s.total += elapsed;
  statements_ += n;
}

std::vector<SessionStats::Shape> SessionStats::shapes() const {
  std::vector<Shape> out;
  out.reserve(shapes_.size());
  for (const auto& [k, v] : shapes_) out.push_back(v);
  std::sort(out.begin(), out.end(), [](const Shape& a, const Shape& b) {
    return a.count != b.count ? a.count > b.count : a.sql < b.sql;
  });
  return out;
}

const SessionStats::Shape* SessionStats::find(const std::string& sql) const {
  auto it = shapes_.find(sql);
  return it == shapes_.end() ? nullptr : &it->second;
}

}  // namespace corm
