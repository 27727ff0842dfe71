#pragma once
// AsyncScopedSessions::scoped(): the async front's scope runner (the pattern is described in
// <corm/ext/scoped_session.hpp>). Kept apart so that the sync front compiles no Boost.Asio.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "corm/asyncio/async_engine.hpp"
#include "corm/ext/scoped_session.hpp"
#include "corm/orm/async_session.hpp"

namespace corm::ext::detail {

/// Opens a scope of a registry (Scope's constructor is private to the pattern).
struct ScopeAccess {
  template <class Sessions>
  static typename Sessions::Scope open(Sessions& sessions) {
    return typename Sessions::Scope(sessions);
  }
};

/// Runs `fn(Scope&) -> awaitable<R>` in a new scope of `sessions`; the scope's session (if one
/// was made) is rolled back when `fn` failed and closed afterwards, also when cancelled.
template <class F>
boost::asio::awaitable<typename std::invoke_result_t<F&, AsyncScopedSessions::Scope&>::value_type> run_async_scope(
    AsyncScopeTag, AsyncScopedSessions& sessions, F fn) {
  using R = typename std::invoke_result_t<F&, AsyncScopedSessions::Scope&>::value_type;
  AsyncScopedSessions::Scope scope = ScopeAccess::open(sessions);
  std::exception_ptr failed;
  std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await fn(scope);
      result.emplace(0);
    } else {
      result.emplace(co_await fn(scope));
    }
  } catch (...) {
    failed = std::current_exception();
  }
  if (scope.has_session()) {
    try {
      if (failed) co_await scope.session().rollback();  // on purpose: close() would warn of it
      co_await scope.session().close();  // returns the connection now; rolls back what is open
    } catch (...) {
      // Cancelled: ~Scope destroys the session, whose destructor rolls back and returns it.
      if (!failed) failed = std::current_exception();
    }
  }
  if (failed) std::rethrow_exception(failed);
  if constexpr (std::is_void_v<R>) co_return;
  else co_return std::move(*result);
}

}  // namespace corm::ext::detail
