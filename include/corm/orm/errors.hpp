#pragma once
// The ORM's own errors. They live in the orm layer, not in core/error.hpp, because only the
// session raises them and they speak in ORM terms (objects, attributes, loader strategies); the
// layers below never need to name them. All derive from corm::Error, so `catch (corm::Error&)`
// still catches everything the library throws.

#include <string>

#include "corm/core/error.hpp"

namespace corm {

/// An UPDATE or DELETE of a flushed object matched no row: another transaction changed (version
/// column) or deleted the row since this session loaded it. Roll back, reload, and retry the
/// business operation. Retryable.
class StaleDataError : public Error {
 public:
  using Error::Error;
  bool is_retryable() const noexcept override { return true; }
};

/// An unloaded relationship was read where loading it would be hidden I/O (AsyncSession), or
/// after the session that owns the object was closed. The message names the attribute and the
/// fix: eager-load it (`corm::selectinload(&Author::books)`) or `co_await session.load(...)`.
class LazyLoadError : public Error { using Error::Error; };

/// A relationship marked `raiseload` was read before anything loaded it. The message names the
/// attribute; eager-load it in the query that fetched the object.
class RaiseLoadError : public Error { using Error::Error; };

/// Strict N+1 mode: the same lazy-load statement ran repeatedly in one session. The message
/// names the relationship to eager-load.
class NPlusOneError : public Error { using Error::Error; };

}  // namespace corm
