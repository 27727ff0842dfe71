#pragma once
// AsyncRepository<T>: Repository<T> (<corm/ext/repository.hpp>, where the behaviour is described)
// over an AsyncSession — the same operations, awaited:
//
//   class BookRepository : public corm::ext::AsyncRepository<Book> {
//    public:
//     using AsyncRepository::AsyncRepository;
//     asio::awaitable<std::vector<std::shared_ptr<Book>>> by_author(std::int64_t id) {
//       co_return co_await mapped(session().scalars(query().where(corm::col(&Book::author_id) == id)));
//     }
//   };

#include <cstdint>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "corm/ext/repository.hpp"
#include "corm/orm/async_session.hpp"

namespace corm::ext {

/// Data access for model T over an AsyncSession (Repository<T>'s operations, awaited). Holds a reference to
/// the session: the session must outlive the repository.
template <Mapped T>
class AsyncRepository {
  using Q = detail::RepositoryQueries<T>;

 public:
  /// The mapped model this repository serves.
  using model_type = T;

  /// A repository over `session` (not owned).
  explicit AsyncRepository(AsyncSession& session) : session_(&session) {}
  virtual ~AsyncRepository() = default;

  /// The object with primary key `id`, or nullptr (also when soft-deleted). No query when the
  /// session's identity map already holds it.
  template <class K>
  boost::asio::awaitable<std::shared_ptr<T>> get_by_id(K id) {
    co_return Q::visible(co_await mapped(session_->template get<T>(std::move(id))));
  }
  /// At most `limit` objects after skipping `skip`, in primary-key order.
  template <class... Opts>
  boost::asio::awaitable<std::vector<std::shared_ptr<T>>> get_all(std::int64_t skip = 0, std::int64_t limit = 100,
                                                                  Opts... options) {
    co_return co_await mapped(session_->scalars(Q::page(skip, limit), std::move(options)...));
  }
  /// The objects matching `where`, with optional loader options.
  template <Predicate P, class... Opts>
  boost::asio::awaitable<std::vector<std::shared_ptr<T>>> find(P where, Opts... options) {
    co_return co_await mapped(session_->scalars(query().where(where), std::move(options)...));
  }
  /// The one object matching `where`, or nullptr; MultipleResultsFound when several match.
  template <Predicate P, class... Opts>
  boost::asio::awaitable<std::shared_ptr<T>> find_one(P where, Opts... options) {
    auto rows = co_await mapped(session_->scalars(query().where(where).limit(2), std::move(options)...));
    if (rows.size() > 1) Q::throw_multiple(rows.size());
    co_return rows.empty() ? nullptr : rows.front();
  }
  /// Number of (not deleted) rows.
  boost::asio::awaitable<std::int64_t> count() {
    Result r = co_await mapped(session_->execute(Q::count_all()));
    co_return r.template scalar_one<std::int64_t>();
  }
  /// Number of (not deleted) rows matching `where`.
  template <Predicate P>
  boost::asio::awaitable<std::int64_t> count(P where) {
    Result r = co_await mapped(session_->execute(Q::count_all().where(where)));
    co_return r.template scalar_one<std::int64_t>();
  }
  /// True when a (not deleted) row matches `where`.
  template <Predicate P>
  boost::asio::awaitable<bool> exists(P where) {
    auto rows = co_await mapped(session_->scalars(query().where(where).limit(1)));
    co_return !rows.empty();
  }
  /// Adds `obj` and flushes: its generated key is set on return.
  boost::asio::awaitable<std::shared_ptr<T>> create(std::shared_ptr<T> obj) {
    session_->add(obj);
    co_await mapped(session_->flush());
    co_return obj;
  }
  /// Flushes the changes made to `obj` (added to the session if it was not tracked).
  boost::asio::awaitable<std::shared_ptr<T>> update(std::shared_ptr<T> obj) {
    session_->add(obj);
    co_await mapped(session_->flush());
    co_return obj;
  }
  /// Deletes `obj` (soft-deletable models: sets is_deleted) and flushes.
  boost::asio::awaitable<void> delete_(std::shared_ptr<T> obj) {
    if constexpr (SoftDeletable<T>) {
      obj->is_deleted = true;
      session_->add(obj);
    } else {
      co_await mapped(session_->delete_(obj));
    }
    co_await mapped(session_->flush());
  }

  /// The session this repository works on.
  AsyncSession& session() noexcept { return *session_; }

 protected:
  /// select<T>() with soft-deleted rows filtered out: the start of a subclass's own queries.
  static Select<T> query() { return Q::base(); }
  /// Called with the IntegrityError of any flush the session does inside this repository's calls
  /// (create / update / delete_, and the autoflush before a query): throw the domain's own
  /// error here. Returning rethrows the original.
  virtual void on_integrity_error(const IntegrityError& error) { (void)error; }
  /// Runs `op` (a session operation) with IntegrityError going through on_integrity_error():
  /// for a subclass's own queries, whose autoflush may fail too.
  template <class R>
  boost::asio::awaitable<R> mapped(boost::asio::awaitable<R> op) {
    std::exception_ptr failed;
    try {
      if constexpr (std::is_void_v<R>) {
        co_await std::move(op);
        co_return;
      } else {
        co_return co_await std::move(op);
      }
    } catch (const IntegrityError& e) {
      failed = std::current_exception();
      on_integrity_error(e);
    }
    std::rethrow_exception(failed);
  }

 private:
  AsyncSession* session_;
};

}  // namespace corm::ext
