#include "corm/orm/session_stats.hpp"

#include <algorithm>

namespace corm {

void SessionStats::record(const std::string& sql, std::uint64_t n, std::chrono::nanoseconds elapsed, bool lazy) {
  auto it = std::find_if(shapes_.begin(), shapes_.end(), [&](const Shape& x) { return x.sql == sql; });
  Shape& s = it != shapes_.end() ? *it : shapes_.emplace_back(Shape{sql, 0, 0, {}});
  s.count += n;
  if (lazy) s.lazy_count += n;
  s.total += elapsed;
  statements_ += n;
}

std::vector<SessionStats::Shape> SessionStats::shapes() const {
  std::vector<Shape> out = shapes_;
  std::sort(out.begin(), out.end(), [](const Shape& a, const Shape& b) {
    return a.count != b.count ? a.count > b.count : a.sql < b.sql;
  });
  return out;
}

const SessionStats::Shape* SessionStats::find(const std::string& sql) const {
  for (const Shape& s : shapes_)
    if (s.sql == sql) return &s;
  return nullptr;
}

}  // namespace corm
