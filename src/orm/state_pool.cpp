#include "corm/orm/state_pool.hpp"

#include <mutex>
#include <new>

namespace corm::orm {

namespace {

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
    if (free_.empty()) return nullptr;
    std::byte* c = free_.back();
    free_.pop_back();
    return c;
  }
  // Keeps what fits under the cap and deletes the rest.
  void give(std::vector<std::byte*>& chunks) {
    {
      std::lock_guard lock(mutex_);
      while (!chunks.empty() && free_.size() < max_chunks) {
        free_.push_back(chunks.back());
        chunks.pop_back();
      }
    }
    for (std::byte* c : chunks) ::operator delete(c);
    chunks.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::byte*> free_;
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
    chunks_.reserve(chunks_.size() + 1);
    next_ = chunk_cache().take();
    if (!next_) next_ = static_cast<std::byte*>(::operator new(chunk_size));
    chunks_.push_back(next_);
    end_ = next_ + chunk_size;
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
