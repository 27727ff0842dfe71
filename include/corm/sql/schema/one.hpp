#pragma once
// One<T>: the member type of a many-to-one or one-to-one relationship (`corm::belongs_to`,
// `corm::has_one`). It holds a std::shared_ptr<T> once loaded (possibly null: no related row)
// and knows whether it was loaded at all, so "not loaded" is never confused with "none".

#include <memory>
#include <utility>

#include "corm/sql/schema/relationship_hook.hpp"

namespace corm {

/// A to-one relationship holder. A new one is loaded and null (an object you just made has no
/// related row yet); only a session loading an object from its row leaves the holder unloaded
/// until the relationship is loaded. Assigning an object marks it loaded. Reading it while
/// unloaded calls the installed RelationshipHook (the session's loader), or throws UsageError.
template <class T>
class One {
 public:
  /// The related model type.
  using element_type = T;

  One() = default;
  /// A loaded holder (nullptr = loaded, no related object).
  One(std::shared_ptr<T> v) : value_(std::move(v)), state_(LoadState::loaded) {}  // NOLINT

  /// Stores `v` (nullptr = no related object) and marks the holder loaded, like set().
  One& operator=(std::shared_ptr<T> v) {
    set(std::move(v));
    return *this;
  }

  /// True once loaded or assigned.
  bool is_loaded() const noexcept { return state_ == LoadState::loaded; }
  /// Whether the holder is loaded.
  LoadState state() const noexcept { return state_; }

  /// The related object, or nullptr when there is none. An unloaded read goes through the hook.
  const std::shared_ptr<T>& get() const {
    ensure_loaded();
    return value_;
  }
  /// Member access on the related object (an unloaded read goes through the hook). Do not use it
  /// when the object may be null.
  T* operator->() const { return get().get(); }
  /// The related object (an unloaded read goes through the hook); undefined when it is null.
  T& operator*() const { return *get(); }
  /// True when loaded and non-null (an unloaded read goes through the hook).
  explicit operator bool() const { return get() != nullptr; }

  /// The value without triggering a load: nullptr when unloaded. For loaders and flush code.
  const std::shared_ptr<T>& peek() const noexcept { return value_; }
  /// Stores the related object and marks the holder loaded.
  void set(std::shared_ptr<T> v) {
    value_ = std::move(v);
    state_ = LoadState::loaded;
  }
  /// Forgets the value and marks the holder unloaded (expiry, noload reset).
  void reset_unloaded() noexcept {
    value_.reset();
    state_ = LoadState::unloaded;
  }
  /// Installs the hook consulted on unloaded reads (nullptr removes it).
  void set_hook(std::shared_ptr<const RelationshipHook> h) noexcept { hook_ = std::move(h); }
  /// The installed hook, or nullptr.
  const std::shared_ptr<const RelationshipHook>& hook() const noexcept { return hook_; }

 private:
  void ensure_loaded() const {
    if (state_ == LoadState::loaded) return;
    // The hook fills the holder through set(); the holder is logically const (lazy), as in
    // SQLAlchemy where reading an attribute may load it.
    if (hook_) hook_->on_unloaded_access(const_cast<One*>(this));
    if (state_ != LoadState::loaded) detail::throw_unloaded_relationship("One<T>");
  }

  std::shared_ptr<T> value_;
  LoadState state_ = LoadState::loaded;
  std::shared_ptr<const RelationshipHook> hook_;
};

}  // namespace corm
