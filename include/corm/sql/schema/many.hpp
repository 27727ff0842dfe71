#pragma once
// Many<T>: the member type of a one-to-many or many-to-many relationship (`corm::has_many`,
// `corm::many_to_many`): a vector of std::shared_ptr<T> that knows whether it was loaded.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "corm/sql/schema/relationship_hook.hpp"

namespace corm {

/// A to-many relationship holder. A new one is loaded and empty (an object you just made has no
/// related rows, so push_back works at once); only a session loading an object from its row
/// leaves the holder unloaded until the relationship is loaded. Reading it while unloaded calls
/// the installed RelationshipHook (the session's loader), or throws UsageError.
template <class T>
class Many {
 public:
  /// The related model type.
  using element_type = T;
  /// The items' storage: a vector of shared pointers.
  using container = std::vector<std::shared_ptr<T>>;
  /// Iterator over the items.
  using const_iterator = typename container::const_iterator;

  Many() = default;
  /// A loaded holder with these items.
  ///@{
  Many(container items) : items_(std::move(items)), state_(LoadState::loaded) {}  // NOLINT
  Many(std::initializer_list<std::shared_ptr<T>> items) : items_(items), state_(LoadState::loaded) {}
  ///@}

  /// True once loaded or assigned.
  bool is_loaded() const noexcept { return state_ == LoadState::loaded; }
  /// Whether the holder is loaded.
  LoadState state() const noexcept { return state_; }

  /// The related objects. An unloaded read goes through the hook.
  const container& items() const {
    ensure_loaded();
    return items_;
  }
  /// Iterator to the first item (an unloaded read goes through the hook).
  const_iterator begin() const { return items().begin(); }
  /// Iterator past the last item (an unloaded read goes through the hook).
  const_iterator end() const { return items().end(); }
  /// Number of items (an unloaded read goes through the hook).
  std::size_t size() const { return items().size(); }
  /// True when there are no items (an unloaded read goes through the hook).
  bool empty() const { return items().empty(); }
  /// Item `i`, unchecked (an unloaded read goes through the hook).
  const std::shared_ptr<T>& operator[](std::size_t i) const { return items()[i]; }

  /// Appends one object (loading first when unloaded, so nothing already stored is lost).
  void push_back(std::shared_ptr<T> v) {
    ensure_loaded();
    items_.push_back(std::move(v));
  }
  /// Removes `v` if present (delete-orphan candidates are found by the session's flush).
  bool remove(const std::shared_ptr<T>& v) {
    ensure_loaded();
    for (auto it = items_.begin(); it != items_.end(); ++it)
      if (*it == v) { items_.erase(it); return true; }
    return false;
  }

  /// The items without triggering a load (empty when unloaded). For loaders and flush code.
  const container& peek() const noexcept { return items_; }
  /// Replaces the items and marks the holder loaded.
  void set(container items) {
    items_ = std::move(items);
    state_ = LoadState::loaded;
  }
  /// Forgets the items and marks the holder unloaded.
  void reset_unloaded() noexcept {
    items_.clear();
    state_ = LoadState::unloaded;
  }
  /// Installs the hook consulted on unloaded reads (nullptr removes it).
  void set_hook(std::shared_ptr<const RelationshipHook> h) noexcept { hook_ = std::move(h); }
  /// The installed hook, or nullptr.
  const std::shared_ptr<const RelationshipHook>& hook() const noexcept { return hook_; }

 private:
  void ensure_loaded() const {
    if (state_ == LoadState::loaded) return;
    if (hook_) hook_->on_unloaded_access(const_cast<Many*>(this));
    if (state_ != LoadState::loaded) detail::throw_unloaded_relationship("Many<T>");
  }

  container items_;
  LoadState state_ = LoadState::loaded;
  std::shared_ptr<const RelationshipHook> hook_;
};

}  // namespace corm
