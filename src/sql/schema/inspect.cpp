#include "corm/sql/schema/inspect.hpp"

#include "corm/core/error.hpp"
#include "sql/schema/inspect_state.hpp"

namespace corm {

InspectPlan::InspectPlan(Dialect d, std::vector<std::string> only) : s_(std::make_unique<State>()) {
  s_->dialect = d;
  s_->only = std::move(only);
  switch (d) {
    case Dialect::postgresql: sql::detail::start_postgresql_inspection(*s_); break;
    case Dialect::mysql: sql::detail::start_mysql_inspection(*s_); break;
    case Dialect::sqlite: sql::detail::start_sqlite_inspection(*s_); break;
  }
}
InspectPlan::~InspectPlan() = default;
InspectPlan::InspectPlan(InspectPlan&&) noexcept = default;
InspectPlan& InspectPlan::operator=(InspectPlan&&) noexcept = default;

std::optional<DriverQuery> InspectPlan::next() {
  if (s_->outstanding)
    throw UsageError("InspectPlan::next() called again before feed(): run the query it returned and feed its result");
  if (s_->steps.empty()) return std::nullopt;
  s_->outstanding = true;
  return s_->steps.front().query;
}

void InspectPlan::feed(const Result& r) {
  if (!s_->outstanding) throw UsageError("InspectPlan::feed() without a query from next()");
  State::Step step = std::move(s_->steps.front());
  s_->steps.pop_front();
  s_->outstanding = false;
  step.on_result(r);
}

std::vector<TableSchema> InspectPlan::take() {
  if (s_->outstanding || !s_->steps.empty())
    throw UsageError("InspectPlan::take() before the inspection finished: call next() until it returns nullopt");
  std::vector<TableSchema> out;
  for (auto& [name, t] : s_->tables) {
    t.normalize();
    out.push_back(std::move(t));
  }
  s_->tables.clear();
  return out;
}

namespace sql::detail {
FkAction parse_fk_action(std::string_view s) {
  if (s == "CASCADE") return FkAction::cascade;
  if (s == "RESTRICT") return FkAction::restrict;
  if (s == "SET NULL") return FkAction::set_null;
  if (s == "SET DEFAULT") return FkAction::set_default;
  return FkAction::no_action;
}
}  // namespace sql::detail

}  // namespace corm
