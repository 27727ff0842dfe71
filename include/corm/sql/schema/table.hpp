#pragma once
// corm::table: the whole mapping of one model — table name, columns, relationships and
// table-level constraints (composite/covering indexes, composite uniques, named checks).

#include <string_view>
#include <tuple>
#include <type_traits>

#include "corm/sql/schema/column.hpp"
#include "corm/sql/schema/relationship.hpp"

namespace corm {

/// An index over members of one model (see corm::index, corm::unique_index). `Include` holds the
/// covering columns: `INCLUDE (...)` on PostgreSQL, dropped on SQLite (which has no INCLUDE).
template <class Keys, class Include>
struct IndexDef {
  /// Index name.
  std::string_view name;
  /// Member pointers of the key columns, in key order.
  Keys keys;
  /// Member pointers of the covering (INCLUDE) columns.
  Include included;
  /// True for a unique index (corm::unique_index).
  bool unique = false;

  /// A covering index: these columns are stored in the index but are not part of its key.
  template <class... Ms>
  constexpr IndexDef<Keys, std::tuple<Ms...>> include(Ms... ms) const {
    return {name, keys, std::tuple<Ms...>{ms...}, unique};
  }
};

/// A (composite) index: `corm::index("ix_books_author_title", &Book::author_id, &Book::title)`.
template <class... Ms>
constexpr IndexDef<std::tuple<Ms...>, std::tuple<>> index(std::string_view name, Ms... members) {
  static_assert(sizeof...(Ms) > 0, "corm: an index needs at least one column");
  return {name, std::tuple<Ms...>{members...}, {}, false};
}

/// A unique index, like corm::index.
template <class... Ms>
constexpr IndexDef<std::tuple<Ms...>, std::tuple<>> unique_index(std::string_view name, Ms... members) {
  static_assert(sizeof...(Ms) > 0, "corm: an index needs at least one column");
  return {name, std::tuple<Ms...>{members...}, {}, true};
}

/// A (composite) UNIQUE constraint, named `uq_<table>_<col>_<col>` unless `.named("...")`.
template <class... Ms>
struct UniqueConstraintDef {
  /// Constraint name; empty means `uq_<table>_<col>_<col>`.
  std::string_view name;
  /// Member pointers of the constrained columns.
  std::tuple<Ms...> members;
  /// This constraint with name `n`.
  constexpr UniqueConstraintDef named(std::string_view n) const { return {n, members}; }
};
/// A table part: a UNIQUE constraint over several columns, `corm::unique_constraint(&Book::author_id, &Book::title)`.
template <class... Ms>
constexpr UniqueConstraintDef<Ms...> unique_constraint(Ms... members) {
  static_assert(sizeof...(Ms) > 0, "corm: a unique constraint needs at least one column");
  return {{}, std::tuple<Ms...>{members...}};
}

/// The mapping of one model (see corm::table).
template <class... Parts>
struct TableDef {
  /// Table name.
  std::string_view name;
  /// Columns, relationships and table-level constraints, in declaration order.
  std::tuple<Parts...> parts;
};

/// Declares a table: `static constexpr auto table = corm::table("books", corm::column(...), ...,
/// corm::belongs_to(...), corm::index(...));` inside `template <> struct corm::Model<Book>`.
template <class... Parts>
constexpr TableDef<Parts...> table(std::string_view name, Parts... parts) {
  return {name, std::tuple<Parts...>{parts...}};
}

}  // namespace corm
