#pragma once
// The session's two per-object lookups — object address → state, identity key → state — as
// open-addressing sets of state pointers. A node-based std::unordered_map cost an allocation
// and a free per tracked object in each map, a fifth of the allocator traffic of a load of
// 11,000 objects (bench W4). Then the slots: a map holding (IdentityKey, shared_ptr) used 56
// bytes a slot, about 1 MB of table for that load, and writing each new slot was a cache miss
// (`perf annotate`: a third of absorb()'s samples on that store). A set of pointers, hashed
// and compared through the state (which holds the key and the object), uses 8; order_ owns the
// states. Kept out of session_core.hpp: boost/unordered_flat_set.hpp adds about two seconds to
// every translation unit that includes it.

#include <boost/unordered/unordered_flat_set.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "corm/orm/detail/identity_key.hpp"
#include "corm/orm/detail/instance_state.hpp"

namespace corm::orm {

class SessionHook;

/// An object's address as a lookup key of SessionMaps::states (a distinct type, so it cannot be
/// confused with the InstanceState pointers the set holds).
struct ObjectAddress {
  const void* p;
};

/// Hash of SessionMaps::states: a state hashes as its object's address.
struct StateAddressHash {
  using is_transparent = void;
  std::size_t operator()(const InstanceState* s) const noexcept { return std::hash<const void*>{}(s->ptr()); }
  std::size_t operator()(ObjectAddress a) const noexcept { return std::hash<const void*>{}(a.p); }
};

/// Equality of SessionMaps::states: by object address.
struct StateAddressEqual {
  using is_transparent = void;
  bool operator()(const InstanceState* a, const InstanceState* b) const noexcept { return a->ptr() == b->ptr(); }
  bool operator()(ObjectAddress a, const InstanceState* b) const noexcept { return a.p == b->ptr(); }
  bool operator()(const InstanceState* a, ObjectAddress b) const noexcept { return a->ptr() == b.p; }
};

/// Hash of SessionMaps::identity: a state hashes as its identity key (the hash the key carries,
/// mixed already: boost skips its own post-mixing).
struct StateKeyHash {
  using is_transparent = void;
  using is_avalanching = void;
  std::size_t operator()(const InstanceState* s) const noexcept { return IdentityKeyHash{}(s->key); }
  std::size_t operator()(const IdentityKey& k) const noexcept { return IdentityKeyHash{}(k); }
};

/// Equality of SessionMaps::identity: by identity key.
struct StateKeyEqual {
  using is_transparent = void;
  bool operator()(const InstanceState* a, const InstanceState* b) const noexcept { return a->key == b->key; }
  bool operator()(const IdentityKey& k, const InstanceState* s) const noexcept { return k == s->key; }
  bool operator()(const InstanceState* s, const IdentityKey& k) const noexcept { return s->key == k; }
};

/// The session's lookups. A state's object and key must not change while it is in a set: the
/// session erases it first (forget(), register_key()).
struct SessionMaps {
  boost::unordered_flat_set<InstanceState*, StateAddressHash, StateAddressEqual> states;
  boost::unordered_flat_set<InstanceState*, StateKeyHash, StateKeyEqual> identity;
  /// An empty vector with the capacity a closed session's tracking order had (up to
  /// spare_order_limit), for the next session that takes these maps (SessionCore::reserve_more):
  /// one allocation fewer per short session.
  std::vector<std::shared_ptr<InstanceState>> spare_order;
  static constexpr std::size_t spare_order_limit = 1024;
  /// Relationship hooks of a closed session that no object refers to any more, detached from
  /// it, for the next session to retarget instead of allocating its own (SessionCore::
  /// take_spare_hooks): a table's hooks adjacent, in relationship order.
  std::vector<std::pair<const TableInfo*, std::shared_ptr<SessionHook>>> spare_hooks;
  static constexpr std::size_t spare_hooks_limit = 16;
};

}  // namespace corm::orm
