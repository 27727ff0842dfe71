#pragma once
// Scoped sessions: one session per request or task scope (SQLAlchemy's async_scoped_session),
// created on first use inside the scope and always removed when the scope ends — normally, by an
// exception, or by cancellation. A registry keyed by the current task and cleaned up by hand
// leaks a session (and a pooled connection) for every task that forgets; here the scope owns its
// registry entry, so forgetting is impossible:
//
//   corm::ext::AsyncScopedSessions sessions(engine);   // and #include <corm/ext/async_scoped_session.hpp>
//   co_await sessions.scoped([&](corm::ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<void> {
//     BookRepository books(scope.session());     // the scope's session, created now
//     AuthorRepository authors(scope.session()); // the same session
//     ...
//     co_await scope.session().commit();
//   });                                           // closed and removed here, whatever happened
//
// The sessions come from a SessionFactory (an engine converts to one): give it a routed factory
// and each scope's session routes reads to the replica.
//
// The registry (size(), find()) exists so the rest of a request can reach the scope's session by
// its id and so tests can prove nothing stays behind. Uncommitted work is rolled back at the end.

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "corm/ext/session_factory.hpp"
#include "corm/ext/session_kind.hpp"

namespace corm::ext {

namespace detail {
struct ScopeAccess;
/// Selects the async scope runner of <corm/ext/async_scoped_session.hpp> by argument-dependent
/// lookup.
struct AsyncScopeTag {};
}  // namespace detail

/// One session per scope (see the header comment). Thread-safe registry; each scope's session is
/// used by that scope's task only.
template <SessionType S>
class ScopedSessions {
 public:
  /// Engine or AsyncEngine, to match S.
  using engine_type = engine_of_t<S>;
  /// Identifies a scope (see find()).
  using ScopeId = std::uint64_t;

  /// The handle a scoped() callable receives. Not copyable; it ends with the scope.
  class Scope {
   public:
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    /// Removes (and so closes) the scope's session, also when unwinding or cancelled.
    ~Scope() { registry_->remove(id_); }
    /// The scope's session, created on first use.
    S& session() {
      if (!session_) session_ = registry_->create(id_);
      return *session_;
    }
    /// True once session() was called.
    bool has_session() const noexcept { return session_ != nullptr; }
    /// This scope's id (see ScopedSessions::find()).
    ScopeId id() const noexcept { return id_; }

   private:
    friend class ScopedSessions;
    friend struct corm::ext::detail::ScopeAccess;
    explicit Scope(ScopedSessions& r) : registry_(&r), id_(r.next_id()) {}
    ScopedSessions* registry_;
    ScopeId id_;
    S* session_ = nullptr;
  };

  /// Scopes whose sessions are plain sessions of `engine` with `options`.
  explicit ScopedSessions(engine_type engine, SessionOptions options = {})
      : factory_(std::move(engine), options) {}
  /// Scopes whose sessions `factory` makes (routed, when it is).
  explicit ScopedSessions(BasicSessionFactory<S> factory) : factory_(std::move(factory)) {}
  ScopedSessions(const ScopedSessions&) = delete;
  ScopedSessions& operator=(const ScopedSessions&) = delete;

  /// Runs `fn(Scope&)` in a new scope and returns its result; the scope's session (if one was
  /// made) is closed and removed afterwards. Async: `fn` returns an awaitable, and so does
  /// scoped() (it needs <corm/ext/async_scoped_session.hpp>, part of <corm/asyncio.hpp>).
  ///@{
  template <class F>
    requires(!is_async_session_v<S>)
  auto scoped(F fn) -> std::invoke_result_t<F&, Scope&> {
    Scope scope(*this);
    return fn(scope);
  }
  template <class F>
    requires is_async_session_v<S>
  auto scoped(F fn) {
    // Defined in <corm/ext/async_scoped_session.hpp> (found by argument-dependent lookup), so
    // that the sync front compiles no Boost.Asio.
    return run_async_scope(detail::AsyncScopeTag{}, *this, std::move(fn));
  }
  ///@}

  /// Sessions alive now (one per scope that used its session and has not ended).
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }
  /// The session of scope `id`, or nullptr when it has none (yet, or any more).
  S* find(ScopeId id) const {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
  }

 private:
  ScopeId next_id() {
    std::lock_guard lock(mu_);
    return ++last_id_;
  }
  S* create(ScopeId id) {
    std::unique_ptr<S> s = factory_.make();
    S* p = s.get();
    std::lock_guard lock(mu_);
    sessions_.emplace(id, std::move(s));
    return p;
  }
  void remove(ScopeId id) noexcept {
    std::unique_ptr<S> gone;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(id);
      if (it == sessions_.end()) return;
      gone = std::move(it->second);
      sessions_.erase(it);
    }
    // destroyed outside the lock: it may return a connection to the pool
  }

  BasicSessionFactory<S> factory_;
  mutable std::mutex mu_;
  std::unordered_map<ScopeId, std::unique_ptr<S>> sessions_;
  ScopeId last_id_ = 0;
};

/// Scoped sessions of the sync front (a scope per request or thread task).
using SyncScopedSessions = ScopedSessions<Session>;
/// Scoped sessions of the async front (a scope per request coroutine or task).
using AsyncScopedSessions = ScopedSessions<AsyncSession>;

}  // namespace corm::ext
