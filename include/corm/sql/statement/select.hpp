#pragma once
// select<T>() and select(col...): the SELECT builder. Each call returns a new statement (on an
// rvalue the statement is reused, so chains allocate little); compile(dialect) goes through the
// compiled-SQL cache, so building the same shape with other values compiles once.
//
//   auto stmt = corm::select<Book>()
//                   .where(corm::col(&Book::pages) > 100 && corm::col(&Book::title).contains(q))
//                   .order_by(corm::desc(&Book::id)).limit(10);
//   for (const Row& row : conn.execute(stmt)) Book b = stmt.decode(row);

#include <any>
#include <cstdint>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "corm/sql/compiled.hpp"
#include "corm/sql/expression/column_expr.hpp"
#include "corm/sql/expression/expr.hpp"
#include "corm/sql/expression/order_by.hpp"
#include "corm/sql/statement/for_update.hpp"
#include "corm/sql/statement/detail/row_decoder.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"
#include "corm/sql/statement/subquery.hpp"

namespace corm {

template <class R>
class Compound;

namespace sql::detail {
/// Adds the join(s) for relationship `rel_index` of `owner` (two for many_to_many).
void join_relationship(SelectCore& s, const TableInfo& owner, std::size_t rel_index, bool left);
/// Adds a join to `target` with the ON clause inferred from the one relationship between it
/// and a table already in the statement; UsageError when there is none or more than one.
void join_inferred(SelectCore& s, const TableInfo& target, bool left);
/// Adds the columns of `t` (declaration order) to the select list.
void add_entity_columns(SelectCore& s, const TableInfo& t);
[[noreturn]] void throw_compound_member_clause();
}  // namespace sql::detail

/// Marks T as an option a Select may carry for the layer that runs it (the orm layer specialises
/// it for its loader options). The sql layer stores such options but never reads them.
template <class T>
struct is_select_option : std::false_type {};

/// A SELECT whose rows read back as R (an entity, a tuple of entities, or a tuple of values).
template <class R>
class Select {
 public:
  /// The type each row reads back as (R).
  using row_type = R;

  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit Select(sql::detail::SelectCore core) : core_(std::move(core)) {}
  /// @endcond

  /// Adds a WHERE condition (several calls are ANDed).
  ///@{
  template <Predicate P>
  Select where(const P& p) && {
    core_.where = sql::detail::and_also(core_.where, p.node());
    return std::move(*this);
  }
  template <Predicate P>
  Select where(const P& p) const& { return Select(*this).where(p); }
  ///@}

  /// INNER JOIN along a relationship: `.join(&Book::author)`.
  ///@{
  template <class C, class T>
  Select join(One<T> C::*rel) && { return std::move(*this).join_rel(rel, false); }
  template <class C, class T>
  Select join(Many<T> C::*rel) && { return std::move(*this).join_rel(rel, false); }
  template <class C, class T>
  Select join(One<T> C::*rel) const& { return Select(*this).join_rel(rel, false); }
  template <class C, class T>
  Select join(Many<T> C::*rel) const& { return Select(*this).join_rel(rel, false); }
  ///@}
  /// LEFT OUTER JOIN along a relationship.
  ///@{
  template <class C, class T>
  Select left_join(One<T> C::*rel) && { return std::move(*this).join_rel(rel, true); }
  template <class C, class T>
  Select left_join(Many<T> C::*rel) && { return std::move(*this).join_rel(rel, true); }
  template <class C, class T>
  Select left_join(One<T> C::*rel) const& { return Select(*this).join_rel(rel, true); }
  template <class C, class T>
  Select left_join(Many<T> C::*rel) const& { return Select(*this).join_rel(rel, true); }
  ///@}

  /// INNER JOIN T, ON inferred from the one relationship linking T with a table already here.
  /// Throws UsageError when no relationship, or more than one, links them.
  ///@{
  template <Mapped T>
  Select join() && {
    sql::detail::join_inferred(core_, table_info<T>(), false);
    return std::move(*this);
  }
  template <Mapped T>
  Select join() const& { return Select(*this).template join<T>(); }
  ///@}
  /// LEFT OUTER JOIN T, ON inferred as for join<T>().
  ///@{
  template <Mapped T>
  Select left_join() && {
    sql::detail::join_inferred(core_, table_info<T>(), true);
    return std::move(*this);
  }
  template <Mapped T>
  Select left_join() const& { return Select(*this).template left_join<T>(); }
  ///@}

  /// JOIN T ON an explicit condition.
  ///@{
  template <Mapped T, Predicate P>
  Select join(const P& on) && { return std::move(*this).add_join({&table_info<T>(), {}, nullptr}, on, false); }
  template <Mapped T, Predicate P>
  Select join(const P& on) const& { return Select(*this).template join<T>(on); }
  ///@}
  /// LEFT OUTER JOIN T ON an explicit condition.
  ///@{
  template <Mapped T, Predicate P>
  Select left_join(const P& on) && { return std::move(*this).add_join({&table_info<T>(), {}, nullptr}, on, true); }
  template <Mapped T, Predicate P>
  Select left_join(const P& on) const& { return Select(*this).template left_join<T>(on); }
  ///@}

  /// JOIN an alias or a subquery ON a condition.
  ///@{
  template <Mapped T, Predicate P>
  Select join(const Alias<T>& a, const P& on) && { return std::move(*this).add_join({&a.table(), a.name(), nullptr}, on, false); }
  template <Mapped T, Predicate P>
  Select join(const Alias<T>& a, const P& on) const& { return Select(*this).join(a, on); }
  ///@}
  /// LEFT OUTER JOIN an alias ON a condition.
  ///@{
  template <Mapped T, Predicate P>
  Select left_join(const Alias<T>& a, const P& on) && { return std::move(*this).add_join({&a.table(), a.name(), nullptr}, on, true); }
  template <Mapped T, Predicate P>
  Select left_join(const Alias<T>& a, const P& on) const& { return Select(*this).left_join(a, on); }
  ///@}
  /// JOIN a subquery (Select::subquery) ON a condition.
  ///@{
  template <class R2, Predicate P>
  Select join(const Subquery<R2>& sq, const P& on) && { return std::move(*this).add_join(sq.from_item(), on, false); }
  template <class R2, Predicate P>
  Select join(const Subquery<R2>& sq, const P& on) const& { return Select(*this).join(sq, on); }
  ///@}
  /// LEFT OUTER JOIN a subquery ON a condition.
  ///@{
  template <class R2, Predicate P>
  Select left_join(const Subquery<R2>& sq, const P& on) && { return std::move(*this).add_join(sq.from_item(), on, true); }
  template <class R2, Predicate P>
  Select left_join(const Subquery<R2>& sq, const P& on) const& { return Select(*this).left_join(sq, on); }
  ///@}

  /// Sets FROM explicitly (needed when the select list names no table, e.g. select(count())).
  ///@{
  template <Mapped T>
  Select select_from() && {
    core_.from.push_back({&table_info<T>(), {}, nullptr});
    return std::move(*this);
  }
  template <Mapped T>
  Select select_from() const& { return Select(*this).template select_from<T>(); }
  template <Mapped T>
  Select select_from(const Alias<T>& a) && {
    core_.from.push_back({&a.table(), a.name(), nullptr});
    return std::move(*this);
  }
  template <Mapped T>
  Select select_from(const Alias<T>& a) const& { return Select(*this).select_from(a); }
  template <class R2>
  Select select_from(const Subquery<R2>& sq) && {
    core_.from.push_back(sq.from_item());
    return std::move(*this);
  }
  template <class R2>
  Select select_from(const Subquery<R2>& sq) const& { return Select(*this).select_from(sq); }
  ///@}

  /// GROUP BY expressions.
  ///@{
  template <class... Ts>
  Select group_by(const Expr<Ts>&... e) && {
    (core_.group_by.push_back(e.node()), ...);
    return std::move(*this);
  }
  template <class... Ts>
  Select group_by(const Expr<Ts>&... e) const& { return Select(*this).group_by(e...); }
  ///@}
  /// HAVING condition (several calls are ANDed).
  ///@{
  template <Predicate P>
  Select having(const P& p) && {
    core_.having = sql::detail::and_also(core_.having, p.node());
    return std::move(*this);
  }
  template <Predicate P>
  Select having(const P& p) const& { return Select(*this).having(p); }
  ///@}

  /// ORDER BY terms: corm::asc/desc(...) or expressions (ascending).
  ///@{
  template <class... Os>
  Select order_by(const Os&... o) && {
    (core_.order_by.push_back(order_term(o)), ...);
    return std::move(*this);
  }
  template <class... Os>
  Select order_by(const Os&... o) const& { return Select(*this).order_by(o...); }
  ///@}

  /// LIMIT n (bound as a parameter, so every page size shares one compiled statement).
  ///@{
  Select limit(std::int64_t n) && {
    core_.limit = sql::detail::make_bind(Value(n));
    return std::move(*this);
  }
  Select limit(std::int64_t n) const& { return Select(*this).limit(n); }
  ///@}
  /// OFFSET n (bound as a parameter).
  ///@{
  Select offset(std::int64_t n) && {
    core_.offset = sql::detail::make_bind(Value(n));
    return std::move(*this);
  }
  Select offset(std::int64_t n) const& { return Select(*this).offset(n); }
  ///@}
  /// SELECT DISTINCT.
  ///@{
  Select distinct() && {
    core_.distinct = true;
    return std::move(*this);
  }
  Select distinct() const& { return Select(*this).distinct(); }
  ///@}

  /// A locking read: FOR UPDATE, or a shared lock with corm::for_share; options corm::nowait,
  /// corm::skip_locked, corm::of<T>() (SQLite writes no clause because a write transaction locks
  /// the whole database there).
  ///@{
  template <class... Opts>
  Select with_for_update(const Opts&... opts) && {
    core_.for_update.enabled = true;
    (detail::apply_for_update(core_.for_update, opts), ...);
    return std::move(*this);
  }
  template <class... Opts>
  Select with_for_update(const Opts&... opts) const& { return Select(*this).with_for_update(opts...); }
  ///@}

  /// Attaches options for whoever runs the statement — the ORM's loader options:
  /// `session.scalars(select<Author>().options(corm::selectinload(&Author::books)))`. They do not
  /// change the SQL. Why type-erased: loader options are an orm concept and the layers point
  /// downward (core <- sql <- orm), so the sql layer cannot name them; it carries them as
  /// std::any (copyable, like the statement) and the session reads back the ones it knows.
  /// is_select_option keeps anything else out at compile time.
  ///@{
  template <class... Os>
    requires(sizeof...(Os) > 0 && (is_select_option<Os>::value && ...))
  Select options(Os... o) && {
    (options_.emplace_back(std::move(o)), ...);
    return std::move(*this);
  }
  template <class... Os>
    requires(sizeof...(Os) > 0 && (is_select_option<Os>::value && ...))
  Select options(Os... o) const& { return Select(*this).options(std::move(o)...); }
  ///@}
  /// The options attached with options(), in order.
  const std::vector<std::any>& attached_options() const noexcept { return options_; }

  /// Fetch the rows `n` at a time (SQLAlchemy's `execution_options(yield_per=n)`), for large
  /// results: on PostgreSQL `scalars()` reads through a server-side cursor and builds the objects
  /// of one slice while the server produces the next (SQLite reads whole; eager loads below the
  /// query read whole). It does not change the SQL; 0 (the default) reads the result whole. Rows
  /// without the ORM: `conn.stream(statement, n, on_rows)`.
  ///@{
  Select yield_per(std::size_t n) && {
    yield_per_ = n;
    return std::move(*this);
  }
  Select yield_per(std::size_t n) const& { return Select(*this).yield_per(n); }
  ///@}
  /// The rows per fetch set with yield_per(n); 0 when unset.
  std::size_t rows_per_fetch() const noexcept { return yield_per_; }

  /// This select as a named subquery for FROM / JOIN.
  Subquery<R> subquery(std::string_view name) const { return Subquery<R>(core_ptr(), std::string(name)); }
  /// `(SELECT x ...)` as a value: needs exactly one column.
  auto scalar_subquery() const {
    static_assert(std::tuple_size_v<R> == 1, "corm: scalar_subquery() needs a select of exactly one column");
    using V = std::tuple_element_t<0, R>;
    return Expr<V>(sql::detail::make_select_node(sql::detail::NodeKind::scalar_select, sql::detail::Op::none, core_ptr()));
  }

  /// UNION / UNION ALL with another select of the same row type.
  /// Throws UsageError when either select has its own ORDER BY, LIMIT, OFFSET or FOR UPDATE.
  Compound<R> union_(const Select& other) const;
  /// UNION ALL with another select of the same row type (duplicates kept). Throws UsageError
  /// when either select has its own ORDER BY, LIMIT, OFFSET or FOR UPDATE.
  Compound<R> union_all(const Select& other) const;

  /// SQL and parameters for dialect `d` (through the compiled-SQL cache).
  Compiled compile(Dialect d) const { return sql::detail::compile(core_, d); }
  /// Reads one result row as R.
  static R decode(const Row& row) { return detail::RowDecoder<R>::decode(row); }

  /// @cond INTERNAL
  /// A shared snapshot of this statement (for subqueries).
  sql::detail::SelectPtr core_ptr() const { return std::make_shared<const sql::detail::SelectCore>(core_); }
  /// Used by corm's own layers; not part of the API.
  const sql::detail::SelectCore& core() const noexcept { return core_; }
  /// @endcond

 private:
  template <class O>
  static sql::detail::OrderTerm order_term(const O& o) {
    if constexpr (std::is_same_v<O, OrderBy>) return o.term();
    else return sql::detail::OrderTerm{o.node(), false, {}};
  }
  template <class C, class H>
  Select join_rel(H C::*rel, bool left) && {
    static_assert(Mapped<C>, "corm: join() along a relationship of an unmapped model");
    std::size_t i = detail::relationship_index_of<C>(rel);
    if (i == detail::npos) detail::throw_unmapped_member(table_name<C>());
    sql::detail::join_relationship(core_, table_info<C>(), i, left);
    return std::move(*this);
  }
  template <class P>
  Select add_join(sql::detail::FromItem item, const P& on, bool left) && {
    core_.joins.push_back(sql::detail::Join{std::move(item), on.node(), left});
    return std::move(*this);
  }

  sql::detail::SelectCore core_;
  std::vector<std::any> options_;
  std::size_t yield_per_ = 0;
};

/// SELECT all mapped columns of T (in declaration order); rows read back as T.
/// `select<A, B>()` selects both entities; rows read back as std::tuple<A, B>.
template <Mapped T, Mapped... More>
auto select() {
  sql::detail::SelectCore core;
  sql::detail::add_entity_columns(core, table_info<T>());
  (sql::detail::add_entity_columns(core, table_info<More>()), ...);
  if constexpr (sizeof...(More) == 0)
    return Select<T>(std::move(core));
  else
    return Select<std::tuple<T, More...>>(std::move(core));
}

/// SELECT these expressions; rows read back as std::tuple of their types
/// (`Select<...>::row_type`, or `row.as<...>()`).
template <class... Ts>
  requires(sizeof...(Ts) > 0)
Select<std::tuple<Ts...>> select(const Expr<Ts>&... e) {
  sql::detail::SelectCore core;
  (core.columns.push_back(e.node()), ...);
  return Select<std::tuple<Ts...>>(std::move(core));
}

/// `EXISTS (SELECT ...)`.
template <class R>
Expr<bool> exists(const Select<R>& s) {
  return Expr<bool>(sql::detail::make_select_node(sql::detail::NodeKind::exists, sql::detail::Op::exists, s.core_ptr()));
}
/// `NOT EXISTS (SELECT ...)`.
template <class R>
Expr<bool> not_exists(const Select<R>& s) {
  return Expr<bool>(sql::detail::make_select_node(sql::detail::NodeKind::exists, sql::detail::Op::not_exists, s.core_ptr()));
}

}  // namespace corm

#include "corm/sql/statement/compound.hpp"
