#pragma once
// LoadPlan: a query and its loader strategies as a sans-I/O state machine. The first Step is the
// query itself, with a LEFT OUTER JOIN (to an anonymous alias) for every joinedload link, nested
// ones included; each selectinload / subqueryload level then adds one Step (`SELECT ... WHERE fk
// IN (keys)`, one statement per chunk of keys, or `fk IN (SELECT key FROM <the parents' query>)`),
// which again carries the joins of the joinedload links below it. Joined rows are de-duplicated
// at every level. Every row goes through the identity map, so objects are shared and a later
// get() finds them. Lazy loads and AsyncSession::load are one-task plans of the same machine.

#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corm/core/result.hpp"
#include "corm/orm/detail/instance_state.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/detail/step.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

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
  /// A query for entities of `ops` that is already compiled (get() by primary key): no eager
  /// options, and nothing below it embeds it (default subqueryloads run as selectin).
  LoadPlan(SessionCore& core, const EntityOps& ops, Compiled statement);
  LoadPlan(LoadPlan&&) noexcept;
  ~LoadPlan();

  const Step* next();
  void feed(std::vector<Result> results);
  /// How the rows of the step from next() are best read: in slices of this many rows, or whole
  /// (0). The query itself is read in slices of `yield_per` (the statement's yield_per, 0 when
  /// unset); a selectin load for at least eager_slice_min_parents parents on PostgreSQL in slices
  /// of SessionOptions::eager_yield_per, so its objects are built while the server still
  /// produces rows. A step of several statements, or a locking one, is read whole.
  std::size_t rows_per_fetch(std::size_t yield_per) const noexcept;
  /// Builds the objects of one slice of the step's rows as it arrives; feed() with what is left
  /// (nothing, after the last slice) then ends the step and plans the loads below it.
  void feed_slice(const Result& slice);
  /// Parents a selectin load needs before it is read in slices: a smaller one is likely a
  /// statement of few rows, which a cursor would only slow down (DECLARE is planned afresh and
  /// costs a round trip more than a prepared statement).
  static constexpr std::size_t eager_slice_min_parents = 100;
  /// The queried objects in row order, de-duplicated (after the plan is done).
  const std::vector<std::shared_ptr<void>>& results() const noexcept { return results_; }

 private:
  /// One joinedload link of a statement: relationship `rel` of the entity of node `parent`
  /// (-1: the entity the statement selects), joined to `alias` (and `secondary_alias`).
  struct JoinNode {
    int parent = -1;
    const EntityOps* owner = nullptr;
    std::size_t rel = 0;
    const EntityOps* target = nullptr;
    std::vector<Path> paths;  // options below this link
    int depth = 0;            // level of the target objects
    std::string alias;
    std::string secondary_alias;
  };
  struct Task {
    const EntityOps* ops = nullptr;  // the entity the statement selects
    bool main = false;
    bool lock = false;  // SQLite: take the write lock before a locking read
    bool subquery = false;  // subqueryload: `select` is the parents' query to embed
    sql::detail::SelectCore select;  // main query; the parents' query of a subqueryload
    std::optional<Compiled> compiled;  // main query already compiled (get(): see key_plan)
    std::vector<JoinNode> joins;
    std::vector<std::shared_ptr<InstanceState>> parents;  // relationship load
    std::size_t rel = 0;
    std::vector<Path> paths;  // options below this level
    std::vector<std::shared_ptr<void>> known;  // many_to_one targets found in the map
    int depth = 0;
    // The collection's order by the target's key is made here rather than by ORDER BY
    // (single integer key, no eager joins below): see LoadPlan::build.
    bool order_on_client = false;
    // The statement that selects exactly this level's objects (no eager joins, no ORDER BY),
    // for subqueryloads below it; unset when there is none (several chunks, objects from the map).
    std::optional<sql::detail::SelectCore> source;
  };
  /// What the rows of a statement held for one JoinNode, de-duplicated.
  struct JoinedRows {
    std::vector<std::shared_ptr<InstanceState>> parents;  // first-seen order
    std::unordered_map<const void*, std::vector<std::shared_ptr<void>>> children;
    std::unordered_map<const void*, std::unordered_set<const void*>> seen;
    std::vector<std::shared_ptr<InstanceState>> states;
    std::unordered_set<const void*> state_seen;
  };
  /// What the main query's rows have produced so far (they may come in several slices).
  struct MainRows {
    std::vector<std::shared_ptr<InstanceState>> roots;
    std::uint64_t mark = 0;  // joined rows repeat their root
    std::vector<JoinedRows> acc;
  };
  struct RelRows;  // load_plan.cpp: what a relationship load's rows have produced so far
  bool build(Task& t);
  MainRows& main_rows(const Task& t);
  RelRows& rel_rows(const Task& t);
  void absorb_relationship(const Task& t, RelRows& g, const Result& r);
  void absorb_main(const Task& t, MainRows& m, const Result& r);
  void complete_main(Task& t, const std::vector<Result>& rs);
  void complete_relationship(Task& t, const std::vector<Result>& rs);
  void plan_level(const EntityOps& ops, const std::vector<std::shared_ptr<InstanceState>>& states,
                  const std::vector<Path>& paths, int depth, const std::vector<std::size_t>& done,
                  const std::optional<sql::detail::SelectCore>& source);
  LoaderStrategy strategy_for(const EntityOps& ops, std::size_t rel, const std::vector<Path>& paths, int depth) const;
  static std::vector<Path> below(const std::vector<Path>& paths, std::size_t rel);
  std::vector<JoinNode> plan_joins(const EntityOps& ops, const std::vector<Path>& paths, int depth) const;
  static void add_joins(sql::detail::SelectCore& s, const std::vector<JoinNode>& joins);
  void read_joined(const std::vector<JoinNode>& joins, const Row& row, const std::shared_ptr<InstanceState>& root,
                   std::size_t first, std::vector<JoinedRows>& acc, bool overwrite);
  void finish_joined(const std::vector<JoinNode>& joins, std::vector<JoinedRows>& acc, bool overwrite,
                     const std::optional<sql::detail::SelectCore>& root_source);

  SessionCore& core_;
  bool refresh_ = false;
  bool lazy_ = false;
  std::list<Task> tasks_;  // a queue; a list allocates one node per task, a deque two blocks up front
  Step step_;
  bool issued_ = false;
  std::vector<std::shared_ptr<void>> results_;
  std::optional<MainRows> main_rows_;
  std::unique_ptr<RelRows> rel_rows_;
};

}  // namespace corm::orm
