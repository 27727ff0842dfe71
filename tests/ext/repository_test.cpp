// AsyncRepository<T> / Repository<T>: CRUD through the identity map, soft delete, the
// IntegrityError hook and a domain subclass with its own query — on SQLite and PostgreSQL.

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "corm/ext/repository.hpp"
#include "corm/ext/async_repository.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
using corm::test::Queries;
namespace asio = boost::asio;

namespace {

/// The domain's own error for a duplicate product name.
struct DuplicateProduct : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A domain repository: its own query, and IntegrityError mapped to the domain's error.
class ProductRepository : public ext::AsyncRepository<Product> {
 public:
  using AsyncRepository::AsyncRepository;
  asio::awaitable<std::vector<std::shared_ptr<Product>>> cheaper_than(std::int64_t price) {
    co_return co_await session().scalars(query().where(col(&Product::price) < price).order_by(col(&Product::price)));
  }

 protected:
  void on_integrity_error(const IntegrityError& e) override {
    if (e.is_unique_violation()) throw DuplicateProduct("a product with this name exists already");
  }
};

std::shared_ptr<Product> product(std::string name, std::int64_t price) {
  auto p = std::make_shared<Product>();
  p->name = std::move(name);
  p->price = price;
  return p;
}

}  // namespace

TEST_CASE("repository: create, get_by_id from the identity map, get_all pages, find, count, exists, update",
          "[ext][repository]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    Queries q(engine);
    AsyncSession s(engine);
    ProductRepository repo(s);
    for (int i = 1; i <= 12; ++i) co_await repo.create(product("p" + std::to_string(i), i * 10));
    co_await s.commit();
    q.take();

    auto p5 = co_await repo.get_by_id(std::int64_t{5});
    REQUIRE(p5 != nullptr);
    CHECK(p5->name == "p5");
    CHECK(q.take() == 0);  // created in this session: in the identity map

    auto page = co_await repo.get_all(10, 5);
    REQUIRE(page.size() == 2);
    CHECK(page[0]->id == 11);
    CHECK(page[1]->id == 12);
    CHECK(q.take() == 1);

    auto cheap = co_await repo.cheaper_than(35);
    REQUIRE(cheap.size() == 3);
    CHECK(cheap[2]->name == "p3");
    auto found = co_await repo.find(col(&Product::name).like("p1%"));
    CHECK(found.size() == 4);  // p1, p10, p11, p12
    auto one = co_await repo.find_one(col(&Product::name) == "p7");
    REQUIRE(one != nullptr);
    CHECK(one->price == 70);
    auto none = co_await repo.find_one(col(&Product::name) == "nope");
    CHECK(none == nullptr);
    try {
      (void)co_await repo.find_one(col(&Product::price) > 50);
      FAIL("expected MultipleResultsFound");
    } catch (const MultipleResultsFound& e) {
      CHECK_THAT(e.what(), Catch::Contains("ext_products") && Catch::Contains("find()"));
    }
    std::int64_t all = co_await repo.count();
    std::int64_t expensive = co_await repo.count(col(&Product::price) >= 100);
    bool p9 = co_await repo.exists(col(&Product::name) == "p9");
    bool p99 = co_await repo.exists(col(&Product::name) == "p99");
    CHECK(all == 12);
    CHECK(expensive == 3);
    CHECK(p9);
    CHECK_FALSE(p99);

    one->price = 71;
    co_await repo.update(one);
    co_await s.commit();
    co_await s.close();
  });
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  CHECK(c.exec_driver_sql("SELECT price FROM ext_products WHERE name = 'p7'").scalar_one<std::int64_t>() == 71);
}

TEST_CASE("repository: soft delete sets is_deleted and every query filters it, plain models are deleted",
          "[ext][repository]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    {
      AsyncSession s(engine);
      ProductRepository repo(s);
      co_await repo.create(product("kept", 1));
      auto gone = co_await repo.create(product("gone", 2));
      co_await repo.delete_(gone);
      auto hidden = co_await repo.get_by_id(gone->id);  // identity-map hit, still hidden
      CHECK(hidden == nullptr);
      co_await s.commit();
      co_await s.close();
    }
    AsyncSession s(engine);
    ProductRepository repo(s);
    std::int64_t live = co_await repo.count();
    CHECK(live == 1);
    auto all = co_await repo.get_all();
    REQUIRE(all.size() == 1);
    CHECK(all[0]->name == "kept");
    bool gone_exists = co_await repo.exists(col(&Product::name) == "gone");
    CHECK_FALSE(gone_exists);
    auto gone_found = co_await repo.find_one(col(&Product::name) == "gone");
    CHECK(gone_found == nullptr);

    ext::AsyncRepository<Note> notes(s);
    auto n = std::make_shared<Note>();
    n->text = "x";
    co_await notes.create(n);
    std::int64_t before = co_await notes.count();
    co_await notes.delete_(n);
    std::int64_t after = co_await notes.count();
    CHECK(before == 1);
    CHECK(after == 0);
    co_await s.commit();
    co_await s.close();
  });
  CHECK(db.rows("ext_products") == 2);  // the soft-deleted row is still there
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  CHECK(c.exec_driver_sql("SELECT count(*) FROM ext_products WHERE is_deleted").scalar_one<std::int64_t>() == 1);
  CHECK(db.rows("ext_notes") == 0);
}

TEST_CASE("repository: a unique violation surfaces as the domain's error through the hook", "[ext][repository]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    AsyncSession s(engine);
    ProductRepository repo(s);
    co_await repo.create(product("same", 1));
    co_await s.commit();
    bool mapped = false;
    try {
      co_await repo.create(product("same", 2));
    } catch (const DuplicateProduct& e) {
      mapped = true;
      CHECK(std::string(e.what()) == "a product with this name exists already");
    }
    CHECK(mapped);
    co_await s.rollback();
    // Without an override the IntegrityError itself propagates.
    ext::AsyncRepository<Product> plain(s);
    bool integrity = false;
    try {
      co_await plain.create(product("same", 3));
    } catch (const IntegrityError& e) {
      integrity = e.is_unique_violation();
    }
    CHECK(integrity);
    co_await s.rollback();
    co_await s.close();
  });
  CHECK(db.rows("ext_products") == 1);
}

TEST_CASE("sync repository: the same operations over a Session", "[ext][repository]") {
  ExtDb db;
  Engine engine = create_engine(db.url);
  Queries q(engine);
  Session s(engine);
  ext::Repository<Product> repo(s);
  auto a = repo.create(product("a", 5));
  repo.create(product("b", 6));
  s.commit();
  q.take();
  CHECK(repo.get_by_id(a->id) == a);
  CHECK(q.take() == 0);
  CHECK(repo.count() == 2);
  CHECK(repo.find(col(&Product::price) > 5).size() == 1);
  repo.delete_(a);
  CHECK(repo.get_by_id(a->id) == nullptr);
  CHECK(repo.get_all().size() == 1);
  s.commit();
  CHECK_THROWS_WITH(repo.get_all(-1, 10), Catch::Contains("skip=-1"));
  s.close();
  CHECK(db.rows("ext_products") == 2);
}
