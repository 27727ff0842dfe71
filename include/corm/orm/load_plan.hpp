#pragma once
// LoadPlan: a query and its loader strategies as a sans-I/O state machine. The first Step is the
// query itself (with LEFT OUTER JOINs added for joinedload); each selectinload level then adds
// one Step (`SELECT ... WHERE fk IN (keys)`, one statement per chunk of keys). Every row goes
// through the identity map, so objects are shared and a later get() finds them. Lazy loads and
// AsyncSession::load are one-task plans of the same machine.

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "corm/core/result.hpp"
#include "corm/orm/instance_state.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/step.hpp"
#include "corm/sql/statement/statement_core.hpp"

namespace corm::orm {

class SessionCore;

/// A load. Drive it like a FlushPlan; results() then holds the queried objects.
class LoadPlan {
 public:
  using Path = std::vector<LoadOption::Link>;

  /// A query for entities of `ops` (`select` selects its columns first), refreshing objects
  /// already in the map when `refresh` (locking reads, refresh()).
  LoadPlan(SessionCore& core, const EntityOps& ops, sql::detail::SelectCore select,
           const std::vector<LoadOption>& options, bool refresh);
  /// Loads relationship `rel` of `parents` (all of one model); `lazy` marks the statements for
  /// the N+1 detector.
  LoadPlan(SessionCore& core, std::vector<std::shared_ptr<InstanceState>> parents, std::size_t rel, bool lazy);

  const Step* next();
  void feed(std::vector<Result> results);
  /// The queried objects in row order, de-duplicated (after the plan is done).
  const std::vector<std::shared_ptr<void>>& results() const noexcept { return results_; }

 private:
  struct Task {
    const EntityOps* ops = nullptr;  // the entity the statement selects
    bool main = false;
    bool lock = false;  // SQLite: take the write lock before a locking read
    bool subquery = false;  // subqueryload: `select` is the parent query to embed
    sql::detail::SelectCore select;  // main query only
    std::vector<std::size_t> joined;
    std::vector<std::shared_ptr<InstanceState>> parents;  // relationship load
    std::size_t rel = 0;
    std::vector<Path> paths;  // options below this level
    std::vector<std::shared_ptr<void>> known;  // many_to_one targets found in the map
    int depth = 0;
  };
  bool build(Task& t);
  void complete_main(Task& t, const std::vector<Result>& rs);
  void complete_relationship(Task& t, const std::vector<Result>& rs);
  void plan_level(const EntityOps& ops, const std::vector<std::shared_ptr<InstanceState>>& states,
                  const std::vector<Path>& paths, int depth, const std::vector<std::size_t>& done);
  LoaderStrategy strategy_for(const EntityOps& ops, std::size_t rel, const std::vector<Path>& paths, int depth) const;
  static std::vector<Path> below(const std::vector<Path>& paths, std::size_t rel);

  SessionCore& core_;
  bool refresh_ = false;
  bool lazy_ = false;
  std::deque<Task> tasks_;
  sql::detail::SelectCore main_select_;  // the user's query, for subqueryload
  Step step_;
  bool issued_ = false;
  std::vector<std::shared_ptr<void>> results_;
};

}  // namespace corm::orm
