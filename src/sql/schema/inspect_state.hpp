#pragma once
// The inspection plan's state: a queue of queries, each with the code that reads its result
// (and may queue more). One builder per dialect fills it.

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "corm/sql/schema/inspect.hpp"

namespace corm {

struct InspectPlan::State {
  struct Step {
    DriverQuery query;
    std::function<void(const Result&)> on_result;
  };
  Dialect dialect = Dialect::sqlite;
  std::vector<std::string> only;
  std::deque<Step> steps;
  bool outstanding = false;
  std::map<std::string, TableSchema> tables;

  bool wanted(const std::string& name) const {
    if (only.empty()) return true;
    for (const std::string& n : only)
      if (n == name) return true;
    return false;
  }
};

namespace sql::detail {
void start_postgresql_inspection(InspectPlan::State& s);
void start_sqlite_inspection(InspectPlan::State& s);
void start_mysql_inspection(InspectPlan::State& s);
/// "CASCADE" → FkAction::cascade, ... (unknown → no_action).
FkAction parse_fk_action(std::string_view s);
}  // namespace sql::detail

}  // namespace corm
