#pragma once
// Expr<T>: a typed SQL expression whose result reads back as the C++ type T. Building one only
// allocates nodes; nothing is compiled until a statement is. Types are checked at compile time:
// an int column compares with numbers and numeric columns, never with text.

#include <concepts>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corm/core/codec.hpp"
#include "corm/core/value.hpp"
#include "corm/sql/expression/node.hpp"
#include "corm/sql/schema/column_type.hpp"

namespace corm {

template <class T>
class Expr;
class OrderBy;

namespace detail {
template <class T> struct is_expr : std::false_type {};
template <class T> struct is_expr<Expr<T>> : std::true_type {};
template <class T> inline constexpr bool is_expr_v = is_expr<std::remove_cvref_t<T>>::value;

/// The kind of value a type holds, for deciding what may be compared with what.
enum class Family : std::uint8_t { boolean, numeric, text, bytes, timestamp, date, uuid, json, other };

template <class T>
constexpr Family family_of() {
  using U = std::decay_t<unoptional_t<T>>;
  if constexpr (std::is_same_v<U, bool>) {
    return Family::boolean;
  } else if constexpr (std::is_arithmetic_v<U> || std::is_same_v<U, Decimal>) {
    return Family::numeric;
  } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
    return Family::text;
  } else if constexpr (ColumnValue<U>) {
    switch (column_type_v<U>) {
      case ColumnType::boolean: return Family::boolean;
      case ColumnType::text: return Family::text;
      case ColumnType::bytes: return Family::bytes;
      case ColumnType::timestamp: return Family::timestamp;
      case ColumnType::date: return Family::date;
      case ColumnType::uuid: return Family::uuid;
      case ColumnType::json: return Family::json;
      default: return Family::numeric;
    }
  } else {
    return Family::other;
  }
}

/// The C++ type an operand contributes: an Expr's value_type, else the literal's own type.
template <class X, bool = is_expr_v<X>>
struct operand_type { using type = std::decay_t<X>; };
template <class X>
struct operand_type<X, true> { using type = typename std::remove_cvref_t<X>::value_type; };
template <class X>
using operand_t = typename operand_type<X>::type;

/// A C++ value corm can bind as a parameter (text-like values bind as text).
template <class V>
concept Bindable = !is_expr_v<V> && (std::is_convertible_v<const V&, std::string_view> ||
                                     Encodable<std::decay_t<V>>);

template <class V>
Value bind_value(const V& v) {
  if constexpr (std::is_convertible_v<const V&, std::string_view>)
    return Value(std::string_view(v));
  else
    return to_value(v);
}

template <class X>
sql::detail::NodePtr operand(const X& x) {
  if constexpr (is_expr_v<X>)
    return x.node();
  else
    return sql::detail::make_bind(bind_value(x));
}
}  // namespace detail

/// Two C++ types whose SQL values may be compared: same family (numbers with numbers, text
/// with text, ...) or the same type (user types with a Codec).
template <class A, class B>
concept Comparable =
    (detail::family_of<A>() != detail::Family::other && detail::family_of<A>() == detail::family_of<B>()) ||
    std::same_as<std::decay_t<unoptional_t<A>>, std::decay_t<unoptional_t<B>>>;

/// An operand of an expression: an Expr, or a value bound as a parameter.
template <class X>
concept Operand = detail::is_expr_v<X> || detail::Bindable<X>;

namespace detail {
// A bool, not the concept, so a failed static_assert prints the message without a second,
// longer explanation of the concept's clauses.
template <class A, class B>
inline constexpr bool comparable_v = Comparable<A, B>;
}  // namespace detail

// The operators below accept any operand next to an Expr and reject a wrong one with a
// static_assert: a failed requires-clause makes GCC list every operator== in scope (hundreds of
// lines) before corm's reason, while a static_assert puts the reason first.
#define CORM_DETAIL_CHECK_OPERAND(X)                                                              \
  static_assert(::corm::Operand<X>,                                                               \
                "corm: this operand is neither a corm::Expr nor a value corm can bind as a "     \
                "parameter; use a column value type (numbers, text, Decimal, Timestamp, ...) or " \
                "give the type a corm::Codec")
#define CORM_DETAIL_CHECK_COMPARABLE(A, B)                                                        \
  static_assert(::corm::detail::comparable_v<A, B>,                                               \
                "corm: these operands hold different kinds of SQL value (text vs number, number " \
                "vs timestamp, ...; the 'In instantiation of' line above names both types). "     \
                "Compare with a value of the column's own kind, or convert one side, e.g. "       \
                "std::to_string(n) or corm::col(&Book::pages).cast<std::string>()")

#define CORM_DETAIL_CHECK_TEXT(T)                                                                 \
  static_assert(::corm::detail::family_of<T>() == ::corm::detail::Family::text,                   \
                "corm: like() / ilike() / contains() / startswith() / endswith() match text "     \
                "columns only; compare numbers and times with == < between() instead, or "        \
                "match the text form: corm::col(&Book::pages).cast<std::string>().like(...)")

/// A statement usable as a subquery (Select<R>).
template <class S>
concept SubqueryLike = requires(const S& s) {
  typename S::row_type;
  { s.core_ptr() } -> std::convertible_to<sql::detail::SelectPtr>;
};

/// A typed SQL expression. Make one with corm::col, corm::count, ...; combine with operators.
template <class T>
class Expr {
 public:
  /// The C++ type the expression yields (std::optional for a nullable one).
  using value_type = T;

  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit Expr(sql::detail::NodePtr n) : node_(std::move(n)) {}
  /// @endcond
  /// The node this expression stands for.
  const sql::detail::NodePtr& node() const noexcept { return node_; }

  /// `x IN (list)` with the list bound as ONE parameter, so the SQL text is the same for any
  /// length (PostgreSQL `= ANY($1)`, SQLite `IN (SELECT value FROM json_each(?1))`).
  ///@{
  template <class V>
  Expr<bool> in_(std::initializer_list<V> values) const {
    return in_list(values, sql::detail::Op::in);
  }
  template <std::ranges::input_range R>
    requires(!SubqueryLike<R>)
  Expr<bool> in_(const R& values) const {
    return in_list(values, sql::detail::Op::in);
  }
  ///@}
  /// `x IN (SELECT ...)`.
  template <SubqueryLike S>
  Expr<bool> in_(const S& sub) const {
    return Expr<bool>(sql::detail::make_select_node(sql::detail::NodeKind::in_select, sql::detail::Op::in,
                                                    sub.core_ptr(), node_));
  }
  /// NOT IN, as in_.
  ///@{
  template <class V>
  Expr<bool> not_in(std::initializer_list<V> values) const {
    return in_list(values, sql::detail::Op::not_in);
  }
  template <std::ranges::input_range R>
    requires(!SubqueryLike<R>)
  Expr<bool> not_in(const R& values) const {
    return in_list(values, sql::detail::Op::not_in);
  }
  template <SubqueryLike S>
  Expr<bool> not_in(const S& sub) const {
    return Expr<bool>(sql::detail::make_select_node(sql::detail::NodeKind::in_select, sql::detail::Op::not_in,
                                                    sub.core_ptr(), node_));
  }
  ///@}

  /// `x LIKE pattern` — the pattern is bound as-is (its % and _ are wildcards). SQLite's LIKE is
  /// case-insensitive for ASCII; PostgreSQL's is case-sensitive.
  Expr<bool> like(std::string_view pattern) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::like, Value(pattern), false);
  }
  /// `x NOT LIKE pattern`, the pattern bound as-is (see like()).
  Expr<bool> not_like(std::string_view pattern) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::not_like, Value(pattern), false);
  }
  /// Case-insensitive LIKE: ILIKE on PostgreSQL, LIKE on SQLite (already case-insensitive for ASCII).
  /// On MySQL: `LOWER(x) LIKE LOWER(pattern)`.
  Expr<bool> ilike(std::string_view pattern) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::ilike, Value(pattern), false);
  }
  /// Case-insensitive NOT LIKE (see ilike()).
  Expr<bool> not_ilike(std::string_view pattern) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::not_ilike, Value(pattern), false);
  }
  /// `x LIKE $1 ESCAPE '\'` with $1 = '%' + s + '%' where s's %, _ and backslash are escaped:
  /// `s` matches literally, so user input is safe here. Use these, not like(), for search boxes.
  Expr<bool> contains(std::string_view s) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::like, Value("%" + escape_like(s) + "%"), true);
  }
  /// Text that starts with `s` (`s` matches literally, as in contains()).
  Expr<bool> startswith(std::string_view s) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::like, Value(escape_like(s) + "%"), true);
  }
  /// Text that ends with `s` (`s` matches literally, as in contains()).
  Expr<bool> endswith(std::string_view s) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::like, Value("%" + escape_like(s)), true);
  }
  /// Case-insensitive contains (ILIKE on PostgreSQL).
  Expr<bool> icontains(std::string_view s) const {
    CORM_DETAIL_CHECK_TEXT(T);
    return like_node(sql::detail::Op::ilike, Value("%" + escape_like(s) + "%"), true);
  }

  /// `x BETWEEN lo AND hi` (inclusive).
  template <class A, class B>
  Expr<bool> between(const A& lo, const B& hi) const {
    CORM_DETAIL_CHECK_OPERAND(A);
    CORM_DETAIL_CHECK_OPERAND(B);
    CORM_DETAIL_CHECK_COMPARABLE(T, detail::operand_t<A>);
    CORM_DETAIL_CHECK_COMPARABLE(T, detail::operand_t<B>);
    return Expr<bool>(sql::detail::make_node(sql::detail::NodeKind::between, sql::detail::Op::between,
                                             {node_, detail::operand(lo), detail::operand(hi)}));
  }
  /// `x IS NULL`.
  Expr<bool> is_null() const {
    return Expr<bool>(sql::detail::make_node(sql::detail::NodeKind::is_null, sql::detail::Op::is_null, {node_}));
  }
  /// `x IS NOT NULL`.
  Expr<bool> is_not_null() const {
    return Expr<bool>(sql::detail::make_node(sql::detail::NodeKind::is_null, sql::detail::Op::is_not_null, {node_}));
  }
  /// `CAST(x AS <U's type>)`; NULL stays NULL, so the result is optional when T is.
  template <ColumnValue U>
  auto cast() const {
    using R = std::conditional_t<is_optional_v<T> && !is_optional_v<U>, std::optional<U>, U>;
    return Expr<R>(sql::detail::make_cast(node_, column_type_v<U>));
  }
  /// Names the expression in a select list or RETURNING (`x AS "name"`); ignored elsewhere.
  Expr label(std::string_view name) const { return Expr(sql::detail::make_label(node_, name)); }

  /// Ascending / descending order (see corm::asc, corm::desc).
  OrderBy asc() const;
  /// Descending order (see corm::desc).
  OrderBy desc() const;

  /// Escapes %, _ and \ so `s` matches literally in a LIKE pattern with ESCAPE '\'.
  static std::string escape_like(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 4);
    for (char c : s) {
      if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }

 private:
  template <class R>
  Expr<bool> in_list(const R& values, sql::detail::Op op) const {
    using V = std::ranges::range_value_t<R>;
    static_assert(detail::Bindable<V>,
                  "corm: in_() / not_in() take values corm can bind (numbers, text, Decimal, "
                  "Timestamp, ...); for a column or expression list write (a == x) || (a == y)");
    CORM_DETAIL_CHECK_COMPARABLE(T, V);
    std::vector<Value> items;
    for (const auto& v : values) items.push_back(detail::bind_value(v));
    return Expr<bool>(sql::detail::make_node(sql::detail::NodeKind::in_list, op,
                                             {node_, sql::detail::make_list_bind(std::move(items))}));
  }
  Expr<bool> like_node(sql::detail::Op op, Value pattern, bool escape) const {
    return Expr<bool>(sql::detail::make_node(sql::detail::NodeKind::like, op,
                                             {node_, sql::detail::make_bind(std::move(pattern))}, escape));
  }

  sql::detail::NodePtr node_;
};

/// A predicate: an expression of boolean family (`where`, `having`, join conditions).
template <class E>
concept Predicate = detail::is_expr_v<E> && detail::family_of<typename std::remove_cvref_t<E>::value_type>() ==
                                                detail::Family::boolean;

// Comparisons: at least one side is an Expr; both sides of the same family.
#define CORM_SQL_COMPARISON(OPSYM, OPCODE)                                                          \
  template <class L, class R>                                                                       \
    requires(detail::is_expr_v<L> || detail::is_expr_v<R>)                                          \
  Expr<bool> operator OPSYM(const L& l, const R& r) {                                               \
    CORM_DETAIL_CHECK_OPERAND(L);                                                                   \
    CORM_DETAIL_CHECK_OPERAND(R);                                                                   \
    CORM_DETAIL_CHECK_COMPARABLE(detail::operand_t<L>, detail::operand_t<R>);                       \
    return Expr<bool>(sql::detail::make_binary(sql::detail::Op::OPCODE, detail::operand(l),         \
                                               detail::operand(r)));                                \
  }
/// `l = r` in SQL (one side an Expr, the other an Expr or a value of a comparable type).
CORM_SQL_COMPARISON(==, eq)
/// `l <> r` in SQL.
CORM_SQL_COMPARISON(!=, ne)
/// `l < r` in SQL.
CORM_SQL_COMPARISON(<, lt)
/// `l <= r` in SQL.
CORM_SQL_COMPARISON(<=, le)
/// `l > r` in SQL.
CORM_SQL_COMPARISON(>, gt)
/// `l >= r` in SQL.
CORM_SQL_COMPARISON(>=, ge)
#undef CORM_SQL_COMPARISON

/// Logical AND / OR of two predicates.
template <Predicate L, Predicate R>
Expr<bool> operator&&(const L& l, const R& r) {
  return Expr<bool>(sql::detail::make_binary(sql::detail::Op::and_, l.node(), r.node()));
}
/// Logical OR of two predicates.
template <Predicate L, Predicate R>
Expr<bool> operator||(const L& l, const R& r) {
  return Expr<bool>(sql::detail::make_binary(sql::detail::Op::or_, l.node(), r.node()));
}
/// Logical NOT.
template <Predicate E>
Expr<bool> operator!(const E& e) {
  return Expr<bool>(sql::detail::make_unary(sql::detail::Op::not_, e.node()));
}

#define CORM_DETAIL_CHECK_NUMERIC(L, R)                                                           \
  static_assert(::corm::detail::family_of<::corm::detail::operand_t<L>>() ==                      \
                        ::corm::detail::Family::numeric &&                                        \
                    ::corm::detail::family_of<::corm::detail::operand_t<R>>() ==                  \
                        ::corm::detail::Family::numeric,                                          \
                "corm: + - * / work on numbers (integers, floating point, Decimal) only; for "    \
                "text use corm::func<std::string>(\"concat\", ...), for times compare instead")

namespace detail {
template <class L, class R>
using arithmetic_result_t = std::conditional_t<is_expr_v<L>, operand_t<L>, operand_t<R>>;
}

// Arithmetic on numbers: the result has the Expr operand's type (the left one when both are).
#define CORM_SQL_ARITHMETIC(OPSYM, OPCODE)                                                          \
  template <class L, class R>                                                                       \
    requires(detail::is_expr_v<L> || detail::is_expr_v<R>)                                          \
  Expr<detail::arithmetic_result_t<L, R>> operator OPSYM(const L& l, const R& r) {                  \
    CORM_DETAIL_CHECK_OPERAND(L);                                                                   \
    CORM_DETAIL_CHECK_OPERAND(R);                                                                   \
    CORM_DETAIL_CHECK_NUMERIC(L, R);                                                                \
    return Expr<detail::arithmetic_result_t<L, R>>(                                                 \
        sql::detail::make_binary(sql::detail::Op::OPCODE, detail::operand(l), detail::operand(r))); \
  }
/// `l + r` on numbers; the result has the Expr operand's type.
CORM_SQL_ARITHMETIC(+, add)
/// `l - r` on numbers.
CORM_SQL_ARITHMETIC(-, sub)
/// `l * r` on numbers.
CORM_SQL_ARITHMETIC(*, mul)
#undef CORM_SQL_ARITHMETIC

namespace detail {
template <class T>
inline constexpr bool is_integer_v = std::is_integral_v<std::decay_t<unoptional_t<T>>> &&
                                     !std::is_same_v<std::decay_t<unoptional_t<T>>, bool>;
}

/// Division. Integers divide as integers (truncating) on every database: the node is flagged so
/// MySQL, whose `/` always yields a decimal, writes DIV.
template <class L, class R>
  requires(detail::is_expr_v<L> || detail::is_expr_v<R>)
Expr<detail::arithmetic_result_t<L, R>> operator/(const L& l, const R& r) {
  CORM_DETAIL_CHECK_OPERAND(L);
  CORM_DETAIL_CHECK_OPERAND(R);
  CORM_DETAIL_CHECK_NUMERIC(L, R);
  constexpr bool integer = detail::is_integer_v<detail::operand_t<L>> && detail::is_integer_v<detail::operand_t<R>>;
  return Expr<detail::arithmetic_result_t<L, R>>(sql::detail::make_node(
      sql::detail::NodeKind::binary, sql::detail::Op::div, {detail::operand(l), detail::operand(r)}, integer));
}

/// Negation of a number.
template <class T>
Expr<T> operator-(const Expr<T>& e) {
  static_assert(detail::family_of<T>() == detail::Family::numeric,
                "corm: unary - negates numbers (integers, floating point, Decimal) only; this "
                "expression holds another kind of value (the 'In instantiation of' line above "
                "names it)");
  return Expr<T>(sql::detail::make_unary(sql::detail::Op::neg, e.node()));
}

/// The same expression read back as optional: for columns of the outer side of a LEFT JOIN,
/// which are NULL where nothing matched even when the column itself is NOT NULL.
template <class T>
Expr<std::optional<unoptional_t<T>>> nullable(const Expr<T>& e) {
  return Expr<std::optional<unoptional_t<T>>>(e.node());
}

/// `CAST(e AS <U's type>)`.
template <ColumnValue U, class T>
auto cast(const Expr<T>& e) {
  return e.template cast<U>();
}

}  // namespace corm
