#pragma once
// Repository<T>: the data-access base class of one domain over a Session the caller owns.
// Generic CRUD — get_by_id (identity map first), get_all(skip, limit), find / find_one with a
// where-clause, count, exists, create, update, delete_ — and a domain subclass adds its own
// queries on top of query() and session():
//
//   class BookRepository : public corm::ext::Repository<Book> {
//    public:
//     using Repository::Repository;
//     std::vector<std::shared_ptr<Book>> by_author(std::int64_t id) {
//       return mapped([&] { return session().scalars(query().where(corm::col(&Book::author_id) == id)); });
//     }
//    protected:
//     void on_integrity_error(const corm::IntegrityError& e) override { throw DuplicateBook(...); }
//   };
//
// AsyncRepository<T> (<corm/ext/async_repository.hpp>) is the same over an AsyncSession, with
// co_await; this header compiles no Boost.Asio.
//
// Soft delete: when T has a mapped `is_deleted` column, every query of the repository filters
// deleted rows out and delete_() sets the flag instead of deleting the row.
// Transactions are the caller's (a request's session, transactional()): create / update /
// delete_ flush so generated keys and constraint errors appear at the call, but never commit.
// After a failed flush the transaction must be rolled back (transactional() does).
// An IntegrityError of any flush inside a repository call — create / update / delete_, or the
// autoflush a query does first — goes through on_integrity_error().

#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "corm/core/error.hpp"
#include "corm/orm/session.hpp"
#include "corm/sql/expression/functions.hpp"

namespace corm::ext {

/// A model whose rows are soft-deleted: it has a boolean `is_deleted` member (mapped as a column).
template <class T>
concept SoftDeletable = Mapped<T> && requires(T t) {
  { t.is_deleted } -> std::convertible_to<bool>;
};

namespace detail {

/// The statements both repositories send, built without I/O.
template <Mapped T>
struct RepositoryQueries {
  /// select<T>() without soft-deleted rows.
  static Select<T> base() {
    if constexpr (SoftDeletable<T>) return select<T>().where(col(&T::is_deleted) == false);
    else return select<T>();
  }
  /// A page in primary-key order (stable pages need an order).
  static Select<T> page(std::int64_t skip, std::int64_t limit) {
    check_page(skip, limit);
    auto s = base();
    const TableInfo& t = table_info<T>();
    sql::detail::SelectCore core = s.core();
    for (std::size_t k : t.primary_key)
      core.order_by.push_back(sql::detail::OrderTerm{sql::detail::make_column(&t.columns[k]), false, {}});
    return Select<T>(std::move(core)).offset(skip).limit(limit);
  }
  /// `SELECT count(*) FROM t WHERE <not deleted> [AND where]`.
  static Select<std::tuple<std::int64_t>> count_all() {
    auto s = select(corm::count()).template select_from<T>();
    if constexpr (SoftDeletable<T>) return std::move(s).where(col(&T::is_deleted) == false);
    else return s;
  }
  static void check_page(std::int64_t skip, std::int64_t limit) {
    if (skip < 0 || limit < 0)
      throw UsageError("get_all(skip, limit): both must be >= 0 (got skip=" + std::to_string(skip) +
                       ", limit=" + std::to_string(limit) + ")");
  }
  /// nullptr for a soft-deleted object (the identity map may still hold it).
  static std::shared_ptr<T> visible(std::shared_ptr<T> obj) {
    if constexpr (SoftDeletable<T>)
      if (obj && obj->is_deleted) return nullptr;
    return obj;
  }
  [[noreturn]] static void throw_multiple(std::size_t n) {
    throw MultipleResultsFound("find_one(): " + std::to_string(n) + " rows of '" + table_info<T>().name +
                               "' match; narrow the where-clause or use find()");
  }
};

}  // namespace detail

/// Data access for model T over a Session (see the header comment). Holds a reference to the
/// session: the session must outlive the repository.
template <Mapped T>
class Repository {
  using Q = detail::RepositoryQueries<T>;

 public:
  /// The mapped model this repository serves.
  using model_type = T;

  /// A repository over `session` (not owned).
  explicit Repository(Session& session) : session_(&session) {}
  virtual ~Repository() = default;

  /// The object with primary key `id`, or nullptr (also when soft-deleted). No query when the
  /// session's identity map already holds it.
  template <class K>
  std::shared_ptr<T> get_by_id(const K& id) {
    return mapped([&] { return Q::visible(session_->template get<T>(id)); });
  }
  /// At most `limit` objects after skipping `skip`, in primary-key order, with optional loader
  /// options.
  template <class... Opts>
  std::vector<std::shared_ptr<T>> get_all(std::int64_t skip = 0, std::int64_t limit = 100, const Opts&... options) {
    return mapped([&] { return session_->scalars(Q::page(skip, limit), options...); });
  }
  /// The objects matching `where`, with optional loader options.
  template <Predicate P, class... Opts>
  std::vector<std::shared_ptr<T>> find(const P& where, const Opts&... options) {
    return mapped([&] { return session_->scalars(query().where(where), options...); });
  }
  /// The one object matching `where`, or nullptr; MultipleResultsFound when several match.
  template <Predicate P, class... Opts>
  std::shared_ptr<T> find_one(const P& where, const Opts&... options) {
    auto rows = mapped([&] { return session_->scalars(query().where(where).limit(2), options...); });
    if (rows.size() > 1) Q::throw_multiple(rows.size());
    return rows.empty() ? nullptr : rows.front();
  }
  /// Number of (not deleted) rows.
  std::int64_t count() {
    return mapped([&] { return session_->execute(Q::count_all()).template scalar_one<std::int64_t>(); });
  }
  /// Number of (not deleted) rows matching `where`.
  template <Predicate P>
  std::int64_t count(const P& where) {
    return mapped([&] { return session_->execute(Q::count_all().where(where)).template scalar_one<std::int64_t>(); });
  }
  /// True when a (not deleted) row matches `where`.
  template <Predicate P>
  bool exists(const P& where) {
    return mapped([&] { return !session_->scalars(query().where(where).limit(1)).empty(); });
  }
  /// Adds `obj` and flushes: its generated key is set on return.
  std::shared_ptr<T> create(std::shared_ptr<T> obj) {
    session_->add(obj);
    mapped([&] { session_->flush(); });
    return obj;
  }
  /// Flushes the changes made to `obj` (added to the session if it was not tracked).
  std::shared_ptr<T> update(std::shared_ptr<T> obj) {
    session_->add(obj);
    mapped([&] { session_->flush(); });
    return obj;
  }
  /// Deletes `obj` and flushes; a SoftDeletable model gets is_deleted = true instead.
  void delete_(const std::shared_ptr<T>& obj) {
    if constexpr (SoftDeletable<T>) {
      obj->is_deleted = true;
      session_->add(obj);
    } else {
      mapped([&] { session_->delete_(obj); });
    }
    mapped([&] { session_->flush(); });
  }

  /// The session this repository works on.
  Session& session() noexcept { return *session_; }

 protected:
  /// select<T>() with soft-deleted rows filtered out: the start of a subclass's own queries.
  static Select<T> query() { return Q::base(); }
  /// Called with the IntegrityError of any flush the session does inside this repository's calls
  /// (create / update / delete_, and the autoflush before a query): throw the domain's own
  /// error here. Returning rethrows the original.
  virtual void on_integrity_error(const IntegrityError& error) { (void)error; }
  /// Runs `fn` with IntegrityError going through on_integrity_error() (a subclass's queries).
  template <class F>
  auto mapped(F&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const IntegrityError& e) {
      on_integrity_error(e);
      throw;
    }
  }

 private:
  Session* session_;
};

/// The former name of Repository (the sync repository), kept for one release.
template <Mapped T>
using SyncRepository [[deprecated("SyncRepository<T> is now Repository<T> (and the async one AsyncRepository<T>)")]] =
    Repository<T>;

}  // namespace corm::ext
