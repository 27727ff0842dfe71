// The compiled-statement cache seen from the engine: the same query with other values is sent
// with identical SQL text, marked as coming from the cache, which echo reports.
#include <catch2/catch.hpp>

#include "corm/sql.hpp"
#include "sql/integration/sql_db.hpp"

using namespace corm;
using namespace corm::test;
using namespace corm::test_models;

TEST_CASE("statements rebuilt with other values reach the driver from the compiled cache", "[sql][cache][echo]") {
  SqlDb db;
  std::vector<std::string> sql;
  std::vector<bool> cached;
  db.engine.events().after_execute([&](const StatementEvent& e) {
    if (std::string_view(e.sql).find("SELECT") == 0) {
      sql.emplace_back(e.sql);
      cached.push_back(e.from_cache);
    }
  });
  // A shape no other test builds, so the first run is a miss in this process.
  auto query = [&](int min_pages, std::vector<std::int64_t> ids) {
    db.conn.execute(select<Book>()
                        .where(col(&Book::pages) >= min_pages && col(&Book::id).in_(ids) &&
                               col(&Book::title).startswith("cache-echo"))
                        .order_by(col(&Book::id).desc())
                        .limit(7));
  };
  query(1, {1});
  query(50, {1, 2, 3});
  query(99, {4, 5, 6, 7, 8, 9});
  REQUIRE(sql.size() == 3);
  if (test::is_mysql()) {
    // MySQL has no array parameter: in_() writes one '?' per item, so each list length is a
    // statement of its own (and is cached as one).
    CHECK(sql[0] != sql[1]);
    CHECK(cached == std::vector<bool>{false, false, false});
    query(2, {10, 11, 12});
    CHECK(sql.back() == sql[1]);
    CHECK(cached.back());
    return;
  }
  CHECK(sql[0] == sql[1]);
  CHECK(sql[1] == sql[2]);
  CHECK(cached == std::vector<bool>{false, true, true});
}
