#pragma once
// SQL functions: aggregates (count, sum, min, max, avg), scalar functions (lower, upper,
// coalesce, now) and func<T>("name", ...) for any other function — its name is validated as an
// identifier, never spliced raw.

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "corm/sql/expression/expr.hpp"

namespace corm {

/// `count(*)`.
inline Expr<std::int64_t> count() {
  return Expr<std::int64_t>(sql::detail::make_node(sql::detail::NodeKind::count_star, sql::detail::Op::none, {}));
}
/// `count(x)`: rows where x is not NULL.
template <class T>
Expr<std::int64_t> count(const Expr<T>& e) {
  return Expr<std::int64_t>(sql::detail::make_func("count", {e.node()}));
}
/// `count(DISTINCT x)`.
template <class T>
Expr<std::int64_t> count_distinct(const Expr<T>& e) {
  auto n = sql::detail::make_func("count", {e.node()});
  auto m = std::make_shared<sql::detail::Node>(*n);
  m->op = sql::detail::Op::distinct_count;
  return Expr<std::int64_t>(std::move(m));
}

namespace detail {
template <class T>
using sum_t = std::conditional_t<std::is_integral_v<unoptional_t<T>>, std::int64_t,
                                 std::conditional_t<std::is_floating_point_v<unoptional_t<T>>, double, unoptional_t<T>>>;
}

/// `sum(x)`: NULL over no rows, so optional. Integers sum as int64, floats as double.
template <class T>
  requires(detail::family_of<T>() == detail::Family::numeric)
Expr<std::optional<detail::sum_t<T>>> sum(const Expr<T>& e) {
  return Expr<std::optional<detail::sum_t<T>>>(sql::detail::make_func("sum", {e.node()}));
}
/// `avg(x)` as double (NULL over no rows).
template <class T>
  requires(detail::family_of<T>() == detail::Family::numeric)
Expr<std::optional<double>> avg(const Expr<T>& e) {
  return Expr<std::optional<double>>(sql::detail::make_func("avg", {e.node()}));
}
/// `min(x)` / `max(x)` (NULL over no rows).
template <class T>
Expr<std::optional<unoptional_t<T>>> min(const Expr<T>& e) {
  return Expr<std::optional<unoptional_t<T>>>(sql::detail::make_func("min", {e.node()}));
}
/// `max(x)` (NULL over no rows).
template <class T>
Expr<std::optional<unoptional_t<T>>> max(const Expr<T>& e) {
  return Expr<std::optional<unoptional_t<T>>>(sql::detail::make_func("max", {e.node()}));
}
/// `lower(x)` / `upper(x)` for text.
template <class T>
  requires(detail::family_of<T>() == detail::Family::text)
Expr<T> lower(const Expr<T>& e) {
  return Expr<T>(sql::detail::make_func("lower", {e.node()}));
}
/// `upper(x)` for text.
template <class T>
  requires(detail::family_of<T>() == detail::Family::text)
Expr<T> upper(const Expr<T>& e) {
  return Expr<T>(sql::detail::make_func("upper", {e.node()}));
}

/// `coalesce(x, y, ...)`: the first non-NULL argument. Non-optional when any fallback is.
template <class T, class... Rest>
  requires(sizeof...(Rest) > 0)
auto coalesce(const Expr<T>& first, const Rest&... rest) {
  // static_asserts, not constraints: the reason then comes first in GCC's output.
  static_assert((Operand<Rest> && ...),
                "corm: a coalesce() fallback is neither a corm::Expr nor a value corm can bind as a "
                "parameter");
  static_assert((detail::comparable_v<T, detail::operand_t<Rest>> && ...),
                "corm: coalesce() falls back to values of its first argument's kind (text for a "
                "text column, a number for a number column, ...); the 'In instantiation of' line "
                "above names the types. Pass a fallback of that kind, or cast one side");
  constexpr bool nullable = (is_optional_v<detail::operand_t<Rest>> && ...);
  using R = std::conditional_t<nullable, T, unoptional_t<T>>;
  return Expr<R>(sql::detail::make_func("coalesce", {first.node(), detail::operand(rest)...}));
}

/// The current transaction's timestamp: CURRENT_TIMESTAMP on both dialects (whole seconds,
/// as text, on SQLite).
inline Expr<Timestamp> now() {
  return Expr<Timestamp>(sql::detail::make_node(sql::detail::NodeKind::now, sql::detail::Op::none, {}));
}

/// Any SQL function returning T: `corm::func<std::int64_t>("length", col(&Book::title))`.
/// `name` must be an identifier (letters, digits, _; optionally `schema.name`); anything else
/// throws ConfigError, so the name can never carry SQL.
template <class T, Operand... Args>
Expr<T> func(std::string_view name, const Args&... args) {
  return Expr<T>(sql::detail::make_func(name, {detail::operand(args)...}));
}

}  // namespace corm
