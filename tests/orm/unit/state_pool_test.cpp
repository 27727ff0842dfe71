// StatePool: the session's allocator for object states — blocks come back for reuse by size
// class, odd requests go to the system allocator, and the states of a session live in it.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "corm/orm/detail/state_pool.hpp"

using corm::orm::StatePool;

TEST_CASE("StatePool hands a freed block to the next request of its size class", "[orm][unit][pool]") {
  StatePool pool;
  void* a = pool.allocate(200, 8);
  void* b = pool.allocate(200, 8);
  CHECK(a != b);
  pool.deallocate(a, 200, 8);
  CHECK(pool.allocate(193, 8) == a);  // 193..208 bytes share a class
  void* other = pool.allocate(100, 8);  // another class does not take it
  CHECK(other != a);
  CHECK(other != b);
  pool.deallocate(b, 200, 8);
  pool.deallocate(other, 100, 8);
}

TEST_CASE("StatePool blocks do not overlap and keep their contents", "[orm][unit][pool]") {
  StatePool pool;
  std::vector<std::uint64_t*> blocks;
  // Enough 48-byte blocks to need several chunks.
  for (int i = 0; i < 5000; ++i) {
    auto* p = static_cast<std::uint64_t*>(pool.allocate(48, alignof(std::uint64_t)));
    CHECK(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t) == 0);
    for (int k = 0; k < 6; ++k) p[k] = static_cast<std::uint64_t>(i) * 6 + static_cast<std::uint64_t>(k);
    blocks.push_back(p);
  }
  std::set<std::uint64_t*> distinct(blocks.begin(), blocks.end());
  CHECK(distinct.size() == blocks.size());
  for (int i = 0; i < 5000; ++i)
    for (int k = 0; k < 6; ++k) REQUIRE(blocks[static_cast<std::size_t>(i)][k] == static_cast<std::uint64_t>(i) * 6 + static_cast<std::uint64_t>(k));
  for (auto* p : blocks) pool.deallocate(p, 48, alignof(std::uint64_t));
}

TEST_CASE("StatePool serves large and over-aligned requests from the system allocator", "[orm][unit][pool]") {
  StatePool pool;
  void* big = pool.allocate(5000, 8);
  std::memset(big, 0xab, 5000);
  void* aligned = pool.allocate(64, 256);
  CHECK(reinterpret_cast<std::uintptr_t>(aligned) % 256 == 0);
  pool.deallocate(big, 5000, 8);
  pool.deallocate(aligned, 64, 256);
  // A pooled block is not confused with them.
  void* small = pool.allocate(64, 8);
  CHECK(small != aligned);
  pool.deallocate(small, 64, 8);
}

TEST_CASE("StatePool works as a pmr resource for containers", "[orm][unit][pool]") {
  StatePool pool;
  std::pmr::vector<std::pmr::vector<int>> v(&pool);
  for (int i = 0; i < 1000; ++i) {
    v.emplace_back();
    for (int k = 0; k <= i % 50; ++k) v.back().push_back(k);
  }
  CHECK(v[999].size() == 50);
  CHECK(v[999].get_allocator().resource() == &pool);  // uses-allocator construction reached the inner vectors
  CHECK(v[49][49] == 49);
}
