// The session core with no database: flush plans and load plans are driven by hand and fed
// hand-made results, and the SQL they hand out is asserted as a transcript.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "corm/core/result_set.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "orm/orm_models.hpp"

using namespace corm;
using namespace corm::orm_test;

namespace {

std::shared_ptr<orm::SessionCore> make_core(SessionOptions o = {}) {
  return std::make_shared<orm::SessionCore>(Dialect::sqlite, o, LogSink{});
}

// A result with one row of int/text cells (what INSERT ... RETURNING sends back).
Result row_result(std::vector<std::string> cols, std::vector<Value> cells) {
  auto rs = std::make_shared<BufferedResultSet>(std::move(cols));
  for (const Value& v : cells) {
    if (v.is_null()) rs->push_null();
    else if (auto* i = std::get_if<std::int64_t>(&v.storage())) rs->push_int(*i);
    else rs->push_text(std::get<std::string>(v.storage()));
  }
  rs->set_affected_rows(1);
  return Result(rs);
}

Result affected(std::int64_t n) {
  auto rs = std::make_shared<BufferedResultSet>();
  rs->set_affected_rows(n);
  return Result(rs);
}

}  // namespace

TEST_CASE("flush inserts parents first and copies generated keys into children", "[orm][unit][flush]") {
  auto core = make_core();
  auto a = std::make_shared<Author>();
  a->name = "Ann";
  auto b1 = std::make_shared<Book>();
  b1->title = "one";
  auto b2 = std::make_shared<Book>();
  b2->title = "two";
  a->books.set({b1, b2});
  core->add(orm::entity_ops<Author>(), a);

  auto plan = core->flush_plan();
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(INSERT INTO "orm_authors" ("name") VALUES (?1) RETURNING "id")");
  REQUIRE(st->statements.size() == 1);
  plan.feed({row_result({"id", "name"}, {Value(std::int64_t{7}), Value("Ann")})});
  CHECK(a->id == 7);

  st = plan.next();
  REQUIRE(st);
  // Both books have the same column set: one step of two statements (one batch).
  REQUIRE(st->statements.size() == 2);
  CHECK(st->sql().rfind(R"(INSERT INTO "orm_books" ("author_id", "title", "pages"))", 0) == 0);
  CHECK(st->statements[0].params[0] == Value(std::int64_t{7}));
  CHECK(st->statements[1].params[0] == Value(std::int64_t{7}));
  CHECK(b1->author_id == 7);
  plan.feed({row_result({"id", "author_id", "title", "pages"}, {Value(std::int64_t{1}), Value(std::int64_t{7}), Value("one"), Value()}),
             row_result({"id", "author_id", "title", "pages"}, {Value(std::int64_t{2}), Value(std::int64_t{7}), Value("two"), Value()})});
  CHECK(b2->id == 2);
  CHECK(plan.next() == nullptr);

  // Now in the identity map.
  std::vector<Value> key{Value(std::int64_t{2})};
  CHECK(core->lookup(orm::entity_ops<Book>(), key) == b2);
}

TEST_CASE("dirty tracking updates only the changed columns", "[orm][unit][flush]") {
  auto core = make_core();
  auto b = std::make_shared<Book>();
  b->author_id = 1;
  b->title = "t";
  core->add(orm::entity_ops<Book>(), b);
  {
    auto plan = core->flush_plan();
    REQUIRE(plan.next());
    plan.feed({row_result({"id", "author_id", "title", "pages"}, {Value(std::int64_t{3}), Value(std::int64_t{1}), Value("t"), Value()})});
    CHECK(plan.next() == nullptr);
  }
  {
    auto plan = core->flush_plan();  // nothing changed: nothing to send
    CHECK(plan.next() == nullptr);
  }
  b->title = "new title";  // plain assignment
  auto plan = core->flush_plan();
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(UPDATE "orm_books" SET "title" = ?1 WHERE "orm_books"."id" = ?2)");
  plan.feed({affected(1)});
  CHECK(plan.next() == nullptr);
}

TEST_CASE("an UPDATE of a versioned row that matches nothing raises StaleDataError", "[orm][unit][flush]") {
  auto core = make_core();
  auto d = std::make_shared<Doc>();
  d->body = "x";
  core->add(orm::entity_ops<Doc>(), d);
  {
    auto plan = core->flush_plan();
    const orm::Step* st = plan.next();
    REQUIRE(st);
    CHECK(st->statements[0].params.back() == Value(std::int64_t{1}));  // version starts at 1
    plan.feed({row_result({"id", "body", "version"}, {Value(std::int64_t{1}), Value("x"), Value(std::int64_t{1})})});
    CHECK(plan.next() == nullptr);
  }
  d->body = "y";
  auto plan = core->flush_plan();
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql() ==
        R"(UPDATE "orm_docs" SET "body" = ?1, "version" = ?2 WHERE "orm_docs"."version" = ?3 AND "orm_docs"."id" = ?4)");
  CHECK_THROWS_AS(plan.feed({affected(0)}), StaleDataError);
}

TEST_CASE("deletes run children first", "[orm][unit][flush]") {
  auto core = make_core();
  auto p = std::make_shared<Parent>();
  auto c = std::make_shared<Child>();
  p->children.set({c});
  core->add(orm::entity_ops<Parent>(), p);
  auto plan = core->flush_plan();
  REQUIRE(plan.next());
  plan.feed({row_result({"id", "name"}, {Value(std::int64_t{1}), Value("")})});
  REQUIRE(plan.next());
  plan.feed({row_result({"id", "parent_id", "name"}, {Value(std::int64_t{5}), Value(std::int64_t{1}), Value("")})});
  REQUIRE(plan.next() == nullptr);

  core->mark_deleted(orm::entity_ops<Parent>(), p);  // cascade: the loaded child goes too
  auto del = core->flush_plan();
  const orm::Step* st = del.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(DELETE FROM "orm_children" WHERE "orm_children"."id" = ?1)");
  del.feed({affected(1)});
  st = del.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(DELETE FROM "orm_parents" WHERE "orm_parents"."id" = ?1)");
  del.feed({affected(1)});
  CHECK(del.next() == nullptr);
}

TEST_CASE("a read-only core plans no flush", "[orm][unit][flush]") {
  SessionOptions o;
  o.read_only = true;
  auto core = make_core(o);
  CHECK_THROWS_AS(core->add(orm::entity_ops<Author>(), std::make_shared<Author>()), UsageError);
  auto plan = core->flush_plan();
  CHECK(plan.next() == nullptr);
}

TEST_CASE("selectin plan sends one IN query and wires collections through the identity map", "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {selectinload(&Author::books)}, false);
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(SELECT "orm_authors"."id", "orm_authors"."name" FROM "orm_authors")");
  auto rs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  for (int i = 1; i <= 3; ++i) {
    rs->push_int(i);
    rs->push_text("a" + std::to_string(i));
  }
  plan.feed({Result(rs)});
  st = plan.next();
  REQUIRE(st);
  CHECK(st->statements.size() == 1);
  CHECK(st->sql().find(R"(WHERE "orm_books"."author_id" IN (SELECT value FROM json_each(?1)))") != std::string::npos);
  auto books = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "author_id", "title", "pages"});
  for (int i = 1; i <= 4; ++i) {
    books->push_int(10 + i);
    books->push_int(i % 2 + 1);
    books->push_text("b");
    books->push_null();
  }
  plan.feed({Result(books)});
  CHECK(plan.next() == nullptr);
  auto authors = plan.results();
  REQUIRE(authors.size() == 3);
  auto a1 = std::static_pointer_cast<Author>(authors[0]);
  auto a2 = std::static_pointer_cast<Author>(authors[1]);
  auto a3 = std::static_pointer_cast<Author>(authors[2]);
  CHECK(a1->books.size() == 2);
  CHECK(a2->books.size() == 2);
  CHECK(a3->books.is_loaded());
  CHECK(a3->books.empty());
  std::vector<Value> key{Value(std::int64_t{11})};
  CHECK(core->lookup(orm::entity_ops<Book>(), key) == a2->books[0]);
}

TEST_CASE("joined plan de-duplicates parent rows", "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {joinedload(&Author::books)}, false);
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql().find(R"(LEFT OUTER JOIN "orm_books")") != std::string::npos);
  auto rs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name", "bid", "aid", "t", "p"});
  auto row = [&](int a, std::optional<int> b) {
    rs->push_int(a);
    rs->push_text("n");
    if (b) { rs->push_int(*b); rs->push_int(a); rs->push_text("t"); rs->push_null(); }
    else { rs->push_null(); rs->push_null(); rs->push_null(); rs->push_null(); }
  };
  row(1, 10);
  row(1, 11);
  row(2, std::nullopt);
  plan.feed({Result(rs)});
  CHECK(plan.next() == nullptr);
  REQUIRE(plan.results().size() == 2);
  CHECK(std::static_pointer_cast<Author>(plan.results()[0])->books.size() == 2);
  CHECK(std::static_pointer_cast<Author>(plan.results()[1])->books.empty());
}

TEST_CASE("raiseload and the async front's lazy load raise errors naming the attribute", "[orm][unit][load]") {
  auto core = make_core();  // no lazy runner: behaves like AsyncSession
  auto rs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  rs->push_int(1);
  rs->push_text("a");
  rs->push_int(2);
  rs->push_text("b");
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {}, false);
  REQUIRE(plan.next());
  plan.feed({Result(rs)});
  auto a = std::static_pointer_cast<Author>(plan.results()[0]);
  try {
    (void)a->books.size();
    FAIL("expected LazyLoadError");
  } catch (const LazyLoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("selectinload") &&
                             Catch::Contains("session.load"));
  }

  auto plan2 = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {raiseload(&Author::books)}, false);
  REQUIRE(plan2.next());
  plan2.feed({Result(rs)});
  auto b = std::static_pointer_cast<Author>(plan2.results()[1]);
  try {
    (void)b->books.size();
    FAIL("expected RaiseLoadError");
  } catch (const RaiseLoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("raiseload"));
  }
}

TEST_CASE("joinedload of a collection with LIMIT is refused with the fix", "[orm][unit][load]") {
  auto core = make_core();
  try {
    (void)core->query_plan(orm::entity_ops<Author>(), select<Author>().limit(10).core(), {joinedload(&Author::books)},
                           false);
    FAIL("expected UsageError");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("selectinload"));
  }
  // A to-one join with LIMIT is fine: it cannot multiply rows.
  auto plan = core->query_plan(orm::entity_ops<Book>(), select<Book>().limit(10).core(), {joinedload(&Book::author)}, false);
  REQUIRE(plan.next());
  CHECK(plan.next()->sql().find("LEFT OUTER JOIN") != std::string::npos);
}

TEST_CASE("objects of one table added in between others still form one INSERT step", "[orm][unit][flush]") {
  auto core = make_core();
  std::vector<std::shared_ptr<Author>> as;
  for (int i = 0; i < 3; ++i) {
    auto a = std::make_shared<Author>();
    a->name = "a";
    core->add(orm::entity_ops<Author>(), a);
    core->add(orm::entity_ops<Counter>(), std::make_shared<Counter>(Counter{i + 1, 0}));
    as.push_back(a);
  }
  auto plan = core->flush_plan();
  std::vector<std::size_t> sizes;
  while (const orm::Step* st = plan.next()) {
    sizes.push_back(st->statements.size());
    std::vector<Result> rs;
    for (std::size_t i = 0; i < st->statements.size(); ++i) {
      if (st->sql().find("orm_authors") != std::string::npos)
        rs.push_back(row_result({"id", "name"}, {Value(static_cast<std::int64_t>(i + 1)), Value("a")}));
      else
        rs.push_back(row_result({"id", "value"}, {Value(static_cast<std::int64_t>(i + 1)), Value(std::int64_t{0})}));
    }
    plan.feed(std::move(rs));
  }
  CHECK(sizes == std::vector<std::size_t>{3, 3});
}
