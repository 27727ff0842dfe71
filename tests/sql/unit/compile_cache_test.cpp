// The compiled-SQL cache: one compilation per statement shape, whatever the values.

#include <catch2/catch.hpp>

#include <thread>

#include "sql/models.hpp"

using namespace corm;
using namespace corm::test_models;

namespace {
auto query(int min_pages, std::vector<std::int64_t> ids, std::string title) {
  return select<Book>()
      .where(col(&Book::pages) > min_pages && col(&Book::id).in_(ids) && col(&Book::title).contains(title))
      .order_by(desc(&Book::id))
      .limit(10);
}
}  // namespace

TEST_CASE("building the same query with other values compiles once", "[sql][cache]") {
  for (Dialect d : {Dialect::postgresql, Dialect::sqlite}) {
    sql::clear_compile_cache();
    sql::reset_compile_cache_stats();
    Compiled first = query(1, {1}, "a").compile(d);
    CHECK_FALSE(first.from_cache);
    CHECK(first.compiled_at != std::chrono::steady_clock::time_point{});
    for (int i = 0; i < 20; ++i) {
      std::vector<std::int64_t> ids(static_cast<std::size_t>(i + 1), 7);  // other list lengths too
      Compiled c = query(i, ids, "x" + std::to_string(i)).compile(d);
      CHECK(c.from_cache);
      CHECK(c.sql == first.sql);  // the very same shared text
      CHECK(c.compiled_at == first.compiled_at);
      CHECK(c.params.at(0) == Value(std::int64_t{i}));
    }
    auto stats = sql::compile_cache_stats();
    CHECK(stats.misses == 1);
    CHECK(stats.hits == 20);
    CHECK(stats.size == 1);
  }
}

TEST_CASE("different shapes and dialects are cached apart", "[sql][cache]") {
  sql::clear_compile_cache();
  sql::reset_compile_cache_stats();
  auto a = select<Book>().where(col(&Book::pages) > 1);
  auto b = select<Book>().where(col(&Book::pages) < 1);
  auto c = select<Book>().where(col(&Book::pages) > 1).limit(1);
  auto e = select<Book>().where(aliased<Book>("x").col(&Book::pages) > 1);
  (void)a.compile(Dialect::postgresql);
  (void)a.compile(Dialect::sqlite);
  (void)b.compile(Dialect::postgresql);
  (void)c.compile(Dialect::postgresql);
  (void)e.compile(Dialect::postgresql);
  CHECK(sql::compile_cache_stats().misses == 5);
  CHECK(a.compile(Dialect::sqlite).from_cache);
  CHECK(*a.compile(Dialect::postgresql).sql != *b.compile(Dialect::postgresql).sql);
}

TEST_CASE("cached hits re-gather values of subqueries, joins and DML", "[sql][cache]") {
  sql::clear_compile_cache();
  auto stmt = [](int n, std::string t) {
    auto sq = select(col(&Book::author_id)).where(col(&Book::pages) > n).subquery("s");
    return select(col(&Author::name))
        .join(sq, sq.col(&Book::author_id) == col(&Author::id))
        .where(col(&Author::name) == t && exists(select(col(&Book::id)).where(col(&Book::title) == t)));
  };
  (void)stmt(1, "a").compile(Dialect::postgresql);
  Compiled hit = stmt(2, "b").compile(Dialect::postgresql);
  CHECK(hit.from_cache);
  CHECK(hit.params == std::vector<Value>{Value(std::int64_t{2}), Value("b"), Value("b")});

  auto up = [](int v) { return update<Book>().set(&Book::pages, v).where(col(&Book::id) == v + 1).returning(col(&Book::id)); };
  (void)up(1).compile(Dialect::sqlite);
  Compiled u = up(5).compile(Dialect::sqlite);
  CHECK(u.from_cache);
  CHECK(u.params == std::vector<Value>{Value(std::int64_t{5}), Value(std::int64_t{6})});
}

TEST_CASE("the cache is bounded and evicts the least recently used shape", "[sql][cache]") {
  sql::clear_compile_cache();
  sql::reset_compile_cache_stats();
  sql::set_compile_cache_capacity(2);
  auto s1 = select(col(&Book::id));
  auto s2 = select(col(&Book::title));
  auto s3 = select(col(&Book::pages));
  (void)s1.compile(Dialect::sqlite);
  (void)s2.compile(Dialect::sqlite);
  (void)s1.compile(Dialect::sqlite);  // s1 is now the most recent
  (void)s3.compile(Dialect::sqlite);  // evicts s2
  auto st = sql::compile_cache_stats();
  CHECK(st.size == 2);
  CHECK(st.evictions == 1);
  CHECK(s1.compile(Dialect::sqlite).from_cache);
  CHECK_FALSE(s2.compile(Dialect::sqlite).from_cache);
  sql::set_compile_cache_capacity(2048);
}

TEST_CASE("the cache is safe to use from many threads", "[sql][cache]") {
  sql::clear_compile_cache();
  sql::reset_compile_cache_stats();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        Compiled c = query(i, {t, i}, "q").compile(i % 2 ? Dialect::sqlite : Dialect::postgresql);
        if (c.params.at(0) != Value(std::int64_t{i})) throw std::runtime_error("wrong parameter");
      }
    });
  for (auto& th : threads) th.join();
  auto st = sql::compile_cache_stats();
  CHECK(st.hits + st.misses == 800);
  CHECK(st.size == 2);
}

TEST_CASE("plain_read marks the SELECTs that lock nothing and call only built-in functions", "[sql][plain_read]") {
  for (Dialect d : {Dialect::postgresql, Dialect::sqlite}) {
    // Each twice: the cache-hit path must say the same as the compile.
    for (int pass = 0; pass < 2; ++pass) {
      CHECK(select<Book>().where(col(&Book::id) == 1).compile(d).plain_read);
      CHECK(select(count(), max(col(&Book::pages)), lower(col(&Book::title))).compile(d).plain_read);
      CHECK_FALSE(select<Book>().where(col(&Book::id) == 1).with_for_update().compile(d).plain_read);
      // A user function may write: the statement is not a plain read, even in a subquery.
      CHECK_FALSE(select(func<std::int64_t>("bump_counter", 1)).compile(d).plain_read);
      CHECK_FALSE(select<Book>()
                      .where(col(&Book::id).in_(select(func<std::int64_t>("next_id")).where(col(&Book::id) > 0)))
                      .compile(d)
                      .plain_read);
      CHECK_FALSE(insert<Tag>().values(Tag{1, "x"}).compile(d).plain_read);
      CHECK_FALSE(update<Tag>().set(&Tag::label, "y").where(col(&Tag::id) == 1).compile(d).plain_read);
      CHECK_FALSE(delete_<Book>().where(col(&Book::id) == 1).compile(d).plain_read);
      CHECK_FALSE(text("SELECT 1").compile(d).plain_read);  // text can say anything
    }
  }
}
