// The patterns compose: one SessionFactory (plain or routed writer/reader) feeds transactional(),
// scoped sessions and task groups, so a request's one session is routed, task-scoped and
// transactional at once; the outermost transactional() commits or rolls back that routed
// session. On SQLite writer and reader are the same file; tests/ext_postgres runs the same
// composition against the streaming standby.

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "corm/ext.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
namespace asio = boost::asio;

namespace {
std::shared_ptr<Line> line(std::int64_t id, std::string label) {
  auto l = std::make_shared<Line>();
  l->id = id;
  l->label = std::move(label);
  return l;
}

class DuplicateProduct : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ProductRepository : public ext::AsyncRepository<Product> {
 public:
  using AsyncRepository::AsyncRepository;

 protected:
  void on_integrity_error(const IntegrityError& e) override {
    if (e.is_unique_violation()) throw DuplicateProduct("a product with this name exists already");
  }
};

class SyncProductRepository : public ext::Repository<Product> {
 public:
  using Repository::Repository;

 protected:
  void on_integrity_error(const IntegrityError& e) override {
    if (e.is_unique_violation()) throw DuplicateProduct("a product with this name exists already");
  }
};

std::shared_ptr<Product> product(std::string name) {
  auto p = std::make_shared<Product>();
  p->name = std::move(name);
  p->price = 1;
  return p;
}
}  // namespace

TEST_CASE("a routed factory's session is scoped, joined by transactional() and committed by the outermost call",
          "[ext][compose]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    AsyncEngine reader = create_async_engine(ex, db.url);
    auto sessions = ext::AsyncSessionFactory::routed(writer, reader);
    ext::AsyncScopedSessions scoped(sessions);
    co_await scoped.scoped([&](ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<void> {
      AsyncSession& s = scope.session();
      const ext::ReadWriteRouter* router = ext::read_write_router(s);
      REQUIRE(router != nullptr);
      // The outermost call owns a routed session of its own; the inner REQUIRED call joins it.
      co_await ext::transactional(sessions, [&](AsyncSession& outer) -> asio::awaitable<void> {
        CHECK(ext::read_write_router(outer) != nullptr);
        (void)co_await outer.scalars(select<Line>());
        CHECK(ext::read_write_router(outer)->last_route() == ext::Route::reader);
        co_await ext::transactional(sessions, outer, [&](AsyncSession& inner) -> asio::awaitable<void> {
          CHECK(&inner == &outer);
          inner.add(line(1, "joined"));
          co_await inner.flush();
        });
        CHECK(ext::read_write_router(outer)->last_route() == ext::Route::writer);
      });
      CHECK(db.rows("ext_lines") == 1);  // committed by the outermost call
      // The scope's own session, passed in as the current one, is joined too.
      co_await ext::transactional(sessions, s, [&](AsyncSession& joined) -> asio::awaitable<void> {
        CHECK(&joined == &s);
        joined.add(line(2, "scoped"));
        co_return;
      });
      co_await s.commit();
      CHECK(router->writer_statements() >= 1);
    });
    CHECK(scoped.size() == 0);
  });
  CHECK(db.rows("ext_lines") == 2);
}

TEST_CASE("the outermost transactional() over a factory rolls the routed session back on failure", "[ext][compose]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    auto sessions = ext::AsyncSessionFactory::routed(writer, create_async_engine(ex, db.url));
    bool threw = false;
    try {
      co_await ext::transactional(sessions, [&](AsyncSession& s) -> asio::awaitable<void> {
        s.add(line(1, "lost"));
        co_await s.flush();
        throw std::runtime_error("the unit failed");
      });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    CHECK(threw);
  });
  CHECK(db.rows("ext_lines") == 0);
}

TEST_CASE("a task group over a routed factory commits every task's session together", "[ext][compose]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sessions =
        ext::AsyncSessionFactory::routed(create_async_engine(ex, db.url), create_async_engine(ex, db.url));
    ext::TransactionalTaskGroup group(sessions);
    for (std::int64_t id = 1; id <= 3; ++id)
      group.spawn([id](AsyncSession& s) -> asio::awaitable<void> {
        REQUIRE(ext::read_write_router(s) != nullptr);
        s.add(line(id, "task"));
        co_return;
      });
    co_await group.run();
  });
  CHECK(db.rows("ext_lines") == 3);
}

TEST_CASE("sync: transactional() over a routed factory commits, and joins a current session", "[ext][compose]") {
  ExtDb db;
  Engine writer = create_engine(db.url);
  auto sessions = ext::SessionFactory::routed(writer, create_engine(db.url));
  ext::transactional(sessions, [&](Session& outer) {
    REQUIRE(ext::read_write_router(outer) != nullptr);
    ext::transactional(sessions, outer, [&](Session& inner) {
      CHECK(&inner == &outer);
      inner.add(line(1, "sync"));
    });
  });
  CHECK(db.rows("ext_lines") == 1);
  ext::SyncScopedSessions scoped(sessions);
  scoped.scoped([&](ext::SyncScopedSessions::Scope& scope) {
    CHECK(ext::read_write_router(scope.session()) != nullptr);
    scope.session().add(line(2, "scoped"));
    scope.session().commit();
  });
  CHECK(db.rows("ext_lines") == 2);
}

TEST_CASE("a routed factory refuses engines of two dialects", "[ext][compose]") {
  if (!test::is_postgres()) return;  // needs a second backend next to PostgreSQL
  CHECK_THROWS_AS(ext::SessionFactory::routed(create_engine(test::pg_url()), create_engine(test::sqlite_url())),
                  ConfigError);
}

TEST_CASE("a repository maps the IntegrityError of the autoflush inside its queries", "[ext][repository][compose]") {
  ExtDb db;
  {
    Engine e = create_engine(db.url);
    Session s(e);
    s.add(product("keyboard"));
    s.commit();
  }
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    AsyncSession s(engine);
    ProductRepository products(s);
    s.add(product("keyboard"));  // pending: the next query flushes it first
    bool mapped = false;
    try {
      (void)co_await products.find(col(&Product::price) > 0);
    } catch (const DuplicateProduct&) {
      mapped = true;
    }
    CHECK(mapped);
    co_await s.rollback();
  });
  Engine e = create_engine(db.url);
  Session s(e);
  SyncProductRepository products(s);
  s.add(product("keyboard"));
  CHECK_THROWS_AS(products.count(), DuplicateProduct);
  s.rollback();
}
