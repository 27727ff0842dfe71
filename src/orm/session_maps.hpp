#pragma once
// The session's two per-object lookups — object address → state, identity key → state — as
// open-addressing tables. A node-based std::unordered_map costs an allocation and a free per
// tracked object in each map, which was a fifth of the allocator traffic of a load of 11,000
// objects (bench W4). Kept out of session_core.hpp: boost/unordered_flat_map.hpp adds about
// two seconds to every translation unit that includes it.

#include <boost/unordered/unordered_flat_map.hpp>

#include <memory>

#include "corm/orm/identity_key.hpp"
#include "corm/orm/instance_state.hpp"

namespace corm::orm {

struct SessionMaps {
  boost::unordered_flat_map<const void*, std::shared_ptr<InstanceState>> states;
  boost::unordered_flat_map<IdentityKey, std::shared_ptr<InstanceState>, IdentityKeyHash> identity;
};

}  // namespace corm::orm
