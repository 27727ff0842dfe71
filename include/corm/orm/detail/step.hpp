#pragma once
// Step: what a sans-I/O plan (flush, load) hands the front to run next. Every statement of one
// step has the same SQL text, so a front may send them as one batch (PostgreSQL pipeline mode
// through AsyncConnection::execute_many) or one by one; it feeds back one Result per statement,
// in order.

#include <string>
#include <vector>

#include "corm/sql/compiled.hpp"

namespace corm::orm {

/// Statements to run next, all with the same SQL (see the header comment).
struct Step {
  std::vector<Compiled> statements;
  /// True when the statements come from a lazy load (the N+1 detector counts these).
  bool lazy = false;
  /// "table.relationship" of a relationship load (names the fix in N+1 warnings).
  std::string relationship;
  const std::string& sql() const { return *statements.front().sql; }
};

}  // namespace corm::orm
