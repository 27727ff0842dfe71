#pragma once
// Helpers for golden-SQL tests: the SQL text of a statement on each dialect.

#include <string>

#include "corm/core/dialect.hpp"
#include "corm/sql/compiled.hpp"

namespace corm::test {

template <class S>
std::string pg_sql(const S& s) {
  return *s.compile(Dialect::postgresql).sql;
}
template <class S>
std::string sqlite_sql(const S& s) {
  return *s.compile(Dialect::sqlite).sql;
}

}  // namespace corm::test
