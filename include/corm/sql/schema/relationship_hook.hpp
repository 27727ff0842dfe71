#pragma once
// The hook an unloaded relationship calls when code reads it. The sql layer only stores objects;
// the session (orm layer) decides what an unloaded read means — load now (sync lazyload), throw
// LazyLoadError (async), throw RaiseLoadError (raiseload) — by installing a hook on the holders
// of the objects it hands out. A holder with no hook throws UsageError on an unloaded read.

#include <cstdint>

namespace corm {

/// Whether a `One<T>`/`Many<T>` holds the related object(s) or has not been loaded yet.
enum class LoadState : std::uint8_t { unloaded, loaded };

/// Installed on a `One<T>`/`Many<T>` by the session: decides what an unloaded read does.
/// Implementations must be thread-compatible (one holder is read from one thread at a time).
class RelationshipHook {
 public:
  virtual ~RelationshipHook() = default;
  /// Called when code reads `holder` (a `One<T>*` or `Many<T>*`, as the relationship declares)
  /// while it is unloaded. Either fill it with set() — the read then proceeds — or throw
  /// (LazyLoadError naming the attribute and `selectinload`, RaiseLoadError, ...).
  virtual void on_unloaded_access(void* holder) const = 0;
};

namespace detail {
/// Thrown when an unloaded relationship without a hook is read.
[[noreturn]] void throw_unloaded_relationship(const char* holder_kind);
}  // namespace detail

}  // namespace corm
