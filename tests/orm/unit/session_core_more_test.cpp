// More of the session core with no database: identity keys, savepoint bookkeeping, the N+1
// detector, nested loader chains and delete-orphan.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "corm/core/result_set.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/detail/identity_key.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "orm/orm_models.hpp"

using namespace corm;
using namespace corm::orm_test;

namespace {

std::shared_ptr<orm::SessionCore> make_core(SessionOptions o = {}, LogSink log = {}) {
  return std::make_shared<orm::SessionCore>(Dialect::postgresql, o, std::move(log));
}

Result ints(std::vector<std::string> cols, std::vector<std::vector<std::int64_t>> rows) {
  auto rs = std::make_shared<BufferedResultSet>(std::move(cols));
  for (auto& r : rows)
    for (auto v : r) rs->push_int(v);
  rs->set_affected_rows(static_cast<std::int64_t>(rows.size()));
  return Result(rs);
}

Result authors(std::vector<std::int64_t> ids) {
  auto rs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  for (auto id : ids) {
    rs->push_int(id);
    rs->push_text("a");
  }
  return Result(rs);
}

}  // namespace

TEST_CASE("identity keys of one number are equal whatever the integer width", "[orm][unit][identity]") {
  std::vector<Value> a{Value(std::int32_t{5})}, b{Value(std::int64_t{5})}, c{Value("5")};
  CHECK(orm::encode_key(a) == orm::encode_key(b));
  CHECK(orm::encode_key(a) != orm::encode_key(c));
  std::vector<Value> ab{Value(std::int64_t{1}), Value("x")}, ba{Value("x"), Value(std::int64_t{1})};
  CHECK(orm::encode_key(ab) != orm::encode_key(ba));
  CHECK(orm::has_null(std::vector<Value>{Value(), Value(1)}));
}

TEST_CASE("identity keys hash every byte of the key and the table apart", "[orm][unit][identity]") {
  // The identity set trusts the key's hash as fully mixed; a hash that ignored a byte range or
  // the table would collide here by the thousands.
  TableInfo authors, books;
  std::unordered_set<std::size_t> seen;
  std::size_t keys = 0;
  auto add = [&](const TableInfo& t, const Value& v) {
    const orm::IdentityKey k = orm::IdentityKey::of(&t, v);
    CHECK(k == orm::IdentityKey::of(&t, Value(v)));
    CHECK(k.hash() == orm::IdentityKey::of(&t, Value(v)).hash());
    seen.insert(k.hash());
    ++keys;
  };
  for (std::int64_t i = 1; i <= 50'000; ++i) {
    add(authors, Value(i));  // integer keys: held as the integer
    add(books, Value(i));    // the same values on another table
  }
  for (std::int64_t i = 0; i < 20'000; ++i) {
    add(authors, Value("k" + std::to_string(i)));                              // short text: one word
    add(authors, Value("code-" + std::to_string(i % 1000) + "-" + std::to_string(i / 1000)));  // up to 16 bytes
    add(authors, Value("code-" + std::to_string(i) + "-long-enough"));  // over 16 bytes
  }
  CHECK(seen.size() == keys);
  CHECK(orm::IdentityKey::of(&authors, Value(7)) != orm::IdentityKey::of(&books, Value(7)));
  // One number is one key whatever the width it arrives in; its text is another key.
  CHECK(orm::IdentityKey::of(&authors, Value(std::int32_t{7})) == orm::IdentityKey::of(&authors, Value(std::int64_t{7})));
  CHECK(orm::IdentityKey::of(&authors, Value(7)) != orm::IdentityKey::of(&authors, Value("7")));
  // A composite key is encoded: (1, "x") and ("x", 1) differ.
  const std::vector<Value> ab{Value(std::int64_t{1}), Value("x")}, ba{Value("x"), Value(std::int64_t{1})};
  CHECK(orm::IdentityKey::of(&authors, ab) != orm::IdentityKey::of(&authors, ba));
  CHECK(orm::IdentityKey::of(&authors, std::vector<Value>{Value(9)}) == orm::IdentityKey::of(&authors, Value(9)));
}

TEST_CASE("rolling back to a savepoint forgets the objects added after it", "[orm][unit][transactions]") {
  auto core = make_core();
  auto a = std::make_shared<Author>();
  core->add(orm::entity_ops<Author>(), a);
  {
    auto plan = core->flush_plan();
    REQUIRE(plan.next());
    plan.feed({authors({1})});
    CHECK(plan.next() == nullptr);
  }
  auto mark = core->savepoint_mark();
  auto b = std::make_shared<Author>();
  core->add(orm::entity_ops<Author>(), b);
  {
    auto plan = core->flush_plan();
    REQUIRE(plan.next());
    plan.feed({authors({2})});
  }
  core->after_savepoint_rollback(mark);
  CHECK(core->state_of(a.get()) != nullptr);
  CHECK(core->state_of(b.get()) == nullptr);
  std::vector<Value> k2{Value(std::int64_t{2})};
  CHECK(core->lookup(orm::entity_ops<Author>(), k2) == nullptr);
}

TEST_CASE("the N+1 detector warns once per statement shape, and throws in strict mode", "[orm][unit][n_plus_one]") {
  auto warnings = std::make_shared<std::vector<std::string>>();
  SessionOptions o;
  o.n_plus_one_threshold = 3;
  auto core = make_core(o, [warnings](LogLevel, std::string_view line) { warnings->emplace_back(line); });
  orm::Step lazy;
  lazy.lazy = true;
  lazy.relationship = "orm_authors.books";
  lazy.statements.push_back(Compiled{std::make_shared<const std::string>("SELECT lazy"), {}});
  orm::Step eager = lazy;
  eager.lazy = false;
  eager.statements[0].sql = std::make_shared<const std::string>("SELECT eager");
  for (int i = 0; i < 10; ++i) core->record(eager, std::chrono::nanoseconds(1));
  CHECK(warnings->empty());
  for (int i = 0; i < 10; ++i) core->record(lazy, std::chrono::nanoseconds(1));
  REQUIRE(warnings->size() == 1);
  CHECK_THAT(warnings->front(), Catch::Contains("orm_authors.books") && Catch::Contains("selectinload"));
  CHECK(core->stats().find("SELECT lazy")->lazy_count == 10);
  CHECK(core->stats().statements() == 20);

  o.strict_n_plus_one = true;
  auto strict = make_core(o);
  strict->record(lazy, std::chrono::nanoseconds(1));
  strict->record(lazy, std::chrono::nanoseconds(1));
  CHECK_THROWS_AS(strict->record(lazy, std::chrono::nanoseconds(1)), NPlusOneError);
}

TEST_CASE("a nested selectin chain plans one query per level", "[orm][unit][load]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(),
                               {selectinload(&Author::books).selectinload(&Book::reviews)}, false);
  const orm::Step* st = plan.next();
  REQUIRE(st);
  plan.feed({authors({1, 2})});
  st = plan.next();
  REQUIRE(st);
  CHECK(st->sql().find(R"("orm_books"."author_id" = ANY($1))") != std::string::npos);
  auto books = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "author_id", "title", "pages"});
  books->push_int(10);
  books->push_int(1);
  books->push_text("t");
  books->push_null();
  plan.feed({Result(books)});
  st = plan.next();
  REQUIRE(st);
  CHECK(st->sql().find(R"("orm_reviews"."book_id" = ANY($1))") != std::string::npos);
  REQUIRE(st->statements[0].params.size() == 1);
  plan.feed({ints({"id", "book_id", "stars"}, {{100, 10, 4}, {101, 10, 5}})});
  CHECK(plan.next() == nullptr);
  auto a1 = std::static_pointer_cast<Author>(plan.results()[0]);
  REQUIRE(a1->books.size() == 1);
  CHECK(a1->books[0]->reviews.size() == 2);
  // The second level found nothing to load for author 2.
  CHECK(std::static_pointer_cast<Author>(plan.results()[1])->books.empty());
}

TEST_CASE("a child taken out of a delete-orphan collection is deleted at flush", "[orm][unit][cascade]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Parent>(), select<Parent>().core(),
                               {selectinload(&Parent::children)}, false);
  REQUIRE(plan.next());
  auto ps = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  ps->push_int(1);
  ps->push_text("p");
  plan.feed({Result(ps)});
  REQUIRE(plan.next());
  auto cs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "parent_id", "name"});
  for (int i = 1; i <= 2; ++i) {
    cs->push_int(i);
    cs->push_int(1);
    cs->push_text("c");
  }
  plan.feed({Result(cs)});
  REQUIRE(plan.next() == nullptr);
  auto p = std::static_pointer_cast<Parent>(plan.results()[0]);
  REQUIRE(p->children.size() == 2);
  auto gone = p->children[0];
  p->children.remove(gone);
  auto flush = core->flush_plan();
  const orm::Step* st = flush.next();
  REQUIRE(st);
  CHECK(st->sql() == R"(DELETE FROM "orm_children" WHERE "orm_children"."id" = $1)");
  CHECK(st->statements[0].params[0] == Value(std::int64_t{1}));
  flush.feed({ints({}, {{}})});
  CHECK(flush.next() == nullptr);
  CHECK(core->state_of(gone.get()) == nullptr);
}

TEST_CASE("moving a child to another parent updates its foreign key and a direct key change is kept",
          "[orm][unit][flush]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Book>(), select<Book>().core(), {selectinload(&Book::author)}, false);
  REQUIRE(plan.next());
  auto bs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "author_id", "title", "pages"});
  for (int i = 1; i <= 2; ++i) {
    bs->push_int(10 + i);
    bs->push_int(1);
    bs->push_text("t");
    bs->push_null();
  }
  plan.feed({Result(bs)});
  REQUIRE(plan.next());
  plan.feed({authors({1, 2})});
  REQUIRE(plan.next() == nullptr);
  auto b1 = std::static_pointer_cast<Book>(plan.results()[0]);
  auto b2 = std::static_pointer_cast<Book>(plan.results()[1]);
  std::vector<Value> k2{Value(std::int64_t{2})};
  auto a2 = std::static_pointer_cast<Author>(core->lookup(orm::entity_ops<Author>(), k2));
  REQUIRE(a2);
  b1->author = a2;       // through the relationship
  b2->author_id = 2;     // through the key; b2->author still points at author 1
  auto flush = core->flush_plan();
  const orm::Step* st = flush.next();
  REQUIRE(st);
  REQUIRE(st->statements.size() == 2);  // same SQL: one step
  CHECK(st->sql() == R"(UPDATE "orm_books" SET "author_id" = $1 WHERE "orm_books"."id" = $2)");
  CHECK(st->statements[0].params[0] == Value(std::int64_t{2}));
  CHECK(st->statements[1].params[0] == Value(std::int64_t{2}));
  flush.feed({ints({}, {{}}), ints({}, {{}})});
  CHECK(flush.next() == nullptr);
  CHECK(b1->author_id == 2);
  CHECK(b2->author_id == 2);
}

TEST_CASE("one flush sends inserts, then updates, then deletes", "[orm][unit][flush]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {}, false);
  REQUIRE(plan.next());
  plan.feed({authors({1, 2})});
  auto a1 = std::static_pointer_cast<Author>(plan.results()[0]);
  auto a2 = std::static_pointer_cast<Author>(plan.results()[1]);
  core->mark_deleted(orm::entity_ops<Author>(), a2);
  a1->name = "renamed";
  auto n = std::make_shared<Author>();
  n->name = "new";
  core->add(orm::entity_ops<Author>(), n);
  auto flush = core->flush_plan();
  std::vector<std::string> transcript;
  while (const orm::Step* st = flush.next()) {
    transcript.push_back(st->sql());
    if (st->sql().rfind("INSERT", 0) == 0) flush.feed({authors({3})});
    else flush.feed({ints({}, {{}})});
  }
  REQUIRE(transcript.size() == 3);
  CHECK(transcript[0] == R"(INSERT INTO "orm_authors" ("name") VALUES ($1) RETURNING "id")");
  CHECK(transcript[1] == R"(UPDATE "orm_authors" SET "name" = $1 WHERE "orm_authors"."id" = $2)");
  CHECK(transcript[2] == R"(DELETE FROM "orm_authors" WHERE "orm_authors"."id" = $1)");
  CHECK(n->id == 3);
  CHECK(core->state_of(a2.get()) == nullptr);
}

TEST_CASE("closing a session frees object cycles nothing outside refers to", "[orm][unit][memory]") {
  std::weak_ptr<Author> dropped, kept_author;
  std::shared_ptr<Author> kept;
  {
    auto core = make_core();
    {
      auto plan =
          core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {selectinload(&Author::books)}, false);
      REQUIRE(plan.next());
      plan.feed({authors({1, 2})});
      REQUIRE(plan.next());
      plan.feed({ints({"id", "author_id", "title", "pages"}, {})});
      REQUIRE(plan.next() == nullptr);
      auto a1 = std::static_pointer_cast<Author>(plan.results()[0]);
      // a1 <-> its book: a cycle through Many<Book> and One<Author>
      auto b = std::make_shared<Book>();
      b->author = a1;
      a1->books.set({b});
      core->add(orm::entity_ops<Book>(), b);
      dropped = a1;
      kept = std::static_pointer_cast<Author>(plan.results()[1]);
      kept_author = kept;
    }
    core->close();
    CHECK(dropped.expired());
    CHECK(kept->books.is_loaded());  // still referenced: its graph survives close()
  }
  CHECK(!kept_author.expired());
}

TEST_CASE("closing a session of a model without relationship cycles frees what nothing refers to",
          "[orm][unit][memory]") {
  // Parent.children has no way back to Parent: the cycle scan is skipped, and the objects must
  // still go when their last outside reference does.
  std::weak_ptr<Parent> dropped;
  std::weak_ptr<Child> dropped_child, kept_child;
  std::shared_ptr<Parent> kept;
  {
    auto core = make_core();
    {
      auto plan = core->query_plan(orm::entity_ops<Parent>(), select<Parent>().core(),
                                   {selectinload(&Parent::children)}, false);
      REQUIRE(plan.next());
      auto ps = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
      for (int id : {1, 2}) {
        ps->push_int(id);
        ps->push_text("p");
      }
      plan.feed({Result(ps)});
      REQUIRE(plan.next());
      auto cs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "parent_id", "name"});
      for (auto [id, parent] : std::vector<std::pair<int, int>>{{10, 1}, {20, 2}}) {
        cs->push_int(id);
        cs->push_int(parent);
        cs->push_text("c");
      }
      plan.feed({Result(cs)});
      REQUIRE(plan.next() == nullptr);
      auto p1 = std::static_pointer_cast<Parent>(plan.results()[0]);
      kept = std::static_pointer_cast<Parent>(plan.results()[1]);
      dropped = p1;
      dropped_child = p1->children[0];
      kept_child = kept->children[0];
    }
    core->close();
    CHECK(dropped.expired());
    CHECK(dropped_child.expired());
    REQUIRE(kept->children.is_loaded());
    CHECK(kept->children[0]->id == 20);
  }
  CHECK(kept->children.size() == 1);  // the session's end leaves a held graph alone
  kept.reset();
  CHECK(kept_child.expired());
}

TEST_CASE("subqueryload embeds the parents' query, filter and limit included", "[orm][unit][load]") {
  auto core = make_core();
  auto stmt = select<Author>().where(col(&Author::name) != "nobody").order_by(col(&Author::id)).limit(5);
  auto plan = core->query_plan(orm::entity_ops<Author>(), stmt.core(), {subqueryload(&Author::books)}, false);
  REQUIRE(plan.next());
  plan.feed({authors({1, 2})});
  const orm::Step* st = plan.next();
  REQUIRE(st);
  CHECK(st->sql().find(R"(WHERE "orm_books"."author_id" IN (SELECT "orm_authors"."id" FROM "orm_authors" WHERE)") !=
        std::string::npos);
  CHECK(st->sql().find("LIMIT") != std::string::npos);
  REQUIRE(st->statements[0].params.size() == 2);  // the name and the limit, no key list
  CHECK(st->statements[0].params[0] == Value("nobody"));
  plan.feed({ints({"id", "author_id", "title", "pages"}, {})});
  CHECK(plan.next() == nullptr);
  CHECK(std::static_pointer_cast<Author>(plan.results()[0])->books.empty());
}

TEST_CASE("a child moved between collections is re-parented, one just removed needs delete-orphan",
          "[orm][unit][flush]") {
  auto core = make_core();
  auto plan = core->query_plan(orm::entity_ops<Author>(), select<Author>().core(), {selectinload(&Author::books)}, false);
  REQUIRE(plan.next());
  plan.feed({authors({1, 2})});
  REQUIRE(plan.next());
  auto bs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "author_id", "title", "pages"});
  for (int i = 1; i <= 2; ++i) {
    bs->push_int(10 + i);
    bs->push_int(1);
    bs->push_text("t");
    bs->push_null();
  }
  plan.feed({Result(bs)});
  REQUIRE(plan.next() == nullptr);
  auto a1 = std::static_pointer_cast<Author>(plan.results()[0]);
  auto a2 = std::static_pointer_cast<Author>(plan.results()[1]);
  auto moved = a1->books[0];
  a1->books.remove(moved);
  a2->books.push_back(moved);
  {
    auto flush = core->flush_plan();
    const orm::Step* st = flush.next();
    REQUIRE(st);
    CHECK(st->sql() == R"(UPDATE "orm_books" SET "author_id" = $1 WHERE "orm_books"."id" = $2)");
    CHECK(st->statements[0].params[0] == Value(std::int64_t{2}));
    flush.feed({ints({}, {{}})});
    CHECK(flush.next() == nullptr);
  }
  a1->books.remove(a1->books[0]);  // nowhere else, author_id NOT NULL, no delete-orphan
  try {
    core->flush_plan();
    FAIL("expected UsageError");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("delete_orphan"));
  }
}
