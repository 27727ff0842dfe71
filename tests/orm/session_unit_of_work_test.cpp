// The unit of work through a Session: flush order and foreign keys, dirty tracking, savepoints,
// optimistic locking, cascades and read-only sessions.

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "corm/orm/session.hpp"
#include "corm/orm/detail/session_access.hpp"
#include "orm/orm_db.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
using corm::test::QueryCounter;

namespace {

// Records the SQL text of every statement an engine sends.
struct Transcript {
  std::shared_ptr<std::vector<std::string>> sql = std::make_shared<std::vector<std::string>>();
  explicit Transcript(Engine& e) {
    e.events().before_execute([s = sql](const StatementEvent& ev) { s->emplace_back(ev.sql); });
  }
  std::vector<std::string> take() { return std::exchange(*sql, {}); }
  static std::size_t count(const std::vector<std::string>& v, std::string_view prefix) {
    std::size_t n = 0;
    for (const auto& s : v) n += s.rfind(prefix, 0) == 0;
    return n;
  }
};

std::int64_t count_rows(Engine& e, std::string_view table) {
  Connection c = e.connect();
  return c.exec_driver_sql("SELECT count(*) FROM " + std::string(table)).scalar_one<std::int64_t>();
}

// An author with `books` books, committed by a session of its own; returns the author's id.
std::int64_t author_with_books(Engine& engine, int books) {
  Session s(engine);
  auto a = std::make_shared<Author>();
  a->name = "x";
  Many<Book>::container items;
  for (int i = 0; i < books; ++i) {
    items.push_back(std::make_shared<Book>());
    items.back()->title = "t";
  }
  a->books = std::move(items);
  s.add(a);
  s.commit();
  return a->id;
}

}  // namespace

TEST_CASE("flush of a parent with children inserts the parent first and wires foreign keys", "[orm][flush]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  Transcript t(engine);
  {
    Session s(engine);
    auto a = std::make_shared<Author>();
    a->name = "Ann";
    s.add(a);  // a tracked new object's collections are loaded (empty): push_back works
    for (int i = 0; i < 3; ++i) {
      auto b = std::make_shared<Book>();
      b->title = "b" + std::to_string(i);
      a->books.push_back(b);
    }
    auto orphan_book = std::make_shared<Book>();  // many-to-one side: book -> author
    orphan_book->title = "via author";
    orphan_book->author = a;
    s.add(orphan_book);
    s.commit();
    CHECK(a->id != 0);
    for (auto& b : a->books) CHECK(b->author_id == a->id);
    CHECK(orphan_book->author_id == a->id);
  }
  auto sql = t.take();
  const std::string insert_author = "INSERT INTO " + quote_identifier(engine.dialect(), "orm_authors");
  const std::string insert_book = "INSERT INTO " + quote_identifier(engine.dialect(), "orm_books");
  std::size_t first_author = 0, first_book = sql.size();
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i].find(insert_author) != std::string::npos) first_author = i;
    if (sql[i].find(insert_book) != std::string::npos) first_book = std::min(first_book, i);
  }
  CHECK(first_author < first_book);
  CHECK(Transcript::count(sql, insert_book) == 4);
  Session check(engine);
  auto books = check.scalars(select<Book>().where(col(&Book::author_id) > 0));
  CHECK(books.size() == 4);
}

TEST_CASE("dirty tracking updates only the changed columns", "[orm][flush]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  Session s(engine);
  auto a = std::make_shared<Author>();
  a->name = "A";
  auto b = std::make_shared<Book>();
  b->title = "old";
  b->pages = 10;
  b->author = a;
  s.add(b);
  s.commit();
  Transcript t(engine);
  b->title = "new";  // plain assignment; pages unchanged
  s.commit();
  auto sql = t.take();
  REQUIRE(Transcript::count(sql, "UPDATE") == 1);
  const std::string ph1 = test::is_postgres() ? "$1" : test::is_mysql() ? "?" : "?1";
  const std::string ph2 = test::is_postgres() ? "$2" : test::is_mysql() ? "?" : "?2";
  const auto quoted = [&](std::string_view name) { return quote_identifier(engine.dialect(), name); };
  for (const auto& q : sql)
    if (q.rfind("UPDATE", 0) == 0)
      CHECK(q == "UPDATE " + quoted("orm_books") + " SET " + quoted("title") + " = " + ph1 + " WHERE " +
                     quoted("orm_books") + "." + quoted("id") + " = " + ph2);
  // Nothing changed: a commit sends no UPDATE.
  s.commit();
  CHECK(Transcript::count(t.take(), "UPDATE") == 0);
}

TEST_CASE("a loaded object is dirty-checked against the row it was loaded from", "[orm][flush]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::int64_t id = 0;
  {
    Session s(engine);
    auto a = std::make_shared<Author>();
    a->name = "A";
    auto b = std::make_shared<Book>();
    b->title = "old";
    b->pages = 10;
    b->author = a;
    s.add(b);
    s.commit();
    id = b->id;
  }
  Session s(engine);
  auto b = s.get<Book>(id);
  REQUIRE(b);
  Transcript t(engine);
  b->pages = 11;  // changed after the load, before anything compared
  b->title = "old";  // assigned, but equal to the row
  s.flush();
  auto sql = t.take();
  REQUIRE(Transcript::count(sql, "UPDATE") == 1);
  for (const auto& q : sql)
    if (q.rfind("UPDATE", 0) == 0)
      CHECK_THAT(q, Catch::StartsWith("UPDATE " + quote_identifier(engine.dialect(), "orm_books") + " SET " +
                                      quote_identifier(engine.dialect(), "pages") + " = "));
  s.flush();  // the flush made 11 the snapshot
  CHECK(Transcript::count(t.take(), "UPDATE") == 0);
  s.commit();

  {  // someone else renames the book; a refresh makes that row the new snapshot
    Connection c = engine.connect();
    c.exec_driver_sql("UPDATE orm_books SET title = 'other' WHERE id = " + std::to_string(id));
    c.commit();
  }
  s.refresh(b);
  CHECK(b->title == "other");
  t.take();
  s.flush();
  CHECK(Transcript::count(t.take(), "UPDATE") == 0);
  b->title = "mine";
  s.commit();
  CHECK(Transcript::count(t.take(), "UPDATE") == 1);
  Connection c = engine.connect();
  auto row = c.exec_driver_sql("SELECT title, pages FROM orm_books WHERE id = " + std::to_string(id)).one();
  CHECK(row.get<std::string>(0) == "mine");
  CHECK(row.get<std::int64_t>(1) == 11);
}

TEST_CASE("savepoints: work A and C commit although B failed", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  {
    Connection c = engine.connect();
    c.execute(insert<Counter>().values(Counter{1, 0}));
    c.commit();
  }
  Session s(engine);
  auto a = std::make_shared<Author>();
  a->name = "A";
  s.add(a);
  {
    auto sp = s.begin_nested();
    s.add(std::make_shared<Counter>(Counter{1, 99}));  // duplicate primary key: B fails
    CHECK_THROWS_AS(sp.commit(), IntegrityError);
    sp.rollback();
  }
  auto c = std::make_shared<Author>();
  c->name = "C";
  s.add(c);
  s.commit();
  CHECK(count_rows(engine, "orm_authors") == 2);
  Session check(engine);
  CHECK(check.get<Counter>(1)->value == 0);
}

TEST_CASE("two sessions updating one versioned row: the second gets StaleDataError", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::int64_t id = 0;
  {
    Session s(engine);
    auto d = std::make_shared<Doc>();
    d->body = "v1";
    s.add(d);
    s.commit();
    CHECK(d->version == 1);
    id = d->id;
  }
  Session s1(engine), s2(engine);
  auto d1 = s1.get<Doc>(id);
  auto d2 = s2.get<Doc>(id);
  s1.commit();
  s2.commit();  // end the read transactions (SQLite: no writer/reader lock-up)
  d1->body = "from s1";
  s1.commit();
  CHECK(d1->version == 2);
  d2->body = "from s2";
  try {
    s2.flush();
    FAIL("expected StaleDataError");
  } catch (const StaleDataError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_docs") && Catch::Contains("reload"));
    CHECK(e.is_retryable());
  }
  s2.rollback();
  s2.refresh(d2);
  CHECK(d2->body == "from s1");
  CHECK(d2->version == 2);
}

TEST_CASE("cascade delete removes children and delete-orphan removes the ones taken out", "[orm][cascade]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::int64_t pid = 0;
  {
    Session s(engine);
    auto p = std::make_shared<Parent>();
    p->name = "p";
    Many<Child>::container kids;
    for (int i = 0; i < 3; ++i) kids.push_back(std::make_shared<Child>(Child{0, 0, "c" + std::to_string(i)}));
    p->children = std::move(kids);
    s.add(p);  // save-update cascade adds the children
    s.commit();
    pid = p->id;
  }
  CHECK(count_rows(engine, "orm_children") == 3);
  {
    Session s(engine);
    auto p = s.get<Parent>(pid);
    auto victim = p->children[1];  // lazy load
    CHECK(p->children.remove(victim));
    s.commit();
  }
  CHECK(count_rows(engine, "orm_children") == 2);
  {
    Session s(engine);
    auto p = s.get<Parent>(pid);  // children not loaded: delete loads them first
    s.delete_(p);
    s.commit();
  }
  CHECK(count_rows(engine, "orm_children") == 0);
  CHECK(count_rows(engine, "orm_parents") == 0);
}

TEST_CASE("a read-only session sends no UPDATE after a field is changed", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::int64_t id = 0;
  {
    Session s(engine);
    auto a = std::make_shared<Author>();
    a->name = "orig";
    s.add(a);
    s.commit();
    id = a->id;
  }
  Transcript t(engine);
  {
    SessionOptions o;
    o.read_only = true;
    Session s(engine, o);
    auto a = s.get<Author>(id);
    a->name = "changed";
    s.flush();
    s.commit();
    CHECK_THROWS_AS(s.add(std::make_shared<Author>()), UsageError);
  }
  CHECK(Transcript::count(t.take(), "UPDATE") == 0);
  Session check(engine);
  CHECK(check.get<Author>(id)->name == "orig");
  if (test::is_postgres()) {
    // On PostgreSQL the transaction itself is READ ONLY: even hand-written SQL cannot write.
    SessionOptions o;
    o.read_only = true;
    Session s(engine, o);
    try {
      s.execute(text("UPDATE orm_authors SET name = 'x'"));
      FAIL("expected the server to refuse a write in a read-only transaction");
    } catch (const Error& e) {
      CHECK(e.sqlstate() == "25006");
    }
  }
}

TEST_CASE("a session's isolation level applies to its transactions", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  SessionOptions o;
  o.isolation_level = IsolationLevel::serializable;
  Session s(engine, o);
  CHECK(s.connection().isolation_level() == IsolationLevel::serializable);
  if (test::is_postgres())
    CHECK(s.execute(text("SHOW transaction_isolation")).scalar_one<std::string>() == "serializable");
}

TEST_CASE("an object outliving its closed session reports a detached lazy load", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::shared_ptr<Author> a;
  {
    Session s(engine);
    a = std::make_shared<Author>();
    a->name = "x";
    s.add(a);
    s.commit();
    s.expunge(a);
    Session s2(engine);
    a = s2.get<Author>(a->id);
  }
  try {
    (void)a->books.size();
    FAIL("expected LazyLoadError");
  } catch (const LazyLoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("detached"));
  }
}

TEST_CASE("sessions one after another each lazy-load their own objects; an older one's objects stay detached",
          "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  const std::int64_t id = author_with_books(engine, 2);
  QueryCounter q(engine);
  // A session whose objects are all gone before it ends hands its relationship hooks to the
  // next session on the thread: they must load through that session.
  for (int round = 0; round < 3; ++round) {
    Session s(engine);
    auto a = s.get<Author>(id);
    q.take();
    CHECK(a->books.size() == 2);
    CHECK(q.take() == 1);
  }
  // One whose object outlives it keeps its hooks: the object reports detached, and the next
  // session still loads its own.
  std::shared_ptr<Author> old;
  {
    Session s(engine);
    old = s.get<Author>(id);
  }
  Session s(engine);
  auto a = s.get<Author>(id);
  CHECK(a != old);
  q.take();
  try {
    (void)old->books.size();
    FAIL("expected LazyLoadError");
  } catch (const LazyLoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("detached"));
  }
  CHECK(q.take() == 0);
  CHECK(a->books.size() == 2);
  CHECK(q.take() == 1);
}

TEST_CASE("a copy of a loaded object does not lazy-load through the original's session", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  const std::int64_t id = author_with_books(engine, 1);
  QueryCounter q(engine);
  Session s(engine);
  auto a = s.get<Author>(id);
  q.take();
  Author copy = *a;  // its holder still carries the session's hook
  try {
    (void)copy.books.size();
    FAIL("expected LazyLoadError");
  } catch (const LazyLoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("copy"));
  }
  CHECK(q.take() == 0);
  CHECK(a->books.size() == 1);  // the original still loads lazily, with one query
  CHECK(q.take() == 1);
}

TEST_CASE("rollback expunges objects inserted in the transaction", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  Session s(engine);
  auto a = std::make_shared<Author>();
  a->name = "gone";
  s.add(a);
  s.flush();
  CHECK(a->id != 0);
  s.rollback();
  CHECK(corm::detail::SessionAccess::core(s).state_of(a.get()) == nullptr);
  CHECK(s.get<Author>(a->id) == nullptr);
}

TEST_CASE("expire_on_commit reloads objects on the next query", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  SessionOptions o;
  o.expire_on_commit = true;
  Session s(engine, o);
  auto a = std::make_shared<Author>();
  a->name = "one";
  s.add(a);
  s.commit();
  {
    Connection c = engine.connect();
    c.execute(update<Author>().set(&Author::name, std::string("two")).where(col(&Author::id) == a->id));
    c.commit();
  }
  auto again = s.get<Author>(a->id);  // expired: goes to the database
  CHECK(again == a);
  CHECK(a->name == "two");
  {
    Connection c = engine.connect();
    c.execute(update<Author>().set(&Author::name, std::string("three")).where(col(&Author::id) == a->id));
    c.commit();
  }
  s.commit();
  CHECK(s.get<Author>(a->id)->name == "three");  // expired again at commit
  s.expire(a);                                   // explicit expiry works the same way
  a->name = "unflushed";                         // dropped: an expired object is not dirty-checked
  s.commit();
  CHECK(s.get<Author>(a->id)->name == "three");
}

TEST_CASE("with_for_update refreshes an object already in the identity map", "[orm][transactions]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  {
    Connection c = engine.connect();
    c.execute(insert<Counter>().values(Counter{7, 1}));
    c.commit();
  }
  Session s(engine);
  auto c1 = s.get<Counter>(7);
  s.commit();
  {
    Connection c = engine.connect();
    c.execute(update<Counter>().set(&Counter::value, std::int64_t{5}).where(col(&Counter::id) == std::int64_t{7}));
    c.commit();
  }
  auto locked = s.scalars(select<Counter>().where(col(&Counter::id) == std::int64_t{7}).with_for_update());
  REQUIRE(locked.size() == 1);
  CHECK(locked[0] == c1);
  CHECK(c1->value == 5);
  s.commit();
}

TEST_CASE("an INSERT reads back the key, server defaults and client defaults into the object", "[orm][flush]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  Transcript t(engine);
  auto plain = std::make_shared<Note>();  // title and status unset: a client and a server default
  plain->body = "b1";
  auto given = std::make_shared<Note>();
  given->title = "mine";
  given->status = "final";
  given->body = "b2";
  {
    Session s(engine);
    s.add(plain);
    s.add(given);
    s.flush();
    // The object holds what was inserted and what the database generated.
    CHECK(plain->id > 0);
    CHECK(plain->title == "untitled");
    CHECK(plain->status == "draft");
    CHECK(given->id == plain->id + 1);
    CHECK(given->title == "mine");
    CHECK(given->status == "final");
    CHECK(Transcript::count(t.take(), "INSERT") == 2);  // two column shapes
    // Nothing changed since the INSERT, so a second flush sends nothing.
    s.flush();
    CHECK(t.take().empty());
    s.commit();
  }
  Connection c = engine.connect();
  auto rows = c.exec_driver_sql("SELECT id, title, status, body FROM orm_notes ORDER BY id").all();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].get<std::string>(1) == "untitled");
  CHECK(rows[0].get<std::string>(2) == "draft");
  CHECK(rows[1].get<std::string>(1) == "mine");
  CHECK(rows[1].get<std::string>(2) == "final");
}

TEST_CASE("an INSERT's RETURNING names only what the object does not hold yet", "[orm][flush]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  Transcript t(engine);
  Session s(engine);
  auto n = std::make_shared<Note>();
  n->body = "x";
  s.add(n);
  s.flush();
  const auto sql = t.take();
  REQUIRE(Transcript::count(sql, "INSERT") == 1);
  const std::string& insert = *std::find_if(sql.begin(), sql.end(), [](const std::string& q) { return q.rfind("INSERT", 0) == 0; });
  const auto returning = insert.substr(insert.find("RETURNING"));
  CHECK(returning.find("id") != std::string::npos);
  CHECK(returning.find("status") != std::string::npos);  // server default
  CHECK(returning.find("title") != std::string::npos);   // client default: sent, and read back into the object
  CHECK(returning.find("body") == std::string::npos);    // the object's own value
  CHECK(n->title == "untitled");
  CHECK(n->status == "draft");
  s.rollback();
}

