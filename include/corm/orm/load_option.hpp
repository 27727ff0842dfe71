#pragma once
// Loader options for session queries: corm::selectinload, joinedload, raiseload, noload,
// lazyload, and chains of them (`selectinload(&Author::books).selectinload(&Book::reviews)`).
// Attach them to the statement (`session.scalars(select<Author>().options(selectinload(&Author::books)))`)
// or pass them after it (`session.scalars(select<Author>(), selectinload(&Author::books))`).
// An option is a path of (relationship, strategy) links starting at the queried entity.

#include <any>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "corm/orm/detail/entity_ops.hpp"
#include "corm/sql/statement/select.hpp"

namespace corm {

namespace orm {
/// A primary-key argument of get() as a bind value (text-like keys bind as text).
template <class K>
Value key_value(const K& k) {
  if constexpr (std::is_convertible_v<const K&, std::string_view>) return Value(std::string_view(k));
  else return to_value(k);
}

namespace detail {
template <class K> struct is_key_tuple : std::false_type {};
template <class... E> struct is_key_tuple<std::tuple<E...>> : std::true_type {};
template <class A, class B> struct is_key_tuple<std::pair<A, B>> : std::true_type {};
}  // namespace detail

/// The primary-key arguments of get() as bind values: one value per key column, given one by
/// one, or as a single std::tuple / std::pair / std::vector<Value>.
template <class... K>
std::vector<Value> key_values(const K&... k) {
  if constexpr (sizeof...(K) == 1) {
    using K0 = std::remove_cvref_t<std::tuple_element_t<0, std::tuple<K...>>>;
    if constexpr (std::is_same_v<K0, std::vector<Value>>) {
      return (k, ...);
    } else if constexpr (detail::is_key_tuple<K0>::value) {
      return std::apply([](const auto&... e) { return std::vector<Value>{key_value(e)...}; }, (k, ...));
    } else {
      return std::vector<Value>{key_value(k)...};
    }
  } else {
    return std::vector<Value>{key_value(k)...};
  }
}
}  // namespace orm

/// A loader path: each link names one relationship and how to load it.
class LoadOption {
 public:
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  struct Link {
    const orm::EntityOps* owner = nullptr;
    std::size_t relationship = 0;
    LoaderStrategy strategy = LoaderStrategy::lazy;
  };
  /// @endcond

  /// Then, for the objects this link loads, load relationship `rel` with selectin.
  template <class C, class H>
  LoadOption selectinload(H C::*rel) const { return then(rel, LoaderStrategy::selectin); }
  /// Then load `rel` with a LEFT OUTER JOIN in the query of the previous level.
  template <class C, class H>
  LoadOption joinedload(H C::*rel) const { return then(rel, LoaderStrategy::joined); }
  /// Then load `rel` with subqueryload: the query that loaded this level is embedded again.
  template <class C, class H>
  LoadOption subqueryload(H C::*rel) const { return then(rel, LoaderStrategy::subquery); }
  /// Then load `rel` on access (sync) / refuse with LazyLoadError (async).
  template <class C, class H>
  LoadOption lazyload(H C::*rel) const { return then(rel, LoaderStrategy::lazy); }
  /// Then make reading `rel` throw RaiseLoadError.
  template <class C, class H>
  LoadOption raiseload(H C::*rel) const { return then(rel, LoaderStrategy::raise); }
  /// Then leave `rel` empty (no query).
  template <class C, class H>
  LoadOption noload(H C::*rel) const { return then(rel, LoaderStrategy::noload); }

  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  const std::vector<Link>& path() const noexcept { return path_; }
  /// @endcond

  /// A one-link option that loads `rel` with strategy `s` (what corm::selectinload and the other
  /// free functions return).
  template <class C, class H>
  static LoadOption make(H C::*rel, LoaderStrategy s) { return LoadOption().then(rel, s); }

 private:
  template <class C, class H>
  LoadOption then(H C::*rel, LoaderStrategy s) const {
    std::size_t i = detail::relationship_index_of<C>(rel);
    if (i == detail::npos) detail::throw_unmapped_member(table_name<C>());
    LoadOption o = *this;
    o.path_.push_back(Link{&orm::entity_ops<C>(), i, s});
    return o;
  }
  std::vector<Link> path_;
};

/// Loader options may ride on a Select (`select<Author>().options(selectinload(...))`).
template <>
struct is_select_option<LoadOption> : std::true_type {};

namespace orm {
/// The loader options attached to `stmt` followed by `extra` (the variadic form of scalars()).
/// Options of other layers riding on the statement are not the session's business: skipped.
template <class R, class... Opts>
std::vector<LoadOption> load_options_of(const Select<R>& stmt, const Opts&... extra) {
  std::vector<LoadOption> out;
  out.reserve(stmt.attached_options().size() + sizeof...(Opts));
  for (const std::any& a : stmt.attached_options())
    if (const auto* o = std::any_cast<LoadOption>(&a)) out.push_back(*o);
  (out.emplace_back(extra), ...);
  return out;
}
}  // namespace orm

/// Load `rel` of the queried objects with one extra SELECT ... WHERE fk IN (keys) per level.
template <class C, class H>
LoadOption selectinload(H C::*rel) { return LoadOption::make(rel, LoaderStrategy::selectin); }
/// Load `rel` in the same query with a LEFT OUTER JOIN (rows de-duplicated). A joined collection
/// with LIMIT/OFFSET is refused (UsageError): the limit would count joined rows.
template <class C, class H>
LoadOption joinedload(H C::*rel) { return LoadOption::make(rel, LoaderStrategy::joined); }
/// Load `rel` of the queried objects with one extra SELECT whose WHERE embeds the original query
/// as `fk IN (SELECT key FROM ... original filter ...)` (SQLAlchemy's subqueryload): no key list
/// travels, the database re-runs the filter. At deeper levels the embedded query is the one that
/// loaded the level above (which embeds its own parents' query, and so on).
template <class C, class H>
LoadOption subqueryload(H C::*rel) { return LoadOption::make(rel, LoaderStrategy::subquery); }
/// Load `rel` when it is first read (sync Session only; AsyncSession raises LazyLoadError).
template <class C, class H>
LoadOption lazyload(H C::*rel) { return LoadOption::make(rel, LoaderStrategy::lazy); }
/// Reading `rel` before something loaded it throws RaiseLoadError: guards against N+1.
template <class C, class H>
LoadOption raiseload(H C::*rel) { return LoadOption::make(rel, LoaderStrategy::raise); }
/// `rel` reads as empty / null and is never loaded.
template <class C, class H>
LoadOption noload(H C::*rel) { return LoadOption::make(rel, LoaderStrategy::noload); }

}  // namespace corm
