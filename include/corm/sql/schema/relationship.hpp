#pragma once
// Relationship declarations: belongs_to (many-to-one), has_many (one-to-many), has_one
// (one-to-one) and many_to_many (through a mapped association model). The sql layer uses them
// to infer join conditions; the session reads the loader strategy and cascades stored here.

#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "corm/sql/schema/column_type.hpp"
#include "corm/sql/schema/many.hpp"
#include "corm/sql/schema/one.hpp"

namespace corm {

/// The shape of a relationship.
enum class RelationshipKind : std::uint8_t { many_to_one, one_to_many, one_to_one, many_to_many };

/// How a relationship is loaded when a query does not say (SQLAlchemy's `lazy=`).
enum class LoaderStrategy : std::uint8_t { lazy, selectin, joined, subquery, raise, noload };

/// "lazy", "selectin", ...
std::string_view loader_strategy_name(LoaderStrategy s) noexcept;

/// Cascade flags (SQLAlchemy's `cascade=`): what happens to related objects when the parent is
/// added, deleted, or loses them. Combine with `|`.
enum class Cascade : std::uint8_t { none = 0, save_update = 1, delete_ = 2, delete_orphan = 4 };
/// The flags of `a` and of `b` together.
constexpr Cascade operator|(Cascade a, Cascade b) {
  return static_cast<Cascade>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
/// True when every flag of `b` is set in `a`.
constexpr bool has_cascade(Cascade a, Cascade b) {
  return (static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b)) == static_cast<std::uint8_t>(b);
}
/// save-update + delete + delete-orphan: children live and die with their parent.
inline constexpr Cascade cascade_all_delete_orphan = Cascade::save_update | Cascade::delete_ | Cascade::delete_orphan;

/// Relationship option: default loader strategy (default: lazy).
struct LoaderOption { LoaderStrategy strategy; };
/// @var LoaderOption::strategy
/// The strategy used when a query gives no load option for this relationship.

/// Relationship option: load with strategy `s` unless a query says otherwise.
constexpr LoaderOption loader(LoaderStrategy s) { return {s}; }
/// Relationship option: cascades (default: save_update).
struct CascadeOption { Cascade flags; };
/// @var CascadeOption::flags
/// The cascade flags, combined with `|`.

/// Relationship option: cascade flags `c` (`corm::Cascade::save_update | corm::Cascade::delete_`).
constexpr CascadeOption cascade(Cascade c) { return {c}; }
/// Relationship option: the name of the inverse relationship on the target, kept in sync by the
/// session when one side is assigned.
struct BackPopulatesOption { std::string_view name; };
/// @var BackPopulatesOption::name
/// Name of the inverse relationship on the target model.

/// Relationship option: `n` is the inverse relationship's name on the target.
constexpr BackPopulatesOption back_populates(std::string_view n) { return {n}; }

/// The two association-table columns of a many-to-many: the one referring to the owner and
/// the one referring to the target.
template <class A, class MSelf, class MTarget>
struct ThroughLink {
  /// The association model's member that refers to the owner.
  MSelf A::*self;
  /// The association model's member that refers to the target.
  MTarget A::*target;
};

/// A relationship declaration (see belongs_to, has_many, has_one, many_to_many).
/// `Link` is the foreign-key member (on C for many_to_one, on Target otherwise) or ThroughLink.
template <RelationshipKind K, class C, class Target, class Holder, class Link, class... Opts>
struct RelationshipDef {
  /// The relationship's shape.
  static constexpr RelationshipKind kind = K;
  /// The model that declares the relationship.
  using class_type = C;
  /// The related model.
  using target_type = Target;
  /// The holder member's type: `One<Target>` or `Many<Target>`.
  using holder_type = Holder;
  /// The relationship's name (unique among the model's columns and relationships).
  std::string_view name;
  /// Pointer to the One/Many member that holds the related object(s).
  Holder C::*holder;
  /// The foreign-key member pointer, or a ThroughLink for many_to_many.
  Link link;
  /// The relationship options given (loader, cascade, back_populates).
  std::tuple<Opts...> options;
};

namespace detail {
template <class O>
constexpr void check_relationship_option() {
  static_assert(std::is_same_v<O, LoaderOption> || std::is_same_v<O, CascadeOption> ||
                    std::is_same_v<O, BackPopulatesOption>,
                "corm: not a relationship option (loader, cascade, back_populates)");
}
}  // namespace detail

/// Many-to-one: `corm::belongs_to("author", &Book::author, &Book::author_id)`. The foreign key
/// is on this model and refers to the target's primary key (or to what its `references` names).
template <class C, class T, class FkM, class... Opts>
constexpr auto belongs_to(std::string_view name, One<T> C::*holder, FkM C::*fk, Opts... opts) {
  (detail::check_relationship_option<Opts>(), ...);
  return RelationshipDef<RelationshipKind::many_to_one, C, T, One<T>, FkM C::*, Opts...>{
      name, holder, fk, {opts...}};
}

/// One-to-many: `corm::has_many("books", &Author::books, &Book::author_id)`. The foreign key is
/// on the target model.
template <class C, class T, class FkM, class... Opts>
constexpr auto has_many(std::string_view name, Many<T> C::*holder, FkM T::*fk, Opts... opts) {
  (detail::check_relationship_option<Opts>(), ...);
  return RelationshipDef<RelationshipKind::one_to_many, C, T, Many<T>, FkM T::*, Opts...>{
      name, holder, fk, {opts...}};
}

/// One-to-one from the side without the foreign key: `corm::has_one("profile",
/// &Author::profile, &Profile::author_id)` (the other side uses belongs_to).
template <class C, class T, class FkM, class... Opts>
constexpr auto has_one(std::string_view name, One<T> C::*holder, FkM T::*fk, Opts... opts) {
  (detail::check_relationship_option<Opts>(), ...);
  return RelationshipDef<RelationshipKind::one_to_one, C, T, One<T>, FkM T::*, Opts...>{
      name, holder, fk, {opts...}};
}

/// Many-to-many through a mapped association model A: `corm::many_to_many("tags", &Book::tags,
/// &BookTag::book_id, &BookTag::tag_id)` — the first member refers to this model, the second to
/// the target.
template <class C, class T, class A, class M1, class M2, class... Opts>
constexpr auto many_to_many(std::string_view name, Many<T> C::*holder, M1 A::*self, M2 A::*target,
                            Opts... opts) {
  (detail::check_relationship_option<Opts>(), ...);
  return RelationshipDef<RelationshipKind::many_to_many, C, T, Many<T>, ThroughLink<A, M1, M2>, Opts...>{
      name, holder, ThroughLink<A, M1, M2>{self, target}, {opts...}};
}

}  // namespace corm
