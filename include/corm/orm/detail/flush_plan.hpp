#pragma once
// FlushPlan: the unit of work as a sans-I/O state machine. It hands out the next statements
// (next()) and takes their results (feed()); the fronts only move them to a connection:
//
//   while (const orm::Step* st = plan.next()) plan.feed(run(*st));
//
// Order: INSERTs table by table in foreign-key order (parents first; each child's foreign key is
// copied from its parent's generated key just before the child's INSERT), then the association
// rows of many-to-many collections (DELETEs of removed links and of deleted objects' links, then
// INSERTs of added links), then UPDATEs of the changed columns only, then DELETEs children
// first. Before all that, back_populates pairs are brought in line (book->author = a puts the
// book into a loaded a->books, and the other way round). Statements of one shape form one Step,
// so the async front sends them as one pipelined batch.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "corm/core/result.hpp"
#include "corm/orm/detail/instance_state.hpp"
#include "corm/orm/detail/step.hpp"

namespace corm::orm {

class SessionCore;

/// One flush. Get it from SessionCore::flush_plan(); finish it (next() returns nullptr) or drop
/// it after an error (then roll the transaction back).
class FlushPlan {
 public:
  explicit FlushPlan(SessionCore& core);
  /// The next statements to run, or nullptr when the flush is complete.
  const Step* next();
  /// Their results, one per statement, in order. Throws StaleDataError when an UPDATE or DELETE
  /// matched no row.
  void feed(std::vector<Result> results);
  /// True when there was nothing to flush at all.
  bool empty() const noexcept {
    return inserts_.empty() && deletes_.empty() && updates_built_ && updates_.empty() && link_adds_.empty() &&
           link_removes_.empty() && purges_.empty();
  }

 private:
  enum class Phase { inserts, link_removes, link_adds, updates, deletes, done };
  struct Pending {
    std::vector<InstanceState*> states;
    Step step;
    std::vector<std::size_t> columns;   // INSERTs: the columns sent, in parameter order
    std::vector<std::size_t> returned;  // INSERTs: the columns RETURNING reads back, in order
    bool params_are_values = true;      // INSERTs: each statement's parameters are its row's values
  };
  /// One association row of relationship `rel` between `owner` and `target` (target null: every
  /// row of `owner`, which is being deleted).
  struct Link {
    const RelationshipInfo* rel = nullptr;
    InstanceState* owner = nullptr;
    std::shared_ptr<void> target;
  };
  void prepare();
  void sync_back_populates();
  void collect_links();
  void build_links(bool adds);
  bool has_other_parent(const InstanceState& child, const InstanceState& parent, const RelationshipInfo& r) const;
  bool build_inserts();
  void build_updates();
  bool build_deletes();
  bool ready(const InstanceState& s) const;
  void wire_foreign_keys(InstanceState& s);

  SessionCore& core_;
  Phase phase_ = Phase::inserts;
  std::vector<InstanceState*> inserts_;  // pending, in table rank then add order
  std::vector<InstanceState*> deletes_;  // reverse table rank
  std::vector<Pending> updates_;
  bool updates_built_ = false;
  std::size_t update_pos_ = 0;
  // seq when this flush started: a row INSERTed after it was read back by its RETURNING and has
  // not changed since, so the UPDATE pass skips it (10,000 dirty checks in W5's flush).
  std::uint64_t started_at_ = 0;
  Pending current_;
  bool has_current_ = false;
  bool finished_ = false;
  // child object -> (parent state, relationship index) for one-to-many / one-to-one holders
  std::unordered_map<const void*, std::vector<std::pair<InstanceState*, std::size_t>>> parents_;
  std::unordered_map<const TableInfo*, std::size_t> rank_;
  std::vector<Link> link_adds_, link_removes_, purges_;
  std::vector<Step> links_;  // the steps of the current association phase
  std::size_t link_pos_ = 0;
};

}  // namespace corm::orm
