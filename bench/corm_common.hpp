#pragma once
// What the corm peers (async and sync fronts) share: the W1 row type and statement.

#include <corm/corm.hpp>

#include <cstdint>
#include <string>

#include "cents.hpp"

namespace bench {

struct Author {
  std::int64_t id;
  std::string name;
  std::string email;
  corm::Timestamp created_at;
};

inline Author to_author(const corm::Row& r) {
  return Author{r.get<std::int64_t>(0), r.get<std::string>(1), r.get<std::string>(2), r.get<corm::Timestamp>(3)};
}

/// W1's lookup, compiled once.
inline const corm::TextClause& w1_stmt() {
  static const corm::TextClause s = corm::text("SELECT id, name, email, created_at FROM authors WHERE id = :id");
  return s;
}

}  // namespace bench
