#pragma once
// The run-time form of statements (the typed builders wrap these). A core is plain data; the
// compilers in src/sql turn it into SQL for a dialect, through the compiled-SQL cache.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/sql/compiled.hpp"
#include "corm/sql/expression/node.hpp"

namespace corm::sql::detail {

/// A FROM / JOIN item: a mapped table (optionally aliased) or a named subquery.
struct FromItem {
  const TableInfo* table = nullptr;
  std::string alias;        ///< Alias of a table; the name of a subquery.
  SelectPtr subquery;
  bool same_as(const FromItem& o) const noexcept {
    return table == o.table && alias == o.alias && subquery == o.subquery;
  }
};

struct Join {
  FromItem target;
  NodePtr on;
  bool left = false;
};

enum class Nulls : std::uint8_t { unspecified, first, last };

struct OrderTerm {
  NodePtr expr;
  bool desc = false;
  Nulls nulls = Nulls::unspecified;
};

/// SELECT ... FOR UPDATE options (PostgreSQL; SQLite writes no clause: it locks the database).
struct ForUpdate {
  bool enabled = false;
  bool share = false;  ///< a shared lock (FOR SHARE / LOCK IN SHARE MODE) instead of an exclusive one
  bool nowait = false;
  bool skip_locked = false;
  std::vector<FromItem> of;
};

enum class SetOp : std::uint8_t { union_, union_all };

/// A SELECT, or a compound (UNION) when `parts` is non-empty: then `columns`, `from`, `joins`,
/// `where`, `group_by`, `having` and `distinct` are unused and order/limit/offset apply to the
/// whole compound.
struct SelectCore {
  std::vector<NodePtr> columns;
  std::vector<FromItem> from;   ///< Explicit FROM; empty = inferred from the columns.
  std::vector<Join> joins;
  NodePtr where;
  std::vector<NodePtr> group_by;
  NodePtr having;
  std::vector<OrderTerm> order_by;
  NodePtr limit;
  NodePtr offset;
  bool distinct = false;
  ForUpdate for_update;
  std::vector<std::pair<SetOp, SelectPtr>> parts;  ///< parts[0].first is ignored.
};

enum class Conflict : std::uint8_t { none, do_nothing, do_update };

struct InsertCore {
  const TableInfo* table = nullptr;
  std::vector<std::size_t> columns;          ///< Column ordinals.
  std::vector<std::vector<NodePtr>> rows;    ///< One node per column per row.
  Conflict conflict = Conflict::none;
  std::vector<std::size_t> conflict_target;
  std::vector<std::pair<std::size_t, NodePtr>> conflict_set;
  NodePtr conflict_where;
  std::vector<NodePtr> returning;
};

struct UpdateCore {
  const TableInfo* table = nullptr;
  std::vector<std::pair<std::size_t, NodePtr>> set;
  NodePtr where;
  std::vector<NodePtr> returning;
};

struct DeleteCore {
  const TableInfo* table = nullptr;
  NodePtr where;
  std::vector<NodePtr> returning;
};

/// Compiles through the process-wide compiled-SQL cache (src/sql/compile_cache.cpp).
Compiled compile(const SelectCore& s, Dialect d);
Compiled compile(const InsertCore& s, Dialect d);
Compiled compile(const UpdateCore& s, Dialect d);
Compiled compile(const DeleteCore& s, Dialect d);

/// `where AND p` (or `p` alone when there is no WHERE yet).
NodePtr and_also(const NodePtr& where, NodePtr p);

/// The FROM list a select actually uses: the explicit one, or the tables and subqueries its
/// columns name (its other clauses' when the columns name none), in order of first
/// appearance, minus the ones it joins and the ones of `enclosing` statements (correlation).
std::vector<FromItem> effective_from(const SelectCore& s, const std::vector<FromItem>& enclosing);
std::vector<FromItem> effective_from(const SelectCore& s);

}  // namespace corm::sql::detail
