#pragma once
// EntityOps: what the type-erased session core needs to know about a mapped model beyond its
// TableInfo — how to make a new object and how to read and fill its relationship holders
// (One<T>/Many<T> need the target's static type). Built once per model from its Model<T>
// mapping, so the core itself is ordinary non-template code compiled once.

#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "corm/sql/schema/hydrate.hpp"
#include "corm/sql/schema/many.hpp"
#include "corm/sql/schema/one.hpp"
#include "corm/sql/schema/table_info.hpp"

namespace corm::orm {

struct EntityOps;

/// Type-erased access to one relationship holder (`holder` is the One<T>*/Many<T>* that
/// RelationshipInfo::holder returns).
struct RelationOps {
  /// The related objects without triggering a load (0 or 1 for One<T>).
  std::vector<std::shared_ptr<void>> (*peek)(void* holder) = nullptr;
  /// Calls `fn(ctx, obj)` for each related object without copying the holder's pointers
  /// (close() walks every loaded holder of a session).
  void (*for_each)(const void* holder, void* ctx, void (*fn)(void* ctx, const void* obj)) = nullptr;
  /// Fills the holder and marks it loaded (One<T> takes the first object, or none).
  void (*set)(void* holder, std::span<const std::shared_ptr<void>> objs) = nullptr;
  bool (*is_loaded)(const void* holder) = nullptr;
  void (*reset)(void* holder) = nullptr;
  void (*set_hook)(void* holder, std::shared_ptr<const RelationshipHook> h) = nullptr;
  const EntityOps& (*target)() = nullptr;
};

/// Everything the session does with objects of one model, without knowing its type.
struct EntityOps {
  const TableInfo* info = nullptr;
  std::shared_ptr<void> (*create)() = nullptr;
  std::vector<RelationOps> relations;  ///< Indexed like TableInfo::relationships.
  /// Every column can read its value back from a retained result row, so a loaded object's
  /// snapshot can stay a reference to its row (InstanceState::snapshot_from); worked out once
  /// here rather than per loaded row.
  bool snapshot_from_rows = false;
};

template <Mapped T>
const EntityOps& entity_ops();

namespace detail {
template <class H> struct holder_traits;
template <class T>
struct holder_traits<One<T>> {
  using target = T;
  static std::vector<std::shared_ptr<void>> peek(void* h) {
    const auto& p = static_cast<One<T>*>(h)->peek();
    if (!p) return {};
    return {std::static_pointer_cast<void>(p)};
  }
  static void for_each(const void* h, void* ctx, void (*fn)(void*, const void*)) {
    if (const auto& p = static_cast<const One<T>*>(h)->peek()) fn(ctx, p.get());
  }
  static void set(void* h, std::span<const std::shared_ptr<void>> objs) {
    static_cast<One<T>*>(h)->set(objs.empty() ? nullptr : std::static_pointer_cast<T>(objs.front()));
  }
};
template <class T>
struct holder_traits<Many<T>> {
  using target = T;
  static std::vector<std::shared_ptr<void>> peek(void* h) {
    std::vector<std::shared_ptr<void>> out;
    for (const auto& p : static_cast<Many<T>*>(h)->peek()) out.push_back(std::static_pointer_cast<void>(p));
    return out;
  }
  static void for_each(const void* h, void* ctx, void (*fn)(void*, const void*)) {
    for (const auto& p : static_cast<const Many<T>*>(h)->peek()) fn(ctx, p.get());
  }
  static void set(void* h, std::span<const std::shared_ptr<void>> objs) {
    typename Many<T>::container items;
    items.reserve(objs.size());
    for (const auto& o : objs) items.push_back(std::static_pointer_cast<T>(o));
    static_cast<Many<T>*>(h)->set(std::move(items));
  }
};

template <class H>
RelationOps make_relation_ops() {
  using Tr = holder_traits<H>;
  RelationOps r;
  r.peek = &Tr::peek;
  r.for_each = &Tr::for_each;
  r.set = &Tr::set;
  r.is_loaded = [](const void* h) { return static_cast<const H*>(h)->is_loaded(); };
  r.reset = [](void* h) { static_cast<H*>(h)->reset_unloaded(); };
  r.set_hook = [](void* h, std::shared_ptr<const RelationshipHook> k) { static_cast<H*>(h)->set_hook(std::move(k)); };
  r.target = &entity_ops<typename Tr::target>;
  return r;
}

template <Mapped T>
EntityOps build_entity_ops() {
  EntityOps e;
  e.info = &table_info<T>();
  e.create = [] { return std::static_pointer_cast<void>(std::make_shared<T>()); };
  corm::detail::for_each_part<T>([&](const auto& p, auto) {
    using P = std::remove_cvref_t<decltype(p)>;
    if constexpr (corm::detail::is_relationship_def<P>::value) e.relations.push_back(make_relation_ops<typename P::holder_type>());
  });
  e.snapshot_from_rows = true;
  for (const ColumnInfo& c : e.info->columns) e.snapshot_from_rows = e.snapshot_from_rows && c.value_from_row != nullptr;
  return e;
}
}  // namespace detail

/// The EntityOps of T, built on first use (thread-safe) and kept for the program's life.
template <Mapped T>
const EntityOps& entity_ops() {
  static const EntityOps ops = detail::build_entity_ops<T>();
  return ops;
}

}  // namespace corm::orm
