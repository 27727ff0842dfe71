// Relationship plans with no database: nested joinedload SQL and row de-duplication, nested
// subqueryload SQL, many-to-many association rows in a flush transcript, composite keys.

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corm/core/result_set.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "orm/orm_models.hpp"

using namespace corm;
using namespace corm::orm_test;

namespace {

std::shared_ptr<orm::SessionCore> make_core() {
  return std::make_shared<orm::SessionCore>(Dialect::postgresql, SessionOptions{}, LogSink{});
}

Result ints(std::vector<std::string> cols, std::vector<std::vector<std::int64_t>> rows) {
  auto rs = std::make_shared<BufferedResultSet>(std::move(cols));
  for (auto& r : rows)
    for (auto v : r) rs->push_int(v);
  rs->set_affected_rows(static_cast<std::int64_t>(rows.size()));
  return Result(rs);
}

}  // namespace

TEST_CASE("nested joinedload joins each level to an alias and de-duplicates rows at every level",
          "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(),
                               {joinedload(&Author::books).joinedload(&Book::reviews)}, false);
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql() ==
        R"(SELECT "orm_authors"."id", "orm_authors"."name", "orm_books_1"."id", "orm_books_1"."author_id", )"
        R"("orm_books_1"."title", "orm_books_1"."pages", "orm_reviews_2"."id", "orm_reviews_2"."book_id", )"
        R"("orm_reviews_2"."stars" FROM "orm_authors" LEFT OUTER JOIN "orm_books" AS "orm_books_1" ON )"
        R"("orm_authors"."id" = "orm_books_1"."author_id" LEFT OUTER JOIN "orm_reviews" AS "orm_reviews_2" ON )"
        R"("orm_books_1"."id" = "orm_reviews_2"."book_id")");
  auto rs = std::make_shared<BufferedResultSet>(
      std::vector<std::string>{"id", "name", "bid", "aid", "t", "p", "rid", "rbid", "stars"});
  auto row = [&](int a, std::optional<int> b, std::optional<int> r) {
    rs->push_int(a);
    rs->push_text("n");
    if (b) {
      rs->push_int(*b);
      rs->push_int(a);
      rs->push_text("t");
      rs->push_null();
    } else {
      for (int i = 0; i < 4; ++i) rs->push_null();
    }
    if (r) {
      rs->push_int(*r);
      rs->push_int(*b);
      rs->push_int(5);
    } else {
      for (int i = 0; i < 3; ++i) rs->push_null();
    }
  };
  row(1, 10, 100);
  row(1, 10, 101);
  row(1, 11, std::nullopt);
  row(2, std::nullopt, std::nullopt);
  plan.feed({Result(rs)});
  CHECK(plan.next() == nullptr);
  REQUIRE(plan.results().size() == 2);
  auto a1 = std::static_pointer_cast<Author>(plan.results()[0]);
  auto a2 = std::static_pointer_cast<Author>(plan.results()[1]);
  REQUIRE(a1->books.size() == 2);
  CHECK(a1->books[0]->reviews.size() == 2);
  CHECK(a1->books[1]->reviews.is_loaded());
  CHECK(a1->books[1]->reviews.empty());
  CHECK(a2->books.is_loaded());
  CHECK(a2->books.empty());
}

TEST_CASE("selectinload then joinedload joins the second level into the selectin statement", "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(),
                               {selectinload(&Author::books).joinedload(&Book::reviews)}, false);
  REQUIRE(plan.next());
  plan.feed({ints({"id", "name"}, {})});
  CHECK(plan.next() == nullptr);  // no authors: nothing below

  auto plan2 = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(),
                                {selectinload(&Author::books).joinedload(&Book::reviews)}, false);
  REQUIRE(plan2.next());
  auto as = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  as->push_int(1);
  as->push_text("a");
  plan2.feed({Result(as)});
  const orm::Step* st = plan2.next();
  REQUIRE(st);
  CHECK(st->sql().find(R"(LEFT OUTER JOIN "orm_reviews" AS "orm_reviews_1" ON "orm_books"."id" = "orm_reviews_1"."book_id" WHERE "orm_books"."author_id" = ANY($1))") !=
        std::string::npos);
  auto bs = std::make_shared<BufferedResultSet>(
      std::vector<std::string>{"id", "author_id", "title", "pages", "rid", "rbid", "stars"});
  for (int r : {100, 101}) {
    bs->push_int(10);
    bs->push_int(1);
    bs->push_text("t");
    bs->push_null();
    bs->push_int(r);
    bs->push_int(10);
    bs->push_int(4);
  }
  plan2.feed({Result(bs)});
  CHECK(plan2.next() == nullptr);
  auto a = std::static_pointer_cast<Author>(plan2.results()[0]);
  REQUIRE(a->books.size() == 1);  // two rows, one book
  CHECK(a->books[0]->reviews.size() == 2);
}

TEST_CASE("a nested subqueryload embeds the query of the level above", "[orm][unit][load]") {
  auto core = make_core();
  auto stmt = select<Author>().where(col(&Author::name) == "x").limit(3);
  auto plan = core->query_plan(orm::entity_ops<Author>(), stmt.core(),
                               {subqueryload(&Author::books).subqueryload(&Book::reviews)}, false);
  REQUIRE(plan.next());
  plan.feed({ints({"id", "name"}, {})});  // ids only matter for "is there anything"
  CHECK(plan.next() == nullptr);

  auto as = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  as->push_int(1);
  as->push_text("x");
  auto plan2 = core->query_plan(orm::entity_ops<Author>(), stmt.core(),
                                {subqueryload(&Author::books).subqueryload(&Book::reviews)}, false);
  REQUIRE(plan2.next());
  plan2.feed({Result(as)});
  REQUIRE(plan2.next());
  auto bs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "author_id", "title", "pages"});
  bs->push_int(10);
  bs->push_int(1);
  bs->push_text("t");
  bs->push_null();
  plan2.feed({Result(bs)});
  const orm::Step* st = plan2.next();
  REQUIRE(st);
  CHECK(st->sql() ==
        R"(SELECT "orm_reviews"."id", "orm_reviews"."book_id", "orm_reviews"."stars" FROM "orm_reviews" WHERE )"
        R"("orm_reviews"."book_id" IN (SELECT "orm_books"."id" FROM "orm_books" WHERE "orm_books"."author_id" IN )"
        R"((SELECT "orm_authors"."id" FROM "orm_authors" WHERE "orm_authors"."name" = $1 LIMIT $2)))");
  REQUIRE(st->statements[0].params.size() == 2);
  plan2.feed({ints({"id", "book_id", "stars"}, {{100, 10, 3}})});
  CHECK(plan2.next() == nullptr);
  CHECK(std::static_pointer_cast<Author>(plan2.results()[0])->books[0]->reviews.size() == 1);
}

TEST_CASE("a flush writes many-to-many association rows after both objects are inserted", "[orm][unit][flush]") {
  auto core = make_core();
  auto b = std::make_shared<Book>();
  b->author_id = 1;
  b->author = nullptr;
  auto x = std::make_shared<Tag>(Tag{0, "x"});
  b->tags = Many<Tag>::container{x};
  core->add(orm::entity_ops<Book>(), b);
  std::vector<std::string> sql;
  {
    auto plan = core->flush_plan();
    while (const orm::Step* st = plan.next()) {
      sql.push_back(st->sql());
      if (st->sql().rfind("INSERT INTO \"orm_books\"", 0) == 0)
        plan.feed({ints({"id", "author_id", "title", "pages"}, {{7, 1, 0, 0}})});
      else if (st->sql().rfind("INSERT INTO \"orm_tags\"", 0) == 0)
        plan.feed({ints({"id", "label"}, {{3, 0}})});
      else {
        CHECK(st->statements[0].params == std::vector<Value>{Value(std::int64_t{7}), Value(std::int64_t{3})});
        plan.feed({ints({}, {{}})});
      }
    }
  }
  REQUIRE(sql.size() == 3);
  CHECK(sql[2] == R"(INSERT INTO "orm_book_tags" ("book_id", "tag_id") VALUES ($1, $2))");
  // Removing the tag deletes the row; nothing else changes.
  b->tags.remove(x);
  auto plan = core->flush_plan();
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(DELETE FROM "orm_book_tags" WHERE "orm_book_tags"."book_id" = $1 AND "orm_book_tags"."tag_id" = $2)");
  plan.feed({ints({}, {{}})});
  CHECK(plan.next() == nullptr);
}

TEST_CASE("a composite key selects by every key column and the wrong arity is refused", "[orm][unit][identity]") {
  std::vector<Value> key{Value(std::int64_t{1}), Value(std::int64_t{2})};
  auto sel = orm::SessionCore::key_select(orm::entity_ops<BookTag>(), key);
  CHECK(*sql::detail::compile(sel, Dialect::postgresql).sql ==
        R"(SELECT "orm_book_tags"."book_id", "orm_book_tags"."tag_id" FROM "orm_book_tags" WHERE )"
        R"("orm_book_tags"."book_id" = $1 AND "orm_book_tags"."tag_id" = $2)");
  CHECK(orm::key_values(std::tuple{1, std::int64_t{2}}) == key);
  CHECK_THROWS_AS(orm::SessionCore::check_key(orm::entity_ops<BookTag>(), std::vector<Value>{Value(1)}), UsageError);
}

TEST_CASE("selectinload orders each collection by the target's key on the client, not with ORDER BY",
          "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {selectinload(&Author::books)}, false);
  REQUIRE(plan.next());
  plan.feed({ints({"id", "name"}, {})});
  CHECK(plan.next() == nullptr);  // no authors: no second statement

  auto plan2 = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {selectinload(&Author::books)}, false);
  REQUIRE(plan2.next());
  auto as = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  for (int a : {1, 2}) {
    as->push_int(a);
    as->push_text("a");
  }
  plan2.feed({Result(as)});
  const orm::Step* st = plan2.next();
  REQUIRE(st);
  CHECK(st->sql() ==
        R"(SELECT "orm_books"."id", "orm_books"."author_id", "orm_books"."title", "orm_books"."pages" FROM )"
        R"("orm_books" WHERE "orm_books"."author_id" = ANY($1))");
  // The rows come back the way a server's heap order might have them: interleaved, keys descending.
  auto bs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "author_id", "title", "pages"});
  for (auto [id, author] : std::vector<std::pair<int, int>>{{30, 1}, {25, 2}, {10, 1}, {20, 1}, {15, 2}}) {
    bs->push_int(id);
    bs->push_int(author);
    bs->push_text("t");
    bs->push_null();
  }
  plan2.feed({Result(bs)});
  CHECK(plan2.next() == nullptr);
  auto authors = plan2.results();
  REQUIRE(authors.size() == 2);
  auto ids = [](const std::shared_ptr<void>& a) {
    std::vector<std::int64_t> out;
    for (auto& b : static_cast<Author*>(a.get())->books) out.push_back(b->id);
    return out;
  };
  CHECK(ids(authors[0]) == std::vector<std::int64_t>{10, 20, 30});
  CHECK(ids(authors[1]) == std::vector<std::int64_t>{15, 25});
}

TEST_CASE("selectinload with a joinedload below keeps ORDER BY on the target's key", "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(),
                               {selectinload(&Author::books).joinedload(&Book::reviews)}, false);
  REQUIRE(plan.next());
  auto as = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  as->push_int(1);
  as->push_text("a");
  plan.feed({Result(as)});
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql().ends_with(R"( ORDER BY "orm_books"."id")"));
}
