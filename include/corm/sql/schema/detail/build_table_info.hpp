#pragma once
// How table_info<T>() turns the constexpr mapping into a TableInfo. Cross-model facts (the
// table a foreign key refers to, a relationship's key columns) are computed from the other
// model's constexpr mapping, never from its TableInfo, so building one model's TableInfo never
// builds another's: mutually referring models cannot recurse into each other's static init.

#include "corm/sql/schema/table_info.hpp"

namespace corm {
namespace detail {
[[noreturn]] void throw_unmapped_member(std::string_view table);
/// Inside a catch of DataError raised while hydrating `table`.`column`: rethrows it naming the
/// mapped column as table.column (the result column alone may be ambiguous or aliased).
[[noreturn]] void rethrow_column_decode_error(std::string_view table, std::string_view column);

template <class P> struct is_index_def : std::false_type {};
template <class K, class I> struct is_index_def<IndexDef<K, I>> : std::true_type {};
template <class P> struct is_unique_def : std::false_type {};
template <class... M> struct is_unique_def<UniqueConstraintDef<M...>> : std::true_type {};

template <class MP> struct member_class;
template <class C, class M> struct member_class<M C::*> { using type = C; using member = M; };

/// Name of T's column with ordinal `i`.
template <Mapped T>
constexpr std::string_view column_name_at(std::size_t i) {
  std::size_t n = 0;
  std::string_view out;
  for_each_part<T>([&](const auto& p, auto) {
    using P = std::remove_cvref_t<decltype(p)>;
    if constexpr (is_column_def<P>::value) {
      if (n == i) out = p.name;
      ++n;
    }
  });
  return out;
}

/// Fills derived fields (back pointers, constraint names, foreign-key list) and validates the
/// mapping; ConfigError on a duplicate column name or two version columns. Returns `info`.
const TableInfo* finish_table_info(TableInfo* info);

template <Mapped T, std::size_t I>
constexpr const auto& part() {
  return std::get<I>(Model<T>::table.parts);
}

template <class O> struct is_loader_option : std::is_same<O, LoaderOption> {};

/// Ordinal in Target of the column that `fk` (a member of C) refers to: its `references`
/// target when it names a Target member, else Target's single primary key.
template <Mapped C, Mapped Target, class M>
constexpr std::size_t referenced_index(M C::*fk) {
  std::size_t found = npos;
  for_each_part<C>([&](const auto& p, auto) {
    using P = std::remove_cvref_t<decltype(p)>;
    if constexpr (is_column_def<P>::value) {
      if constexpr (std::is_same_v<typename P::member_type, M>) {
        if (p.member == fk) {
          std::apply([&](const auto&... o) {
            ([&] {
              using O = std::remove_cvref_t<decltype(o)>;
              if constexpr (is_references<O>::value) {
                if constexpr (requires { column_index_of<Target>(o.member); })
                  found = column_index_of<Target>(o.member);
              }
            }(), ...);
          }, p.options);
        }
      }
    }
  });
  return found != npos ? found : single_pk_index<Target>();
}

template <Mapped T, std::size_t I>
Value column_get(const void* obj) {
  return to_value(static_cast<const T*>(obj)->*(part<T, I>().member));
}

template <Mapped T, std::size_t I>
void column_set(void* obj, const Row& row, std::size_t col) {
  using M = typename std::remove_cvref_t<decltype(part<T, I>())>::member_type;
  // The handler costs nothing until a cell fails to decode; only then is a message built.
  try {
    static_cast<T*>(obj)->*(part<T, I>().member) = row.template get<M>(col);
  } catch (const DataError&) {
    rethrow_column_decode_error(Model<T>::table.name, part<T, I>().name);
  }
}

template <Mapped T, std::size_t I>
void column_set_cell(void* obj, const Cell& cell) {
  using M = typename std::remove_cvref_t<decltype(part<T, I>())>::member_type;
  M& member = static_cast<T*>(obj)->*(part<T, I>().member);
  // In place where the codec can (a string keeps its buffer: no temporary to move from).
  if constexpr (requires { Codec<M>::decode_into(cell, member); }) Codec<M>::decode_into(cell, member);
  else member = Codec<M>::decode(cell);
}

// What column_get() reads from the member right after column_set() wrote it from the same cell.
template <Mapped T, std::size_t I>
Value column_value_from_row(const Row& row, std::size_t col) {
  using M = typename std::remove_cvref_t<decltype(part<T, I>())>::member_type;
  try {
    return to_value(row.template get<M>(col));
  } catch (const DataError&) {
    rethrow_column_decode_error(Model<T>::table.name, part<T, I>().name);
  }
}

template <Mapped T, std::size_t I>
bool column_is_unset(const void* obj) {
  using M = typename std::remove_cvref_t<decltype(part<T, I>())>::member_type;
  if constexpr (std::equality_comparable<M>)
    return static_cast<const T*>(obj)->*(part<T, I>().member) == M{};
  else
    return false;
}

template <Mapped T, std::size_t I>
Value column_default() {
  using M = typename std::remove_cvref_t<decltype(part<T, I>())>::member_type;
  Value out;
  std::apply([&](const auto&... o) {
    ([&] {
      using O = std::remove_cvref_t<decltype(o)>;
      if constexpr (is_default_value<O>::value) out = to_value(M(o.value));
      else if constexpr (is_default_factory<O>::value) out = to_value(M(o.fn()));
    }(), ...);
  }, part<T, I>().options);
  return out;
}

template <Mapped T, std::size_t I>
void* relationship_holder(void* obj) {
  return &(static_cast<T*>(obj)->*(part<T, I>().holder));
}

template <Mapped T, std::size_t I>
void relationship_unload(void* obj) {
  (static_cast<T*>(obj)->*(part<T, I>().holder)).reset_unloaded();
}

template <Mapped T>
const TableInfo& table_info_of();

template <Mapped T, std::size_t I>
ColumnInfo build_column(std::size_t ordinal) {
  constexpr const auto& p = part<T, I>();
  using P = std::remove_cvref_t<decltype(p)>;
  using M = typename P::member_type;
  ColumnInfo c;
  c.name = std::string(p.name);
  c.index = ordinal;
  c.type = column_type_v<M>;
  c.nullable = is_optional_v<M>;
  c.get = &column_get<T, I>;
  c.set_from_row = &column_set<T, I>;
  c.set_from_cell = &column_set_cell<T, I>;
  c.value_from_row = &column_value_from_row<T, I>;
  c.is_unset = &column_is_unset<T, I>;
  std::apply([&](const auto&... o) {
    ([&] {
      using O = std::remove_cvref_t<decltype(o)>;
      if constexpr (std::is_same_v<O, PrimaryKeyOption>) c.primary_key = true;
      else if constexpr (std::is_same_v<O, IdentityOption>) c.identity = true;
      else if constexpr (std::is_same_v<O, UniqueOption>) c.unique = true;
      else if constexpr (std::is_same_v<O, IndexedOption>) c.indexed = true;
      else if constexpr (std::is_same_v<O, VersionOption>) c.version = true;
      else if constexpr (std::is_same_v<O, MaxLengthOption>) c.max_length = o.length;
      else if constexpr (std::is_same_v<O, NumericOption>) { c.precision = o.precision; c.scale = o.scale; }
      else if constexpr (std::is_same_v<O, ServerDefaultOption>) c.server_default = std::string(o.sql);
      else if constexpr (std::is_same_v<O, CheckOption>) c.check = std::string(o.sql);
      else if constexpr (is_default_value<O>::value || is_default_factory<O>::value)
        c.client_default = &column_default<T, I>;
      else if constexpr (is_references<O>::value) {
        using Target = typename member_class<decltype(o.member)>::type;
        static_assert(Mapped<Target>, "corm: references() must name a member of a mapped model");
        constexpr std::size_t ri = [] {
          return std::apply([](const auto&... oo) {
            std::size_t r = npos;
            ([&] {
              using OO = std::remove_cvref_t<decltype(oo)>;
              if constexpr (is_references<OO>::value) r = column_index_of<Target>(oo.member);
            }(), ...);
            return r;
          }, part<T, I>().options);
        }();
        static_assert(ri != npos, "corm: references() names a member that is not a mapped column");
        ForeignKeyInfo fk;
        fk.table = std::string(Model<Target>::table.name);
        fk.column = std::string(column_name_at<Target>(ri));
        fk.on_delete = o.delete_action;
        fk.on_update = o.update_action;
        fk.target = &table_info_of<Target>;
        c.foreign_key = std::move(fk);
      }
    }(), ...);
  }, p.options);
  return c;
}

template <Mapped T>
const TableInfo& table_info_of() {
  return corm::table_info<T>();
}

template <Mapped T, class Tuple>
std::vector<std::string> member_names(const Tuple& members) {
  std::vector<std::string> out;
  std::apply([&](const auto&... m) {
    ([&] {
      using MP = std::remove_cvref_t<decltype(m)>;
      static_assert(std::is_same_v<typename member_class<MP>::type, T>,
                    "corm: an index or unique constraint names a member of another model");
      std::size_t i = column_index_of<T>(m);
      // Reached only for a member pointer of the right type that is not mapped: report it.
      if (i == npos) throw_unmapped_member(Model<T>::table.name);
      out.emplace_back(column_name_at<T>(i));
    }(), ...);
  }, members);
  return out;
}

template <Mapped T, std::size_t I>
RelationshipInfo build_relationship(std::size_t ordinal) {
  constexpr const auto& p = part<T, I>();
  using P = std::remove_cvref_t<decltype(p)>;
  using Target = typename P::target_type;
  static_assert(Mapped<Target>, "corm: a relationship's target model has no corm::Model mapping");
  RelationshipInfo r;
  r.name = std::string(p.name);
  r.index = ordinal;
  r.kind = P::kind;
  r.target = &table_info_of<Target>;
  r.holder = &relationship_holder<T, I>;
  r.unload = &relationship_unload<T, I>;
  if constexpr (P::kind == RelationshipKind::many_to_one) {
    constexpr std::size_t local = column_index_of<T>(p.link);
    constexpr std::size_t remote = referenced_index<T, Target>(p.link);
    static_assert(local != npos, "corm: belongs_to's foreign-key member is not a mapped column");
    static_assert(remote != npos, "corm: belongs_to cannot tell which target column the key refers "
                                  "to: give the target a single primary key or use references()");
    r.local_column = local;
    r.remote_column = remote;
  } else if constexpr (P::kind == RelationshipKind::one_to_many || P::kind == RelationshipKind::one_to_one) {
    constexpr std::size_t remote = column_index_of<Target>(p.link);
    constexpr std::size_t local = referenced_index<Target, T>(p.link);
    static_assert(remote != npos, "corm: has_many/has_one's foreign-key member is not a mapped column of the target");
    static_assert(local != npos, "corm: has_many/has_one cannot tell which column the key refers to: "
                                 "give this model a single primary key or use references()");
    r.local_column = local;
    r.remote_column = remote;
  } else {
    using A = typename member_class<decltype(p.link.self)>::type;
    static_assert(Mapped<A>, "corm: many_to_many's association model has no corm::Model mapping");
    constexpr std::size_t sl = column_index_of<A>(p.link.self);
    constexpr std::size_t sr = column_index_of<A>(p.link.target);
    constexpr std::size_t local = referenced_index<A, T>(p.link.self);
    constexpr std::size_t remote = referenced_index<A, Target>(p.link.target);
    static_assert(sl != npos && sr != npos, "corm: many_to_many's association members are not mapped columns");
    static_assert(local != npos && remote != npos,
                  "corm: many_to_many needs single primary keys on both models (or references())");
    r.secondary = &table_info_of<A>;
    r.secondary_local = sl;
    r.secondary_remote = sr;
    r.local_column = local;
    r.remote_column = remote;
  }
  std::apply([&](const auto&... o) {
    ([&] {
      using O = std::remove_cvref_t<decltype(o)>;
      if constexpr (std::is_same_v<O, LoaderOption>) r.default_loader = o.strategy;
      else if constexpr (std::is_same_v<O, CascadeOption>) r.cascade = o.flags;
      else if constexpr (std::is_same_v<O, BackPopulatesOption>) r.back_populates = std::string(o.name);
    }(), ...);
  }, p.options);
  return r;
}

template <Mapped T>
TableInfo* build_table_info() {
  auto* info = new TableInfo();  // lives for the program (see table_info)
  info->name = std::string(Model<T>::table.name);
  info->type = &typeid(T);
  std::size_t columns = 0, relationships = 0;
  for_each_part<T>([&](const auto& p, auto ic) {
    using P = std::remove_cvref_t<decltype(p)>;
    constexpr std::size_t I = decltype(ic)::value;
    if constexpr (is_column_def<P>::value) {
      static_assert(std::is_same_v<typename P::class_type, T>,
                    "corm: a column of this table names a member of another model");
      info->columns.push_back(build_column<T, I>(columns++));
    } else if constexpr (is_relationship_def<P>::value) {
      static_assert(std::is_same_v<typename P::class_type, T>,
                    "corm: a relationship of this table names a member of another model");
      info->relationships.push_back(build_relationship<T, I>(relationships++));
    } else if constexpr (is_index_def<P>::value) {
      IndexSchema ix;
      ix.name = std::string(p.name);
      ix.columns = member_names<T>(p.keys);
      ix.include = member_names<T>(p.included);
      ix.unique = p.unique;
      info->indexes.push_back(std::move(ix));
    } else if constexpr (is_unique_def<P>::value) {
      UniqueSchema u;
      u.name = std::string(p.name);
      u.columns = member_names<T>(p.members);
      info->uniques.push_back(std::move(u));
    } else if constexpr (std::is_same_v<P, CheckOption>) {
      info->checks.push_back(CheckSchema{std::string(p.name), std::string(p.sql)});
    } else {
      static_assert(is_column_def<P>::value, "corm: not a table part (column, relationship, index, "
                                             "unique_constraint, check)");
    }
  });
  return info;
}
}  // namespace detail

template <Mapped T>
const TableInfo& table_info() {
  // Built once; never destroyed, so objects with static lifetime may still use it at exit.
  static const TableInfo* const info = detail::finish_table_info(detail::build_table_info<T>());
  return *info;
}

}  // namespace corm
