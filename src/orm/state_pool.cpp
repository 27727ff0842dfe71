#include "corm/orm/detail/state_pool.hpp"

#include <cstring>
#include <mutex>
#include <new>

namespace corm::orm {

namespace {

// A chunk's first bytes hold the address of the chunk before it, so a pool's chunks (and the
// cache's) form a list that needs no vector: one allocation fewer per session.
constexpr std::size_t chunk_header = alignof(std::max_align_t);
static_assert(chunk_header >= sizeof(std::byte*));

std::byte* previous(std::byte* chunk) noexcept {
  std::byte* p;
  std::memcpy(&p, chunk, sizeof p);
  return p;
}
void link(std::byte* chunk, std::byte* prev) noexcept { std::memcpy(chunk, &prev, sizeof prev); }

bool pooled(std::size_t bytes, std::size_t alignment, std::size_t limit) {
  return bytes != 0 && bytes <= limit && alignment <= alignof(std::max_align_t);
}

// Chunks a finished session gave back, for the next session to take. Without it each session's
// chunks went back to the C heap, which returned them to the system, and the next session paid
// a page fault for every 4 KiB of them again (bench W4: 180 faults per load, slower overall
// than malloc despite 13% fewer instructions). Capped, so a burst of sessions does not pin
// memory for good.
class ChunkCache {
 public:
  static constexpr std::size_t max_chunks = 256;  // 16 MiB

  std::byte* take() {
    std::lock_guard lock(mutex_);
    std::byte* c = free_;
    if (c) {
      free_ = previous(c);
      --count_;
    }
    return c;
  }
  // Keeps what fits under the cap and deletes the rest of the list.
  void give(std::byte* chunks) {
    {
      std::lock_guard lock(mutex_);
      while (chunks && count_ < max_chunks) {
        std::byte* prev = previous(chunks);
        link(chunks, free_);
        free_ = chunks;
        ++count_;
        chunks = prev;
      }
    }
    while (chunks) {
      std::byte* prev = previous(chunks);
      ::operator delete(chunks);
      chunks = prev;
    }
  }

 private:
  std::mutex mutex_;
  std::byte* free_ = nullptr;  // a list linked like a session's
  std::size_t count_ = 0;
};

// Never destroyed: a session in a static object may end after static destructors have run.
ChunkCache& chunk_cache() {
  static ChunkCache* cache = new ChunkCache;
  return *cache;
}

}  // namespace

StatePool::~StatePool() { chunk_cache().give(chunks_); }

void* StatePool::do_allocate(std::size_t bytes, std::size_t alignment) {
  if (!pooled(bytes, alignment, granule * classes)) return ::operator new(bytes, std::align_val_t{alignment});
  const std::size_t c = (bytes - 1) / granule;
  if (FreeBlock* b = free_[c]) {
    free_[c] = b->next;
    return b;
  }
  const std::size_t size = (c + 1) * granule;
  if (static_cast<std::size_t>(end_ - next_) < size) {
    // The old chunk's tail (less than one record) is left unused rather than split up.
    std::byte* chunk = chunk_cache().take();
    if (!chunk) chunk = static_cast<std::byte*>(::operator new(chunk_size));
    link(chunk, chunks_);
    chunks_ = chunk;
    next_ = chunk + chunk_header;
    end_ = chunk + chunk_size;
  }
  void* p = next_;
  next_ += size;
  return p;
}

void StatePool::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (!pooled(bytes, alignment, granule * classes)) {
    ::operator delete(p, std::align_val_t{alignment});
    return;
  }
  const std::size_t c = (bytes - 1) / granule;
  free_[c] = ::new (p) FreeBlock{free_[c]};
}

}  // namespace corm::orm
